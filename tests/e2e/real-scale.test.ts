// The playground (the production build `npm start` serves) at real scale: a ViT-Ti/16 checkpoint
// at 224 px picked in the model panel, a folder of 256×256 JPEGs in the data panel, two StochCA
// steps at p = 0.5 in the training worker; the loss falls and the page's main thread stays free
// meanwhile. The same run as tests/cli/real-scale.test.ts, through the page.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../src/node/chromium.ts';
import { removeTempDirs, tempDir } from '../data/fixtures.ts';
import { lowerGpuProcessPriority, openPage } from '../helpers/browser.ts';
import { setFields, statuses, watchLongTasks } from '../helpers/playground.ts';
import { initVitTi16, mnistPhotos } from '../helpers/real-scale.ts';

let browser: Browser;
let page: Page;
let model: string;
let data: string;

beforeAll(async () => {
  const dir = await tempDir();
  [model, data] = await Promise.all([initVitTi16(dir), mnistPhotos(['0', '1'], 2)]);
  // Its own browser, whose GPU process the long-task measurement lowers in priority.
  browser = await launchChromium();
  page = await openPage('/', { init: watchLongTasks, app: true, browser });
});

afterAll(async () => {
  await browser?.close();
  await removeTempDirs();
});

describe('the playground at real scale', () => {
  it('fine-tunes a picked ViT-Ti/16 at 224 px with StochCA on a picked folder of JPEGs, the page responsive', async () => {
    await page.setInputFiles('[data-testid=model-drop-file]', model);
    await expect
      .poll(() => page.getByTestId('model-name').textContent(), { timeout: 60_000 })
      .toBe('vit-ti16-224.safetensors');
    await page.setInputFiles('[data-testid=data-drop-folder]', data);
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('digits');
    await expect(page.getByTestId('data-classes').textContent()).resolves.toBe('2');
    // The settings of tests/cli/real-scale.test.ts: both training images in every batch, no augmentation.
    await setFields(page, {
      p: '0.5',
      lr: '0.00001',
      batch: '2',
      steps: '2',
      warmup: '0',
      weightDecay: '0',
      valFraction: '0.5',
      evalEvery: '2',
      seed: '0',
    });
    await page.selectOption('#field-crop', 'none');
    await expect(page.getByTestId('model-memory').textContent()).resolves.toMatch(
      /MiB of GPU memory for this run \(batch 2, with the frozen teacher\)/,
    );

    if (process.platform === 'linux') expect(await lowerGpuProcessPriority(browser)).toBeGreaterThan(0);
    await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks = []));
    await page.getByTestId('train').click();
    await page.waitForFunction(
      () => /^(finished|failed|stopped)/.test(document.querySelector('[data-testid=run-status]')?.textContent ?? ''),
      null,
      {
        timeout: 300_000,
        polling: 500,
      },
    );
    expect(await statuses(page)).toEqual(['finished']);
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    console.log(
      `main-thread long tasks while training ViT-Ti/16: ${longTasks.length}, longest ${Math.max(0, ...longTasks).toFixed(0)} ms`,
    );
    // SwiftShader's threads run below the page (lowerGpuProcessPriority), as a real GPU would not use the CPU.
    // The longest task is the page rendering the finished run (51–77 ms measured here, with no other test
    // file beside it: vitest.config.ts); the bound leaves room above the playground test's 100 ms.
    expect(Math.max(0, ...longTasks)).toBeLessThan(200);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const rows = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((r) => r.split(','));
    const column = (name: string) => rows[0].indexOf(name);
    const losses = rows.filter((r) => r[column('split')] === 'train').map((r) => Number(r[column('loss')]));
    console.log(`ViT-Ti/16 224 px in the page, batch 2: losses ${losses.map((l) => l.toFixed(4)).join(' ')}`);
    expect(losses).toHaveLength(2);
    expect(losses[1], losses.join(' ')).toBeLessThan(losses[0]);
  });
});
