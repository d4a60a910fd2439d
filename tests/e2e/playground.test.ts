// The playground as a person uses it (the production build `npm start` serves), in headless
// Chromium: drop a folder, train, compare StochCA with fine-tuning, reload, export, share. Each test
// opens a fresh page and makes the runs it needs. Screenshots of each state go to test-results/screenshots.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { launchChromium } from '../../src/node/chromium.ts';
import { makeFolder, makeZip, removeTempDirs, tempDir, type Files } from '../data/fixtures.ts';
import { lowerGpuProcessPriority, openPage } from '../helpers/browser.ts';
import {
  downloaded,
  keptRuns,
  openPlayground,
  setFields,
  statuses,
  untilStored,
  watchLongTasks,
} from '../helpers/playground.ts';
import { evalPoint, runRecord, trainPoint } from '../helpers/run-records.ts';

const SHOTS = 'test-results/screenshots';
const CLASSES = ['circle', 'square', 'stripes'];
const PER_CLASS = 12;

/** shapes/<class>/<i>.png: 28×28 grayscale drawings that a small ViT can tell apart. */
async function shapes(): Promise<Files> {
  const files: Files = {};
  for (const [c, name] of CLASSES.entries()) {
    for (let i = 0; i < PER_CLASS; i++) {
      const px = new Uint8Array(28 * 28);
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const dx = x - 14 + (i % 3);
          const dy = y - 14 + (i % 4);
          const on =
            c === 0 ? dx * dx + dy * dy < 64 + 4 * i : c === 1 ? Math.abs(dx) < 7 && Math.abs(dy) < 7 : (x + i) % 6 < 3;
          px[y * 28 + x] = on ? 255 : 0;
        }
      }
      files[`shapes/${name}/${i}.png`] = new Uint8Array(
        await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
          .png()
          .toBuffer(),
      );
    }
  }
  return files;
}

async function waitForRuns(page: Page, finished: number) {
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll('[data-testid=run-status]')].filter((e) =>
        /^(finished|failed|stopped)/.test(e.textContent ?? ''),
      ).length >= n,
    finished,
    { timeout: 400_000, polling: 500 },
  );
}

let browser: Browser;
let page: Page;
let files: Files;
let folder: string;
const TRAIN = { steps: '9', evalEvery: '3', warmup: '1', batch: '8', seed: '7', seeds: '1' };

/** Picks the shapes folder in the dataset panel, and sets the run fields to TRAIN. */
async function pickShapes(): Promise<void> {
  await page.setInputFiles('[data-testid=data-drop-folder]', folder);
  await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('shapes');
  await setFields(page, TRAIN);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  files = await shapes();
  folder = join(await makeFolder(files), 'shapes');
  // Its own browser, whose GPU process the long-task measurement lowers in priority.
  browser = await launchChromium();
});

beforeEach(async () => {
  page = await openPlayground({ init: watchLongTasks, browser });
});

afterEach(async () => {
  await page?.context().close();
});

afterAll(async () => {
  await browser?.close();
  await removeTempDirs();
});

