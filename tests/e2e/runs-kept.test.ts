// Runs you can trust, in the page as `npm start` serves it: two tabs keep each other's runs and respect
// each other's training run; a queued run keeps the dataset it was queued with when the panel loads
// another; a resume after a reload refuses a model or dataset other than the run's; a full storage
// quota costs a run its checkpoints, not the run.
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { openPage } from '../helpers/browser.ts';
import { downloaded, setFields, statuses, untilStatuses, untilStored } from '../helpers/playground.ts';

const SHOTS = 'test-results/screenshots';
const pages: Page[] = [];
afterAll(async () => {
  for (const p of pages)
    await p
      .context()
      .close()
      .catch(() => undefined);
});

// These runs are about the page's records, not the demo: the Fashion-MNIST model on the MNIST pack, whose
// validation fraction the tests can shrink (the demo pack brings a val/ folder of its own).
const MNIST = '/#v=1&model=builtin:vit-fmnist&data=pack:mnist';

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(
    () => !(document.querySelector('[data-testid=train]') as HTMLButtonElement | null)?.disabled,
    null,
    { timeout: 60_000 },
  );
}

describe('runs across tabs', () => {
  it("keeps both tabs' runs, and shows a run training in the other tab as such, without a Resume", async () => {
    const a = await openPage(MNIST, { app: true });
    pages.push(a);
    await ready(a);
    await setFields(a, { steps: '24', evalEvery: '8', warmup: '2', batch: '16', valFraction: '0.02' });
    await a.getByTestId('train').click();
    await a.getByTestId('progress').waitFor({ timeout: 60_000 });

    // A second tab of the same browser profile, as a share link opens one.
    const b = await a.context().newPage();
    await b.goto(a.url());
    await ready(b);
    await b.getByTestId('runs').waitFor({ timeout: 60_000 });
    expect(await b.getByTestId('run-status').first().innerText()).toMatch(/^training in another tab/);
    await expect(b.getByTestId('resume-checkpoint').count()).resolves.toBe(0);
    await b.screenshot({ path: `${SHOTS}/second-tab.png`, fullPage: true });
    await setFields(b, { steps: '2', evalEvery: '2', warmup: '0', batch: '8', valFraction: '0.02' });
    await b.getByTestId('train').click();

    // Each tab sees the other's run end, without a reload.
    await untilStatuses(a, (s) => s.length === 2 && s.every((x) => x === 'finished'));
    await untilStatuses(b, (s) => s.length === 2 && s.every((x) => x === 'finished'));
    await untilStored(a, ['finished', 'finished']);
    for (const p of [a, b]) {
      await p.reload();
      await p.getByTestId('runs').waitFor({ timeout: 60_000 });
      expect(await statuses(p)).toEqual(['finished', 'finished']);
    }
  });
});

describe('provenance', () => {
  it('trains a queued run on the dataset it was queued with, though the panel loads another meanwhile', async () => {
    const page = await openPage(MNIST, { app: true });
    pages.push(page);
    await ready(page);
    await setFields(page, { steps: '4', evalEvery: '4', warmup: '0', batch: '8', valFraction: '0.02', seeds: '1' });
    await page.getByTestId('compare').click();
    await page.getByTestId('progress').waitFor({ timeout: 60_000 });
    await page.getByTestId('data-panel').getByRole('button', { name: 'Fashion-MNIST', exact: true }).click();
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('Fashion-MNIST');
    const done = await untilStatuses(page, (s) => s.length === 2 && s.every((x) => x !== 'queued' && x !== 'running'));
    expect(done).toEqual(['finished', 'finished']);
    // Both runs saw MNIST's digits: the same counts, and the fine-tuned model knows digits, not clothes.
    const images = await page.getByTestId('run-images').allTextContents();
    expect(images[1]).toBe(images[0]);
    await page.getByTestId('run-row').nth(1).click();
    expect(loadModelFile(await downloaded(page, 'export-safetensors')).classNames).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
  });

  it('resumes after a reload only on the dataset the run names, and says which to load', async () => {
    const page = await openPage(MNIST, { app: true });
    pages.push(page);
    await ready(page);
    await setFields(page, { steps: '40', evalEvery: '2', warmup: '0', batch: '8', valFraction: '0.02' });
    await page.getByTestId('train').click();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= 3,
      null,
      { timeout: 120_000 },
    );
    await page.getByTestId('stop').click();
    await untilStatuses(page, (s) => s[0] === 'stopped');
    await untilStored(page, ['stopped']);
    await page.reload();
    await ready(page);
    await page.getByTestId('data-panel').getByRole('button', { name: 'Fashion-MNIST', exact: true }).click();
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('Fashion-MNIST');
    const clicked = Date.now();
    await page.getByTestId('resume-checkpoint').click();
    await page.getByTestId('notices').waitFor();
    const refused = Date.now() - clicked;
    console.log(`resume on another dataset refused in ${refused} ms`);
    expect(refused).toBeLessThan(2000);
    await expect(page.getByTestId('notices').textContent()).resolves.toMatch(
      /trains on the built-in model 'vit-fmnist' and the built-in dataset 'mnist': load that dataset first/,
    );
    expect(await statuses(page)).toEqual(['stopped']);
    await page.getByTestId('data-panel').getByRole('button', { name: 'MNIST digits', exact: true }).click();
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('MNIST digits');
    await page.getByTestId('resume-checkpoint').click();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= 1,
      null,
      { timeout: 60_000 },
    );
    await page.getByTestId('stop').click();
    await untilStatuses(page, (s) => s[0] === 'stopped');
  });
});

describe('storage', () => {
  it('goes on without checkpoints when the storage quota is full, and says so', async () => {
    const page = await openPage(MNIST, { app: true });
    pages.push(page);
    await ready(page);
    const cdp = await page.context().newCDPSession(page);
    // Less than one checkpoint of the built-in model (its state alone is 1.7 MB).
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin, quotaSize: 512 * 1024 });
    await setFields(page, { steps: '4', evalEvery: '2', warmup: '0', batch: '8', valFraction: '0.02' });
    await page.getByTestId('train').click();
    expect(await untilStatuses(page, (s) => s[0] !== 'queued' && s[0] !== 'running')).toEqual(['finished']);
    await expect(page.getByTestId('run-warning').textContent()).resolves.toMatch(
      /storage for the page is full: the (checkpoint|best-validation model) at step \d+ was not saved, and the run goes on/,
    );
    await page.screenshot({ path: `${SHOTS}/storage-full.png`, fullPage: true });
    await expect(page.getByTestId('storage-persisted').textContent()).resolves.toMatch(/persistent|best effort/);
  });
});
