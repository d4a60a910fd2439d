// What the model sees, in the page as `npm start` serves it: a short Compare on the default built-in model
// and pack (trained once for the file; each test opens a fresh page that starts from what it kept),
// then the mask strip (against drawMask for the run's seed), the predictions gallery
// (against the confusion matrix), the attention maps (pretrained and both runs, real pixels) for a
// gallery image and a dropped one, by mouse and keyboard; screenshots at 1280×800 and 1920×1080.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drawMask } from '../../src/nn/stochca-step.ts';
import { removeTempDirs, tempDir } from '../data/fixtures.ts';
import { keptState, openPlayground, setFields, statuses, type KeptState } from '../helpers/playground.ts';

const SHOTS = 'test-results/screenshots';
const RUN = {
  steps: '6',
  evalEvery: '3',
  warmup: '1',
  batch: '8',
  p: '0.5',
  seed: '11',
  valFraction: '0.02',
  seeds: '1',
};
/** The built-in model's blocks and heads. */
const DEPTH = 4;
const HEADS = 4;

let page: Page;
/** What the Compare left in its page's storage: the runs, their checkpoints and models. */
let compared: KeptState;

/** Trains the Compare in a page of its own, until both runs have finished. */
async function trainCompare(): Promise<KeptState> {
  const setup = await openPlayground();
  try {
    await setup.setViewportSize({ width: 1280, height: 800 });
    await setFields(setup, RUN);
    await setup.getByTestId('compare').click();
    await setup.waitForFunction(() => document.querySelectorAll('[data-testid=mask-share]').length > 0, null, {
      timeout: 300_000,
    });
    await setup.screenshot({ path: `${SHOTS}/insight-training-1280.png` });
    await setup.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid=run-status]')].filter((e) =>
          /^(finished|failed|stopped)/.test(e.textContent ?? ''),
        ).length >= 2,
      null,
      { timeout: 600_000, polling: 500 },
    );
    return await keptState(setup);
  } finally {
    await setup.context().close();
  }
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  compared = await trainCompare();
}, 900_000);

beforeEach(async () => {
  page = await openPlayground({ kept: compared });
  await page.setViewportSize({ width: 1280, height: 800 });
});

afterEach(async () => {
  await page?.context().close();
});

afterAll(removeTempDirs);

/** Distinct colours of each heat-map canvas. */
const heatColours = (p: Page) =>
  p.$$eval('[data-testid=heat-map]', (canvases) =>
    (canvases as HTMLCanvasElement[]).map((c) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return seen.size;
    }),
  );

async function mapsFor(caption: RegExp): Promise<void> {
  await expect.poll(() => page.getByTestId('attention-image').textContent(), { timeout: 30_000 }).toMatch(caption);
  await page.getByTestId('attention-maps').waitFor({ timeout: 300_000 });
}