describe('the playground', () => {
  it('opens with the built-in model and dataset ready', async () => {
    await expect.poll(() => page.getByTestId('model-name').textContent(), { timeout: 60_000 }).toMatch(/built in/);
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('OpenCV digits');
    // The pack's own val/ folder: its validation images are its own, none drawn from train/.
    await expect(page.getByTestId('data-info').locator('p').first().textContent()).resolves.toBe(
      'OpenCV digits: 10 classes, 50 training, 200 validation, 1000 test images',
    );
    await expect(page.getByTestId('compare').isEnabled()).resolves.toBe(true);
    await page.screenshot({ path: `${SHOTS}/start.png`, fullPage: true });
  });

  it('offers both built-in models: the digits model by default, the Fashion-MNIST one a click away', async () => {
    const name = () => page.getByTestId('model-name').textContent({ timeout: 60_000 });
    await expect.poll(name, { timeout: 60_000 }).toBe('ViT pretrained on MNIST (built in)');
    await page.getByRole('button', { name: 'ViT pretrained on Fashion-MNIST (built in)' }).click();
    await expect.poll(name, { timeout: 60_000 }).toBe('ViT pretrained on Fashion-MNIST (built in)');
    await page.getByRole('button', { name: 'ViT pretrained on MNIST (built in)' }).click();
    await expect.poll(name, { timeout: 60_000 }).toBe('ViT pretrained on MNIST (built in)');
  });

  it('reads a zip dropped onto the page (CDP drag events with a real file)', async () => {
    const zipPath = join(await tempDir(), 'shapes.zip');
    writeFileSync(zipPath, new Uint8Array(await (await makeZip(files)).arrayBuffer()));
    // Drag events land at viewport coordinates: the drop zone must be on screen.
    await page.getByTestId('data-drop').scrollIntoViewIfNeeded();
    const box = (await page.getByTestId('data-drop').boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const data = { items: [], files: [zipPath], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const)
      await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('shapes.zip');
    await expect(page.getByTestId('data-classes').textContent()).resolves.toBe('3');
    await expect(page.getByTestId('data-train-count').textContent()).resolves.toBe(String(3 * PER_CLASS));
  });

  it('trains on a picked folder, with validation points on the chart and a responsive main thread', async () => {
    await pickShapes();
    await expect(page.getByTestId('data-classes').textContent()).resolves.toBe('3');
    await expect(page.getByTestId('data-train-count').textContent()).resolves.toBe(String(3 * PER_CLASS));
    if (process.platform === 'linux') expect(await lowerGpuProcessPriority(browser)).toBeGreaterThan(0);
    await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks = []));
    await page.getByTestId('train').click();
    await page.getByTestId('progress').waitFor({ timeout: 60_000 });
    await page.screenshot({ path: `${SHOTS}/training.png`, fullPage: true });
    await waitForRuns(page, 1);
    expect(await statuses(page)).toEqual(['finished']);
    // Evaluations at steps 3, 6 and 9: only validation lines have dots (the charts redraw a moment later).
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=chart-accuracy] .recharts-dot').length === 3,
      null,
      { timeout: 10_000 },
    );
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    console.log(
      `main-thread long tasks while training: ${longTasks.length}, longest ${Math.max(0, ...longTasks).toFixed(0)} ms`,
    );
    // SwiftShader's threads run below the page (lowerGpuProcessPriority), as a real GPU would not use the CPU.
    expect(Math.max(0, ...longTasks)).toBeLessThan(100);
    await page.getByTestId('confusion').waitFor();
    await page.screenshot({ path: `${SHOTS}/trained.png`, fullPage: true });
  });

  it('compares StochCA with fine-tuning on the same split, overlaid, pausing in between', async () => {
    await pickShapes();
    await page.getByTestId('compare').click();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= 2,
      null,
      { timeout: 120_000 },
    );
    await page.getByTestId('pause').click();
    // The worker pauses after the step in flight; its record reaches the page within half a second.
    await page.getByTestId('resume').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(1000);
    const paused = await page.getByTestId('progress-step').textContent();
    await page.waitForTimeout(2000);
    expect(await page.getByTestId('progress-step').textContent()).toBe(paused);
    expect(await statuses(page)).toContain('paused');
    await page.screenshot({ path: `${SHOTS}/paused.png`, fullPage: true });
    await page.getByTestId('resume').click();
    await waitForRuns(page, 2);
    expect(await statuses(page)).toEqual(['finished', 'finished']);
    const labels = await page.getByTestId('legend').locator('label').allTextContents();
    expect(labels.map((l) => l.trim())).toEqual(['StochCA p=0.1 · seed 7', 'fine-tuning · seed 7']);
    const images = await page.getByTestId('run-images').allTextContents();
    expect(new Set(images).size).toBe(1);
    // One validation line per run on the accuracy chart.
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=chart-accuracy] .val-line').length === 2,
      null,
      { timeout: 10_000 },
    );
    await page.screenshot({ path: `${SHOTS}/compare.png`, fullPage: true });
  });

  it('keeps the runs over a reload, and exports models that load back', async () => {
    await pickShapes();
    await page.getByTestId('train').click();
    await waitForRuns(page, 1);
    await untilStored(page, ['finished']);
    await page.reload();
    await page.getByTestId('runs').waitFor({ timeout: 60_000 });
    expect(await statuses(page)).toEqual(['finished']);
    await page.getByTestId('run-row').first().click();

    const model = loadModelFile(await downloaded(page, 'export-safetensors'));
    expect(model.classNames).toEqual(CLASSES);
    expect(model.config).toMatchObject({ imageSize: 28, numClasses: 3 });
    // The model at the best validation accuracy, beside the final one.
    await page.getByTestId('export-which').selectOption('best');
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-safetensors').click()]);
    expect(d.suggestedFilename()).toMatch(/-best\.safetensors$/);
    const bestPath = join(mkdtempSync(join(tmpdir(), 'stochca-dl-')), d.suggestedFilename());
    await d.saveAs(bestPath);
    expect(loadModelFile(readFileSync(bestPath)).classNames).toEqual(CLASSES);
    await page.getByTestId('export-which').selectOption('final');

    const session = await ort.InferenceSession.create(await downloaded(page, 'export-onnx'));
    const out = await session.run({
      pixels: new ort.Tensor('float32', new Float32Array(2 * 3 * 28 * 28), [2, 3, 28, 28]),
    });
    expect(out.logits.dims).toEqual([2, 3]);

    const rows = (await downloaded(page, 'export-csv')).toString('utf8').trim().split('\n');
    expect(rows[0]).toBe('run,method,p,seed,split,step,seconds,loss,accuracy,lr');
    expect(rows.filter((r) => r.includes(',val,')).length).toBe(3);
  });

  it('stops a run and resumes it from its last checkpoint', async () => {
    await pickShapes();
    await page.getByTestId('train').click();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= 4,
      null,
      { timeout: 120_000 },
    );
    await page.getByTestId('stop').click();
    await waitForRuns(page, 1);
    expect(await statuses(page)).toEqual(['stopped']);
    await page.getByTestId('resume-checkpoint').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=run-status]')?.textContent?.startsWith('finished'),
      null,
      { timeout: 300_000, polling: 500 },
    );
    // Three evaluations in all: the ones before the stop are kept, the rest come after the resume.
    const csv = (await downloaded(page, 'export-csv')).toString('utf8').trim().split('\n');
    const last = csv
      .filter((r) => r.includes(',val,'))
      .slice(-3)
      .map((r) => Number(r.split(',')[5]));
    expect(last).toEqual([3, 6, 9]);
  });

  it('shares the experiment and its curves in a link that a fresh page restores', async () => {
    // Runs with curves, kept before the page opened; the experiment on the picked folder.
    const first = runRecord({ status: 'finished', train: [1, 2, 3].map(trainPoint), val: [evalPoint(3, 0.5)] });
    const second = runRecord({ status: 'stopped', train: [trainPoint(1)], val: [] }, [first]);
    await page.context().close();
    page = await openPlayground({ browser, kept: keptRuns([first, second]) });
    await page.getByTestId('runs').waitFor({ timeout: 60_000 });
    await pickShapes();
    await page.getByTestId('share-results').click();
    const link = await page.getByTestId('link').inputValue();
    expect(link).toMatch(/#v=1&.*steps=9.*&r=/);
    const fresh = await openPage(link.slice(link.indexOf('/', 8)), { app: true, browser });
    try {
      await fresh.getByTestId('runs').waitFor({ timeout: 60_000 });
      for (const [key, v] of Object.entries(TRAIN))
        await expect(fresh.locator(`#field-${key}`).inputValue()).resolves.toBe(v);
      const rows = await fresh.getByTestId('run-row').allTextContents();
      expect(rows.filter((r) => r.includes('(shared)'))).toHaveLength(2);
      await expect(fresh.getByTestId('notices').textContent()).resolves.toMatch(/drop the same files/);
      await fresh.screenshot({ path: `${SHOTS}/shared-link.png`, fullPage: true });
    } finally {
      await fresh.context().close();
    }
  });

  it('restores defaults from a malformed link and says what it ignored', async () => {
    const bad = await openPage('/#v=1&steps=abc&lr=-5&__proto__=x&r=%%%', { app: true, browser });
    try {
      await bad.getByTestId('notices').waitFor({ timeout: 60_000 });
      const notices = await bad.getByTestId('notices').textContent();
      expect(notices).toMatch(/steps/);
      expect(notices).toMatch(/learning rate|lr/);
      await expect(bad.locator('#field-steps').inputValue()).resolves.toBe('200');
      await expect(bad.locator('#field-lr').inputValue()).resolves.toBe('0.001');
      await expect(bad.getByTestId('run-row').count()).resolves.toBe(0);
      await bad.screenshot({ path: `${SHOTS}/malformed-link.png`, fullPage: true });
    } finally {
      await bad.context().close();
    }
  });
});
