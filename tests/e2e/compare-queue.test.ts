// Compare's queue on the page as `npm start` serves it, over two seeds: a double click queues one
// comparison (a pair per seed, seed by seed), and a reload during its first run keeps the others queued,
// to run in order, each to the end, once the first is resumed from its checkpoint.
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinsReady, openPlayground, setFields, statuses, untilStatuses } from '../helpers/playground.ts';

let page: Page | undefined;
afterAll(() => page?.context().close());

/** Runs finish one after another in the table's order: some finished, then at most one running, then queued;
 *  or, polled before Resume's click has reached the store, the state the reload left. */
const inOrder = (s: string[]) =>
  /^(finished,)*(running,)?(queued,)*$/.test(`${s.join(',')},`) || s.join() === 'interrupted,queued,queued,queued';

describe("Compare's queue", () => {
  it('queues one comparison for a double click, and keeps its queued runs across a reload, then trains them in order', async () => {
    page = await openPlayground();
    await setFields(page, { steps: '12', evalEvery: '6', warmup: '0', batch: '8', valFraction: '0.02', seeds: '2' });
    await page.getByTestId('compare').dblclick();
    await page.getByTestId('progress').waitFor({ timeout: 60_000 });
    expect(await statuses(page)).toEqual(['running', 'queued', 'queued', 'queued']);
    const labels = await page.getByTestId('legend').locator('label').allTextContents();
    expect(labels.map((l) => l.trim())).toEqual([
      'StochCA p=0.1 · seed 0',
      'fine-tuning · seed 0',
      'StochCA p=0.1 · seed 1',
      'fine-tuning · seed 1',
    ]);

    // Past the first checkpoint (step 6), whose record is written at once.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= 8,
      null,
      { timeout: 300_000, polling: 250 },
    );
    await page.reload();
    await builtinsReady(page);
    expect(await statuses(page)).toEqual(['interrupted', 'queued', 'queued', 'queued']);
    await expect(page.getByTestId('resume-checkpoint').textContent()).resolves.toBe('Resume from step 6');
    await page.getByTestId('resume-checkpoint').click();
    const order: string[][] = [];
    const done = await untilStatuses(
      page,
      (s) => s.every((x) => x !== 'queued' && x !== 'running'),
      400_000,
      (s) => order.push(s),
    );
    expect(done).toEqual(['finished', 'finished', 'finished', 'finished']);
    expect(order.filter((s) => !inOrder(s))).toEqual([]);
    // 'finished': each trained to its last step (a run stopped early says 'stopped').
    await expect(page.getByTestId('arm-seeds').allTextContents()).resolves.toEqual(['2 seeds', '2 seeds']);
  }, 600_000);
});
