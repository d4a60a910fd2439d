// The model panel fits the setup column on wide screens: the model zoo's list, each of its Fetch
// buttons included, lies inside the panel and the column, with nothing hidden behind a scroll bar.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openPage } from '../helpers/browser.ts';

const SHOTS = 'test-results/screenshots';

type Box = { x: number; y: number; width: number; height: number };
/** Whether `inner` lies across `outer` (half a pixel of rounding allowed). */
const within = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.5 && inner.x + inner.width <= outer.x + outer.width + 0.5;

describe('the model panel', () => {
  it.each([
    [1280, 800],
    [1920, 1080],
  ])('fits its column at %i×%i px', async (width, height) => {
    const page = await openPage('/');
    await page.setViewportSize({ width, height });
    const zoo = page.getByTestId('zoo-panel');
    await zoo.waitFor({ timeout: 60_000 });
    const panel = page.locator('.panel', { has: zoo });
    const [panelBox, columnBox, listBox] = await Promise.all([
      panel.boundingBox(),
      page.locator('.setup').boundingBox(),
      zoo.locator('table').boundingBox(),
    ]);
    expect(within(panelBox!, columnBox!)).toBe(true);
    expect(within(listBox!, panelBox!), JSON.stringify({ listBox, panelBox })).toBe(true);
    const buttons = await zoo.locator('[data-testid^="zoo-load-"]').all();
    expect(buttons.length).toBeGreaterThan(0);
    for (const b of buttons) expect(within((await b.boundingBox())!, panelBox!)).toBe(true);
    // Nothing of the zoo is reachable only by scrolling sideways.
    expect(await zoo.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
    mkdirSync(SHOTS, { recursive: true });
    // The window at this size, the zoo at its top: the column beside the results.
    await zoo.evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: `${SHOTS}/model-panel-${width}.png` });
    await page.context().close();
  });
});
