// The linear probe on the page: the Run panel's method choice offers "head only", the share link carries
// it, and Train runs it to the end under the label "linear probe".
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { openPlayground, setFields, statuses } from '../helpers/playground.ts';

let page: Page | undefined;
afterAll(() => page?.context().close());

describe('the linear probe on the page', () => {
  it('trains the head only when chosen, and labels the run a linear probe', async () => {
    page = await openPlayground();
    await page.locator('#field-method').selectOption({ label: 'head only' });
    await setFields(page, { steps: '3', evalEvery: '3', warmup: '0', batch: '8', valFraction: '0.02' });
    await page.waitForFunction(() => location.hash.includes('method=linear-probe'), null, { timeout: 10_000 });
    await expect(page.getByTestId('compare').textContent()).resolves.toBe('Compare StochCA, fine-tuning and head only');
    await page.getByTestId('train').click();
    await page.waitForFunction(
      () => /^(finished|failed|stopped)/.test(document.querySelector('[data-testid=run-status]')?.textContent ?? ''),
      null,
      { timeout: 300_000, polling: 500 },
    );
    expect(await statuses(page)).toEqual(['finished']);
    const labels = await page.getByTestId('legend').locator('label').allTextContents();
    expect(labels.map((l) => l.trim())).toEqual(['linear probe · seed 0']);
  }, 400_000);
});