describe('what the model sees', () => {
  it('shows the masks each step of a short Compare drew', async () => {
    await page.getByTestId('runs').waitFor({ timeout: 60_000 });
    expect(await statuses(page)).toEqual(['finished', 'finished']);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=mask-share]').length > 0, null, {
      timeout: 60_000,
    });

    const strip = page.locator('[data-testid=mask-strip][data-run^="StochCA p=0.5"]');
    const shares = await strip
      .getByTestId('mask-share')
      .evaluateAll((els) =>
        els.map((e) => [Number(e.getAttribute('data-crossed')), Number(e.getAttribute('data-steps'))]),
      );
    const steps = Number(RUN.steps);
    const want = Array.from({ length: DEPTH }, (_, i) => [
      Array.from({ length: steps }, (_, t) => drawMask(Number(RUN.seed), t + 1, DEPTH, 0.5)[i]).filter(Boolean).length,
      steps,
    ]);
    expect(shares).toEqual(want);
    expect(want.some(([n]) => n > 0)).toBe(true);
    await expect(page.locator('[data-testid=mask-strip][data-run^="fine-tuning"]').textContent()).resolves.toMatch(
      /p = 0, no block cross-attends/,
    );
  });

  it("opens the gallery from the confusion matrix's cells, with as many images as each cell counts", async () => {
    await page.getByTestId('run-row').first().click();
    await page.getByTestId('gallery').waitFor();
    const val = Number((await page.getByTestId('run-images').first().textContent())!.split('/')[1]);
    expect(Number(await page.getByTestId('gallery-count').textContent())).toBe(val);
    const cells = await page
      .locator('[data-testid^=cell-]')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-testid')!, Number(e.textContent)] as const));
    expect(cells.reduce((n, [, v]) => n + v, 0)).toBe(val);
    for (const [id, v] of cells.filter(([, v]) => v > 0)) {
      await page.getByTestId(id).getByRole('button').click();
      await expect.poll(() => page.getByTestId('gallery-count').textContent()).toBe(String(v));
      const [i, j] = id.split('-').slice(1).map(Number);
      const shown = await page
        .getByTestId('gallery-item')
        .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-label')} ${e.getAttribute('data-predicted')}`));
      expect(shown).toEqual(new Array(v).fill(`${i} ${j}`));
    }
    // Wrong ones, least confident first: confidences ascend.
    await page.getByTestId('gallery-label').selectOption('');
    await page.getByTestId('gallery-predicted').selectOption('');
    await page.getByTestId('gallery-outcome').selectOption('wrong');
    await page.getByTestId('gallery-order').selectOption('unsure');
    const wrong = cells.filter(([id]) => id.split('-')[1] !== id.split('-')[2]).reduce((n, [, v]) => n + v, 0);
    await expect.poll(() => page.getByTestId('gallery-count').textContent()).toBe(String(wrong));
    const confidences = await page
      .getByTestId('gallery-item')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-confidence'))));
    expect(confidences).toEqual([...confidences].sort((a, b) => a - b));
    await page.getByTestId('gallery-outcome').selectOption('all');
    await page.getByTestId('gallery-order').selectOption('confident');
  });

  it('shows the attention maps of the pretrained model and both runs, for a dropped image and a gallery one', async () => {
    await page.getByTestId('run-row').first().click();
    await mapsFor(/\.png/);
    await expect(page.getByTestId('attention-row').count()).resolves.toBe(3);
    const colours = await heatColours(page);
    expect(colours).toHaveLength(3 * (2 + HEADS));
    expect(Math.min(...colours)).toBeGreaterThan(1);
    await expect(page.getByTestId('attention-prediction').count()).resolves.toBe(2);

    // The block slider by keyboard: the last block's maps differ from the first's.
    const first = await page.$$eval('[data-testid=heat-map]', (cs) =>
      (cs as HTMLCanvasElement[]).map((c) => c.toDataURL()),
    );
    await page.getByTestId('attention-block').focus();
    await page.keyboard.press('End');
    await expect
      .poll(() => page.$$eval('[data-testid=heat-map]', (cs) => (cs as HTMLCanvasElement[]).map((c) => c.toDataURL())))
      .not.toEqual(first);
    await expect(page.getByTestId('attention').textContent()).resolves.toContain(`${DEPTH} of ${DEPTH}`);

    // A dropped image (a bright square on black), taken at the models' 28 px.
    const px = new Uint8Array(40 * 40).map((_, k) =>
      Math.abs((k % 40) - 26) < 8 && Math.abs(Math.floor(k / 40) - 12) < 8 ? 255 : 0,
    );
    const file = join(await tempDir(), 'square.png');
    await sharp(px, { raw: { width: 40, height: 40, channels: 1 } })
      .png()
      .toFile(file);
    await page.setInputFiles('[data-testid=attention-drop-file]', file);
    await mapsFor(/^square\.png$/);
    expect(Math.min(...(await heatColours(page)))).toBeGreaterThan(1);

    // A gallery image, chosen with the keyboard, opens its maps.
    const item = page.getByTestId('gallery-item').nth(1);
    const path = (await item.getAttribute('aria-label'))!.split(':')[0];
    await item.focus();
    await page.keyboard.press('Enter');
    await mapsFor(new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await page.getByTestId('attention').screenshot({ path: `${SHOTS}/insight-attention.png` });
    await page.getByTestId('gallery').screenshot({ path: `${SHOTS}/insight-gallery.png` });
  });

  it('lays the page out around the curves, at 1280×800 and 1920×1080', async () => {
    await page.getByTestId('attention-maps').waitFor({ timeout: 300_000 });
    for (const [width, height] of [
      [1920, 1080],
      [1280, 800],
    ]) {
      await page.setViewportSize({ width, height });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(500); // the charts follow their container's new width
      const curves = (await page.getByTestId('charts').boundingBox())!;
      const maps = (await page.getByTestId('attention').boundingBox())!;
      const loss = (await page.getByTestId('chart-loss').boundingBox())!;
      // The curves at the top, the loss chart large, the maps starting in the first screen.
      expect(curves.y).toBeLessThan(120);
      expect(loss.width).toBeGreaterThan(500);
      expect(loss.height).toBeGreaterThan(270);
      expect(maps.y).toBeLessThan(height * 0.9);
      // At 1920 the maps stand beside the curves.
      if (width === 1920) expect(maps.x).toBeGreaterThan(curves.x + curves.width - 1);
      await page.screenshot({ path: `${SHOTS}/insight-${width}.png` });
      await page.screenshot({ path: `${SHOTS}/insight-${width}-full.png`, fullPage: true });
    }
    // At 1280×800, scrolled to the loss chart: the curves, the masks and the maps in one screen.
    await page.getByTestId('chart-loss').evaluate((e) => e.scrollIntoView());
    expect((await page.getByTestId('attention-maps').boundingBox())!.y).toBeLessThan(800 - 96);
    await page.screenshot({ path: `${SHOTS}/insight-1280-curves-maps.png` });
  });
});
