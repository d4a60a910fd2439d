// DINOv2 with registers from the Hub, on the command line and in the page: `stochca train --model
// hub:facebook/dinov2-with-registers-small --data pack:mnist --image-size 224 --batch 2` and the same
// settings in the playground, each fetching the model from the loopback Hub mirror, train the same steps:
// the same masks and losses. The mirror serves the entry's names, shapes and config.json at 2 of its 12
// blocks (num_hidden_layers 2), so that a 224 px step takes seconds on SwiftShader rather than 47 s; the
// whole 84 MiB file trains the same way (docs/model-zoo.md). Validation is off and each run is stopped
// after its second of 20 steps: a run that finishes scores the pack's 1,000 test images at 224 px.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zooEntry } from '../../src/checkpoint/zoo.ts';
import { stochcaWithEnv } from '../helpers/cli.ts';
import { startHubMirror, type HubMirror } from '../helpers/hub-mirror.ts';
import { downloaded, openPlayground, setFields, statuses } from '../helpers/playground.ts';
import { shallower, zooFixture } from '../helpers/zoo-files.ts';

const entry = zooEntry('facebook/dinov2-with-registers-small');
const DEPTH = 2;
const STEPS_RUN = 2;
const dir = mkdtempSync(join(tmpdir(), 'stochca-hub-dinov2-'));

let mirror: HubMirror;
let page: Page | undefined;

beforeAll(async () => {
  mirror = await startHubMirror({}, { [entry.repo]: shallower(zooFixture(entry.repo), DEPTH) });
});
afterAll(async () => {
  await page?.context().close();
  await mirror?.close();
});

interface Step {
  step: number;
  loss: number;
  mask: string;
}

async function onTheCommandLine(): Promise<{ train: Step[]; settings: unknown; config: Record<string, unknown> }> {
  const out = join(dir, 'cli');
  const r = await stochcaWithEnv(
    { STOCHCA_HUB: mirror.base, STOCHCA_CACHE: join(dir, 'cache') },
    ...['train', '--model', `hub:${entry.repo}`, '--data', 'pack:mnist', '--image-size', '224', '--batch', '2'],
    ...['--steps', '20', '--warmup', '2', '--eval-every', '10', '--val-fraction', '0'],
    ...['--stop-after', String(STEPS_RUN), '--out', out],
  );
  expect(r.code, r.stderr).toBe(0);
  const { settings, config } = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  return { train: JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8')).train, settings, config };
}

async function inThePage(p: Page): Promise<{ train: Step[]; settings: unknown }> {
  await p.getByTestId('hub-address').fill(mirror.base);
  await p.getByTestId(`zoo-load-${entry.repo}`).click();
  await expect.poll(() => p.getByTestId('model-name').textContent(), { timeout: 120_000 }).toBe(entry.name);
  await p.getByTestId('data-panel').getByRole('button', { name: 'MNIST digits', exact: true }).click();
  await expect.poll(() => p.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('MNIST digits');
  await setFields(p, { imageSize: '224', batch: '2', steps: '20', warmup: '2', evalEvery: '10', valFraction: '0' });
  await p.getByTestId('train').click();
  await p.waitForFunction(
    (n) => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= n,
    STEPS_RUN,
    { timeout: 240_000, polling: 200 },
  );
  await p.getByTestId('stop').click();
  await p.waitForFunction(
    () => /^stopped/.test(document.querySelector('[data-testid=run-status]')?.textContent ?? ''),
    null,
    { timeout: 120_000, polling: 200 },
  );
  await expect(statuses(p)).resolves.toEqual(['stopped']);
  const [run] = JSON.parse((await downloaded(p, 'export-json')).toString('utf8'));
  return run;
}

describe('DINOv2 with registers from the Hub', () => {
  it('trains on the MNIST pack at 224 px on the command line and in the page: the same masks and losses', async () => {
    const cli = await onTheCommandLine();
    expect(cli.config).toMatchObject({ depth: DEPTH, registers: 4, layerScale: true, patchSize: 14, imageSize: 224 });
    expect(cli.train.map((s) => s.step)).toEqual([1, 2]);
    // StochCA at the default p = 0.1 and seed 0 cross-attends to the teacher in block 0 at both steps.
    expect(cli.train.map((s) => s.mask)).toEqual(['10', '10']);

    page = await openPlayground();
    const run = await inThePage(page);
    expect(run.settings).toEqual(cli.settings);
    // The Stop may land after a third step: the steps both ran are compared.
    const ran = run.train.slice(0, STEPS_RUN);
    expect(ran.map((s) => s.mask)).toEqual(cli.train.map((s) => s.mask));
    const relative = Math.max(...ran.map((s, i) => Math.abs(s.loss - cli.train[i].loss) / Math.abs(cli.train[i].loss)));
    console.log(
      `${entry.repo} at ${DEPTH} blocks, 224 px: losses ${cli.train.map((s) => s.loss).join(', ')} on the command ` +
        `line, ${ran.map((s) => s.loss).join(', ')} in the page (at most ${relative.toExponential(1)} apart)`,
    );
    expect(relative).toBeLessThan(1e-5);
  }, 600_000);
});
