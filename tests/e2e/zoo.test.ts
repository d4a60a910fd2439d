// The model zoo in the playground (the production build, headless Chromium), with the Hub address set
// in the model panel to a loopback mirror of the Hub (tests/helpers/hub-mirror.ts): DeiT-Ti, the
// smallest entry (5.7 M parameters, 21.8 MiB of random weights with the Hub file's names and shapes),
// is fetched with its progress shown (each test on a fresh page, fetching it first when it needs it kept), loads again after a reload from the page's cache without a
// request, trains a step on the default built-in pack at its 224 px input, and, removed from the cache and
// fetched again over a connection dropped half way, is resumed with a Range request.
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { zooEntry } from '../../src/checkpoint/zoo.ts';
import { startHubMirror, type HubMirror } from '../helpers/hub-mirror.ts';
import { openPlayground, setFields, statuses } from '../helpers/playground.ts';

const entry = zooEntry('facebook/deit-tiny-patch16-224');
/** The weights arrive over about 3 s, so that their progress is seen. */
const PACE = 8 * 2 ** 20;

let mirror: HubMirror;
let page: Page;

const zooButton = () => page.getByTestId(`zoo-load-${entry.repo}`);
const modelName = () => page.getByTestId('model-name').textContent();
const cdnRequests = (from: number) =>
  mirror.requests
    .slice(from)
    .map((r) => `${r.status}${r.range ? ` ${r.range}` : ''} ${r.path.replace(/[0-9a-f]{64}/, '<hash>')}`);

/** The model panel's progress text once it matches `re`. */
async function progress(re: RegExp): Promise<string> {
  const text = await page.waitForFunction(
    (source) => {
      const t = document.querySelector('[data-testid=model-progress]')?.textContent ?? '';
      return new RegExp(source).test(t) && t;
    },
    re.source,
    { timeout: 30_000, polling: 50 },
  );
  return (await text.jsonValue()) as string;
}

/** What a test starts from when it needs the model kept in the page's cache: fetched and loaded. */
async function fetchIntoCache(): Promise<void> {
  await zooButton().click();
  await expect.poll(modelName, { timeout: 60_000 }).toBe(entry.name);
  await expect
    .poll(() => page.getByTestId(`zoo-cached-${entry.repo}`).textContent(), { timeout: 10_000 })
    .toMatch(/model\.safetensors 21\.8 MiB/);
}

beforeAll(async () => {
  mirror = await startHubMirror();
  mirror.bytesPerSecond = PACE;
  mirror.weights(entry.repo);
});

// Each test on a fresh page of its own (an empty cache), the Hub address set to the mirror.
beforeEach(async () => {
  page = await openPlayground();
  await page.getByTestId('hub-address').fill(mirror.base);
});

afterEach(async () => {
  await page?.context().close();
});

afterAll(async () => {
  await mirror?.close();
});

