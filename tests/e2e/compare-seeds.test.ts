// Compare over three seeds on the page as `npm start` serves it, on a short setting: six runs, seed by
// seed, all trained to the end; the charts draw each method's mean in a band, and under the runs table each
// method's mean ± std of its runs' best validation accuracies (checked against the table's own per-run
// values) and the paired StochCA − fine-tuning difference with its interval. Screenshot at 1280×800.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { openPlayground, setFields, statuses, untilStatuses } from '../helpers/playground.ts';

let page: Page | undefined;
afterAll(() => page?.context().close());

/** "71.3 %" → 71.3 */
const percent = (text: string) => Number(/^([\d.]+) %$/.exec(text)![1]);

describe('Compare over seeds', () => {
  it('trains a pair per seed and sums them up: mean ± std per method, the paired difference with its interval', async () => {
    page = await openPlayground();
    await page.setViewportSize({ width: 1280, height: 800 });
    await setFields(page, { steps: '4', evalEvery: '2', warmup: '0', batch: '8', valFraction: '0.02', seed: '3' });
    await expect(page.locator('#field-seeds').inputValue()).resolves.toBe('3');
    await page.waitForFunction(() => location.hash.includes('&seeds=3'), null, { timeout: 10_000 });
    await page.getByTestId('compare').click();
    await page.getByTestId('progress').waitFor({ timeout: 60_000 });
    expect(await statuses(page)).toEqual(['running', 'queued', 'queued', 'queued', 'queued', 'queued']);
    const labels = await page.getByTestId('legend').locator('label').allTextContents();
    expect(labels.map((l) => l.trim())).toEqual([
      'StochCA p=0.1 · seed 3',
      'fine-tuning · seed 3',
      'StochCA p=0.1 · seed 4',
      'fine-tuning · seed 4',
      'StochCA p=0.1 · seed 5',
      'fine-tuning · seed 5',
    ]);
    const done = await untilStatuses(page, (s) => s.every((x) => x !== 'queued' && x !== 'running'), 500_000);
    expect(done).toEqual(Array(6).fill('finished'));

    // Each method's mean ± std over its three runs, from the runs table's per-run values (to 0.1 %).
    const best = (await page.getByTestId('run-best').allTextContents()).map(percent);
    const arms = [0, 1].map((m) => best.filter((_, i) => i % 2 === m));
    const shown = (await page.getByTestId('arm-best').allTextContents()).map((t) => {
      const [, m, s] = /^([\d.]+) ± ([\d.]+) %$/.exec(t)!;
      return [Number(m), Number(s)];
    });
    arms.forEach((xs, m) => {
      const mean = (xs[0] + xs[1] + xs[2]) / 3;
      const sd = Math.sqrt(((xs[0] - mean) ** 2 + (xs[1] - mean) ** 2 + (xs[2] - mean) ** 2) / 2);
      expect(Math.abs(shown[m][0] - mean)).toBeLessThanOrEqual(0.11);
      expect(Math.abs(shown[m][1] - sd)).toBeLessThanOrEqual(0.11);
    });
    await expect(page.getByTestId('arm-seeds').allTextContents()).resolves.toEqual(['3 seeds', '3 seeds']);
    // The pack has a test split: each method's test accuracy too.
    for (const t of await page.getByTestId('arm-test').allTextContents()) expect(t).toMatch(/^[\d.]+ ± [\d.]+ %$/);
    const difference = await page.getByTestId('comparison-difference').textContent();
    const d =
      /best validation ([+−][\d.]+) points \[([+−][\d.]+), ([+−][\d.]+)\], 3 seeds, (\d) above 0: (.*?)(;|$)/.exec(
        difference!,
      );
    expect(d, difference!).not.toBeNull();
    const num = (t: string) => Number(t.replace('−', '-'));
    const diffs = arms[0].map((x, i) => x - arms[1][i]);
    const mean = (diffs[0] + diffs[1] + diffs[2]) / 3;
    expect(Math.abs(num(d![1]) - mean)).toBeLessThanOrEqual(0.11);
    // The interval is t(0.975, 2) = 4.303 standard errors either side of the mean.
    const sd = Math.sqrt(diffs.reduce((a, x) => a + (x - mean) ** 2, 0) / 2);
    expect(Math.abs(num(d![3]) - num(d![2]) - 2 * 4.303 * (sd / Math.sqrt(3)))).toBeLessThanOrEqual(0.8);
    expect(Number(d![4])).toBe(diffs.filter((x) => x > 0).length);
    const low = num(d![2]);
    const high = num(d![3]);
    expect(d![5]).toBe(low > 0 || high < 0 ? 'a difference' : 'no difference shown (the interval holds 0)');

    // The curves: one mean per method, each in its band.
    await page.getByTestId('band-hint').waitFor();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=chart-accuracy] .seed-band').length === 4,
      null,
      { timeout: 10_000 },
    );
    mkdirSync('test-results/screenshots', { recursive: true });
    await page.getByTestId('charts').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/screenshots/compare-seeds-curves.png' });
    mkdirSync('docs/screenshots', { recursive: true });
    // The summary's last line at the bottom of the window, the curves above it.
    await page.getByTestId('comparison-difference').evaluate((e) => e.scrollIntoView({ block: 'end' }));
    await page.screenshot({ path: 'docs/screenshots/compare-seeds.png' });
  }, 600_000);
});
