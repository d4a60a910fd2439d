// One run, two front ends: the page's training worker resumes a stopped run bit for bit, and a share
// link's experiment, exported from the page as experiment.json and given to `stochca train`, is the
// same run on the command line (same split, same masks, same first-step loss).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { completeExperiment } from '../../src/train/settings.ts';
import { mnistSubset } from '../data/fixtures.ts';
import { openPage } from '../helpers/browser.ts';
import { stochca } from '../helpers/cli.ts';
import { downloaded, statuses } from '../helpers/playground.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-same-run-'));
const pages: Page[] = [];
afterAll(async () => {
  for (const p of pages) await p.context().close();
});

describe("the page's worker", () => {
  it('resumes a stopped run bit for bit: 3 steps, stop, resume from the checkpoint, 3 steps give the losses of 6 straight', async () => {
    const page = await openPage('/tests/browser/training-worker.html');
    pages.push(page);
    const zip = Buffer.from(await (await mnistSubset(12, 4)).arrayBuffer()).toString('base64');
    await page.waitForFunction(() => typeof window.runInWorker === 'function');
    // StochCA at p = 0.5 with random crops and flips: the masks and images after the resume must be the straight run's.
    const {
      model: _m,
      data: _d,
      ...settings
    } = completeExperiment({
      p: 0.5,
      steps: 6,
      batch: 8,
      lr: 3e-3,
      warmup: 2,
      evalEvery: 2,
      valFraction: 0.2,
      crop: 'random-resized',
      flip: true,
      clip: 1,
      seed: 4,
    });
    const straight = await page.evaluate(
      ({ settings, zip }) => window.runInWorker({ runId: 'straight', settings, zip }),
      { settings, zip },
    );
    expect(straight.errors).toEqual([]);
    expect(straight.done.reason).toBe('finished');
    const first = await page.evaluate(
      ({ settings, zip }) => window.runInWorker({ runId: 'resumed', settings, zip, stopAfter: 3 }),
      { settings, zip },
    );
    expect(first.done.reason).toBe('stopped');
    expect(first.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    const best = first.evals.reduce((a, e) => (e.accuracy > a.accuracy ? e : a));
    const second = await page.evaluate(
      ({ settings, zip, best }) =>
        window.runInWorker({
          runId: 'resumed',
          settings,
          zip,
          resume: { step: 3, best: { ...best, count: 0 }, seconds: 1 },
        }),
      { settings, zip, best },
    );
    expect(second.errors).toEqual([]);
    expect(second.done.reason).toBe('finished');
    const resumed = [...first.steps, ...second.steps];
    expect(resumed.map((s) => s.loss)).toEqual(straight.steps.map((s) => s.loss));
    expect(resumed.map((s) => s.mask)).toEqual(straight.steps.map((s) => s.mask));
    expect(resumed.some((s) => s.mask.includes('1'))).toBe(true);
    expect([...first.evals, ...second.evals].map((e) => e.accuracy)).toEqual(straight.evals.map((e) => e.accuracy));
    expect(second.done.test).toEqual(straight.done.test);
    // A resume that names another step than the checkpoint holds is refused, not trained.
    const wrong = await page.evaluate(
      ({ settings, zip }) =>
        window.runInWorker({
          runId: 'resumed',
          settings,
          zip,
          resume: { step: 2, seconds: 0 },
        }),
      { settings, zip },
    );
    expect(wrong.done.reason).toBe('failed');
    expect(wrong.errors[0]).toMatch(/holds step 6, not step 2/);
  });
});

describe('a share link on the command line', () => {
  it("gives the page's experiment.json to stochca train: same split, same masks, same first-step loss", async () => {
    const link =
      '/#v=1&model=builtin:vit-fmnist&data=pack:mnist&method=stochca&p=0.5&lr=0.002&batch=16&steps=2&warmup=1&every=2&frac=0.5&val=0.05&crop=random&flip=true&clip=1&wdx=true&seed=11';
    const page = await openPage(link, { app: true });
    pages.push(page);
    await page.getByTestId('compare').waitFor();
    await page.waitForFunction(
      () => !(document.querySelector('[data-testid=train]') as HTMLButtonElement | null)?.disabled,
      null,
      { timeout: 60_000 },
    );
    const experiment = JSON.parse((await downloaded(page, 'export-experiment')).toString('utf8'));
    expect(experiment).toMatchObject({
      p: 0.5,
      steps: 2,
      fraction: 0.5,
      clip: 1,
      wdExempt: true,
      flip: true,
      seed: 11,
    });
    await page.getByTestId('train').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=run-status]')?.textContent?.startsWith('finished'),
      null,
      { timeout: 300_000, polling: 500 },
    );
    expect(await statuses(page)).toEqual(['finished']);
    const [run] = JSON.parse((await downloaded(page, 'export-json')).toString('utf8'));
    // The pack has a test split: scored once the run finished, shown in the runs table.
    expect(run.test.final.count).toBe(1000);
    await expect(page.getByTestId('run-test').textContent()).resolves.toMatch(/^\d+\.\d % \/ \d+\.\d %$/);

    const expPath = join(dir, 'experiment.json');
    writeFileSync(expPath, JSON.stringify(experiment));
    const out = join(dir, 'cli-run');
    const r = await stochca('train', '--experiment', expPath, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const cli = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'));
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.counts).toEqual(run.counts);
    expect(cli.train.map((s: { mask: string }) => s.mask)).toEqual(run.train.map((s: { mask: string }) => s.mask));
    console.log(`first-step loss: page ${run.train[0].loss}, command line ${cli.train[0].loss}`);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).final_test_accuracy).toBe(run.test.final.accuracy);
    expect(Math.abs(cli.train[0].loss - run.train[0].loss)).toBeLessThan(1e-5 * Math.abs(run.train[0].loss));
  });
});
