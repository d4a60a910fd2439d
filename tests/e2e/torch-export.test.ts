// The page and PyTorch: "Export for PyTorch" gives a zip whose script trains here on the exported split,
// "Import run" takes its output folder into the runs table and the charts, marked with where it ran, and
// its model exports back as it was written. Skipped, saying so, where python3-torch is not installed.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage } from '../helpers/browser.ts';
import { downloaded, setFields, statuses } from '../helpers/playground.ts';
import { python, torchMissing } from '../helpers/torch.ts';

const SHOTS = 'test-results/screenshots';
const dir = mkdtempSync(join(tmpdir(), 'stochca-torch-e2e-'));
let page: Page;

describe.skipIf(torchMissing !== '')(`the page and PyTorch${torchMissing}`, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // The Fashion-MNIST model on the MNIST pack, named by the link: the split and counts below are MNIST's.
    page = await openPage('/#v=1&model=builtin:vit-fmnist&data=pack:mnist', { app: true });
  });
  afterAll(async () => {
    await page?.context().close();
  });

  it('exports the experiment for PyTorch, trains it with the script, imports the run and exports its model back', async () => {
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('MNIST digits');
    await page.waitForFunction(
      () => !(document.querySelector('[data-testid=export-torch]') as HTMLButtonElement | null)?.disabled,
      null,
      { timeout: 60_000 },
    );
    await setFields(page, {
      p: '0.5',
      steps: '2',
      evalEvery: '1',
      warmup: '1',
      batch: '16',
      valFraction: '0.02',
      seed: '5',
    });

    const zip = unzipSync(new Uint8Array(await downloaded(page, 'export-torch')));
    expect(Object.keys(zip).sort()).toEqual(
      ['README.md', 'experiment.json', 'model.safetensors', 'split.json', 'train.py'].map((n) => `stochca-torch/${n}`),
    );
    for (const [name, bytes] of Object.entries(zip)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    const experiment = JSON.parse(readFileSync(join(dir, 'stochca-torch/experiment.json'), 'utf8'));
    expect(experiment).toMatchObject({
      model: { kind: 'builtin', id: 'vit-fmnist' },
      data: { kind: 'pack', id: 'mnist' },
      p: 0.5,
      steps: 2,
      seed: 5,
    });
    const split = JSON.parse(readFileSync(join(dir, 'stochca-torch/split.json'), 'utf8'));
    expect([split.train.length + split.val.length, split.test.length]).toEqual([3000, 1000]);

    const out = join(dir, 'run');
    const r = await python([
      join(dir, 'stochca-torch/train.py'),
      '--data-root',
      'public/packs/mnist.zip',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ steps: 2, reason: 'finished' });
    console.log(
      `the exported script: 2 steps of batch 16, 2 validations of ${split.val.length} images and the test split in ${r.seconds.toFixed(1)} s`,
    );

    // The exported folder is not a run's output: refused in words, nothing added.
    await page.setInputFiles('[data-testid=import-run-folder]', join(dir, 'stochca-torch'));
    await expect
      .poll(() => page.getByTestId('notices').textContent(), { timeout: 10_000 })
      .toContain('Cannot import the run: there is no config.json.');
    await page.setInputFiles('[data-testid=import-run-folder]', out);
    const row = page.getByTestId('run-row').filter({ hasText: 'PyTorch' });
    await row.waitFor({ timeout: 30_000 });
    expect(await statuses(page)).toEqual(['finished']);
    await expect(row.getByTestId('run-external').textContent()).resolves.toBe(
      `external: PyTorch on ${hostname()} (${summary.device})`,
    );
    await expect(row.getByTestId('run-best').textContent()).resolves.toBe(
      `${(100 * summary.best_val_accuracy).toFixed(1)} %`,
    );
    await expect(row.getByTestId('run-test').textContent()).resolves.toMatch(/^\d+\.\d % \/ \d+\.\d %$/);
    // Its curves: the training line and the validation points of both evaluations.
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=chart-accuracy] .recharts-dot').length === 2,
      null,
      { timeout: 10_000 },
    );
    await expect(page.getByTestId('legend').textContent()).resolves.toContain('StochCA p=0.5 · seed 5 · PyTorch');
    await page.screenshot({ path: `${SHOTS}/imported-run.png`, fullPage: true });

    await row.click();
    expect((await downloaded(page, 'export-safetensors')).equals(readFileSync(join(out, 'model.safetensors')))).toBe(
      true,
    );
  }, 300_000);
});
