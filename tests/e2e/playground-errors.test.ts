// What goes wrong in a run, provoked for real in the playground page: a model that diverges (the loss
// is NaN at the first step), a run too large for the device, and the GPU process crashing mid-run.
// Each stops the run with its curves kept and a message that says what happened and what to do; after
// the crash the run resumes from its last checkpoint on a new device.
// This file has its own Chromium: crashing the shared one's GPU process would fail other files' tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadModelFile, saveModelFile } from '../../src/checkpoint/model-file.ts';
import { launchChromium } from '../../src/node/chromium.ts';
import { removeTempDirs, tempDir } from '../data/fixtures.ts';
import { openPlayground, setFields, statuses } from '../helpers/playground.ts';

const SHOTS = 'test-results/screenshots';

let browser: Browser;
let page: Page;

/** Waits for run `i` (in the table's order) to end; returns its status cell's text. */
async function ended(i: number): Promise<string> {
  await page.waitForFunction(
    (n) =>
      /^(finished|failed|stopped)/.test(document.querySelectorAll('[data-testid=run-status]')[n]?.textContent ?? ''),
    i,
    { timeout: 300_000, polling: 250 },
  );
  return page.getByTestId('run-status').nth(i).innerText();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
});

// Each test on a fresh page of its own: short runs on the default pack, validated on its own 200 images.
beforeEach(async () => {
  page = await openPlayground({ browser });
  await setFields(page, { batch: '8', warmup: '1', valFraction: '0.02', seed: '3' });
});

afterEach(async () => {
  await page?.context().close();
});

afterAll(async () => {
  await browser?.close();
  await removeTempDirs();
});

describe('the playground when a run goes wrong', () => {
  it('stops a run whose loss is not a number, and says to lower the learning rate', async () => {
    // The built-in model with every weight at 3e38: the first forward pass overflows.
    const model = loadModelFile(await readFile('public/models/vit-fmnist.safetensors'));
    for (const t of model.weights.values()) t.data.fill(3e38);
    const path = join(await tempDir(), 'diverging.safetensors');
    writeFileSync(path, saveModelFile(model));
    await page.setInputFiles('[data-testid=model-drop-file]', path);
    await expect
      .poll(() => page.getByTestId('model-name').textContent(), { timeout: 60_000 })
      .toBe('diverging.safetensors');
    await setFields(page, { steps: '5', evalEvery: '5' });
    await page.getByTestId('train').click();
    const status = await ended(0);
    expect(status).toMatch(/^failed/);
    expect(status).toMatch(/the training loss became (NaN|Infinity|-Infinity) at step 1/);
    expect(status).toMatch(/lower the learning rate/);
    await page.screenshot({ path: `${SHOTS}/nan-loss.png`, fullPage: true });
  });

  it('runs a batch too large for the GPU in micro-batches, and refuses a run beyond the memory budget before it allocates', async () => {
    await page.getByRole('button', { name: 'ViT pretrained on Fashion-MNIST (built in)' }).click();
    await expect.poll(() => page.getByTestId('model-name').textContent(), { timeout: 60_000 }).toMatch(/built in/);
    await setFields(page, { imageSize: '1024' });
    await expect(page.getByTestId('model-memory').textContent()).resolves.toMatch(
      /not a multiple of this model's patch size 7: use 1022 or 1029/,
    );
    // Batch 512 at 1022 px is beyond the adapter's largest buffer at once: the optimizer still sees 512 images.
    await setFields(page, { batch: '512', imageSize: '1022' });
    await expect(page.getByTestId('model-memory').textContent()).resolves.toMatch(
      /MiB of GPU memory for this run \(batch 512, with the frozen teacher; micro-batches of \d+, gradients summed over \d+\)/,
    );
    await page.getByTestId('memory-budget').fill('1');
    // The model panel says so as soon as the fields are set…
    await expect(page.getByTestId('model-memory').textContent()).resolves.toMatch(
      /^This run does not fit: it needs [\d.]+ MiB and the budget is 1\.0 MiB \(batch 1\)/,
    );
    // …and a run started anyway fails with the same reason and what to change.
    await page.getByTestId('train').click();
    const status = await ended(0);
    expect(status).toMatch(/^failed/);
    expect(status).toMatch(/does not fit/);
    expect(status).toMatch(/Lower the batch size or the image size/);
    await page.getByTestId('memory-budget').fill('');
    await setFields(page, { batch: '8', imageSize: '0' });
    await expect(page.getByTestId('model-memory').textContent()).resolves.toMatch(
      /MiB of GPU memory for this run \(batch 8, with the frozen teacher\)$/,
    );
  });

  it('keeps the curves and checkpoint when the GPU process crashes, and resumes on a new device', async () => {
    await setFields(page, { steps: '400', evalEvery: '2' });
    await page.getByTestId('train').click();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= 3,
      null,
      { timeout: 120_000 },
    );
    const cdp = await browser.newBrowserCDPSession();
    await cdp.send('Browser.crashGpuProcess');
    const status = await ended(0);
    expect(status).toMatch(/^failed/);
    expect(status).toMatch(/The GPU was reset or taken away/);
    // What the run did before the crash is kept: its validation points and its checkpoint.
    const dots = await page.locator('[data-testid=chart-accuracy] .recharts-dot').count();
    expect(dots).toBeGreaterThanOrEqual(1);
    const resume = page.getByTestId('resume-checkpoint');
    const from = Number((await resume.textContent())?.match(/step (\d+)/)?.[1]);
    expect(from).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: `${SHOTS}/device-lost.png`, fullPage: true });
    await resume.click();
    await page.waitForFunction(
      (f) => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= f + 2,
      from,
      { timeout: 120_000 },
    );
    await page.getByTestId('stop').click();
    await expect(ended(0)).resolves.toMatch(/^stopped/);
    expect(await statuses(page)).toEqual(['stopped']);
  }, 300_000);
});
