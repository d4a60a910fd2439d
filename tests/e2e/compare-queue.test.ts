// Compare's queue on the page as `npm start` serves it: a double click queues one comparison, and a
// reload during its first run keeps the second queued, to run once the first is resumed and done.
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinsReady, openPlayground, setFields, statuses } from '../helpers/playground.ts';

let page: Page | undefined;
afterAll(() => page?.context().close());

async function untilStatuses(p: Page, want: (s: string[]) => boolean, timeout = 300_000): Promise<string[]> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const s = await statuses(p);
    if (want(s)) return s;
    if (Date.now() > deadline) throw new Error(`statuses stayed ${JSON.stringify(s)}`);
    await p.waitForTimeout(500);
  }
}

describe("Compare's queue", () => {
  it('queues one comparison for a double click, and keeps its second run queued across a reload', async () => {
    page = await openPlayground();
    await setFields(page, { steps: '20', evalEvery: '10', warmup: '0', batch: '8', valFraction: '0.02' });
    await page.getByTestId('compare').dblclick();
    await page.getByTestId('progress').waitFor({ timeout: 60_000 });
    expect(await statuses(page)).toEqual(['running', 'queued']);

    // Past the first checkpoint (step 10), whose record is written at once.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= 12,
      null,
      { timeout: 300_000, polling: 250 },
    );
    await page.reload();
    await builtinsReady(page);
    expect(await statuses(page)).toEqual(['interrupted', 'queued']);
    await page.getByTestId('resume-checkpoint').click();
    expect(await untilStatuses(page, (s) => s.every((x) => x !== 'queued' && x !== 'running'))).toEqual([
      'finished',
      'finished',
    ]);
  }, 600_000);
});