describe('the model zoo in the playground', () => {
  it('fetches a zoo model from the Hub address with its progress, and keeps it', async () => {
    const before = mirror.requests.length;
    await expect(zooButton().textContent()).resolves.toBe('Fetch');
    const t0 = Date.now();
    await zooButton().click();
    const shown = await progress(/ MiB of 21\.8 MiB, [\d.]+ MiB\/s, \d+ s left$/);
    await expect.poll(modelName, { timeout: 60_000 }).toBe(entry.name);
    const s = (Date.now() - t0) / 1000;
    await expect(page.getByTestId('model-info').textContent()).resolves.toMatch(
      /patch 16 dim 192 depth 12 heads 3 mlp 768 classes 1000.*5,717,416/,
    );
    expect(cdnRequests(before)).toEqual([
      `200 /${entry.repo}/resolve/main/config.json`,
      `302 /${entry.repo}/resolve/main/model.safetensors`,
      '200 /cdn/<hash>',
    ]);
    await expect
      .poll(() => page.getByTestId(`zoo-cached-${entry.repo}`).textContent(), { timeout: 10_000 })
      .toMatch(/model\.safetensors 21\.8 MiB, config\.json \d+ KiB/);
    console.log(
      `fetched ${entry.repo} at ${PACE / 2 ** 20} MiB/s and loaded in ${s.toFixed(1)} s; progress shown: "${shown}"`,
    );
  });

  it('loads it from the cache after a reload, with no request', async () => {
    await fetchIntoCache();
    const before = mirror.requests.length;
    await page.reload();
    // The hash names the zoo model now: the page waits for its button, as it would for a URL.
    await expect
      .poll(() => page.getByTestId('notices').textContent(), { timeout: 60_000 })
      .toMatch(/the zoo model 'facebook\/deit-tiny-patch16-224': press its button/);
    await expect(page.getByTestId('hub-address').inputValue()).resolves.toBe(mirror.base);
    await expect.poll(() => zooButton().textContent(), { timeout: 10_000 }).toBe('Load');
    const t0 = Date.now();
    await zooButton().click();
    await expect.poll(modelName, { timeout: 60_000 }).toBe(entry.name);
    const s = (Date.now() - t0) / 1000;
    expect(mirror.requests.length).toBe(before);
    console.log(`after a reload, ${entry.repo} loaded from the page's cache in ${s.toFixed(1)} s, with no request`);
  });

  it('trains on it: the MNIST pack at its 224 px input, batch 2, until Stop', async () => {
    await fetchIntoCache();
    // MNIST has no val/ folder, so a validation fraction of 0 leaves no images to score at 224 px on Stop.
    await page.getByTestId('data-panel').getByRole('button', { name: 'MNIST digits', exact: true }).click();
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('MNIST digits');
    await page.locator('#field-method').selectOption('finetune');
    await setFields(page, { batch: '2', steps: '4', warmup: '0', evalEvery: '4', valFraction: '0' });
    await expect(page.getByTestId('model-memory').textContent()).resolves.toMatch(
      /MiB of GPU memory for this run \(batch 2\)/,
    );
    const t0 = Date.now();
    await page.getByTestId('train').click();
    // Steps at 224 px take seconds on SwiftShader, and the pack's 1,000 test images would be scored once
    // all steps are done: the run is stopped after its first step instead.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress-step]')?.textContent) >= 1,
      null,
      { timeout: 180_000, polling: 200 },
    );
    const firstStep = (Date.now() - t0) / 1000;
    await page.getByTestId('stop').click();
    await page.waitForFunction(
      () => /^stopped/.test(document.querySelector('[data-testid=run-status]')?.textContent ?? ''),
      null,
      { timeout: 120_000, polling: 200 },
    );
    await expect(statuses(page)).resolves.toEqual(['stopped']);
    console.log(
      `training on ${entry.repo} at 224 px, batch 2: first step ${firstStep.toFixed(1)} s after Train, stopped ${((Date.now() - t0) / 1000).toFixed(1)} s after Train`,
    );
  });

  it('removes it from the cache, and resumes a dropped download with a Range request', async () => {
    await fetchIntoCache();
    await page.getByTestId(`zoo-remove-${entry.repo}`).click();
    await expect
      .poll(() => page.getByTestId('zoo-cache').textContent(), { timeout: 10_000 })
      .toMatch(/No zoo model is kept/);
    await expect(zooButton().textContent()).resolves.toBe('Fetch');
    const before = mirror.requests.length;
    mirror.dropNext();
    const t0 = Date.now();
    await zooButton().click();
    const shown = await progress(/resumed once$/);
    await expect.poll(modelName, { timeout: 60_000 }).toBe(entry.name);
    const s = (Date.now() - t0) / 1000;
    const half = Math.floor(entry.bytes / 2);
    // The mirror drops the connection after sending half the file; the bytes still in flight then are
    // lost, so the page resumes from what it received: up to half, never from 0.
    const requests = cdnRequests(before).filter((r) => !r.startsWith('204'));
    const from = Number(/bytes=(\d+)-/.exec(requests[3] ?? '')?.[1]);
    expect(from).toBeGreaterThan(half - 2 ** 20);
    expect(from).toBeLessThanOrEqual(half);
    expect(requests).toEqual([
      `200 /${entry.repo}/resolve/main/config.json`,
      `302 /${entry.repo}/resolve/main/model.safetensors`,
      '200 /cdn/<hash>',
      `302 bytes=${from}- /${entry.repo}/resolve/main/model.safetensors`,
      `206 bytes=${from}- /cdn/<hash>`,
    ]);
    const resumedAfter = mirror.requests.at(-1)!.at - mirror.droppedAt!;
    console.log(
      `dropped at ${(half / 2 ** 20).toFixed(1)} MiB, the Range request ${resumedAfter.toFixed(0)} ms later; loaded ${s.toFixed(1)} s after Fetch; progress: "${shown}"`,
    );
    await expect
      .poll(() => page.getByTestId(`zoo-cached-${entry.repo}`).textContent(), { timeout: 10_000 })
      .toMatch(/model\.safetensors 21\.8 MiB/);
  });
});
