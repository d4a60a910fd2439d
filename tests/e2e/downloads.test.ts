// Downloads in the playground (the production build, headless Chromium) from a server on this
// machine's loopback: a model URL and a dataset URL show their progress and load; an endless dataset
// URL shows its progress until Cancel stops it; a stalled URL gives up after the idle timeout; an HTML
// answer and a dropped file that is not a model are refused from their first bytes, in words.
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classFolders, makeZip, png } from '../data/fixtures.ts';
import { startDownloadServer, tinyModel, type DownloadServer } from '../helpers/download-server.ts';
import { openPlayground } from '../helpers/playground.ts';

/** The page reads ?downloadIdleSeconds= once at startup: with it a real stall is seen in 3 s, not
 *  after the real 30 s, which would hold this test for half a minute. */
const IDLE_SECONDS = 3;
const MiB = 2 ** 20;

let server: DownloadServer;
let page: Page;

const panel = (name: 'model' | 'data') => page.getByTestId(`${name}-panel`);

/** Types `url` into the panel's URL field and presses its Fetch. */
async function fetchUrl(name: 'model' | 'data', url: string): Promise<void> {
  await panel(name)
    .getByLabel(name === 'model' ? 'Model URL' : 'Dataset URL')
    .fill(url);
  await panel(name).getByRole('button', { name: 'Fetch', exact: true }).click();
}

/** The panel's progress once its text matches `re` (the first report, before the server answers, has no total). */
async function progress(name: 'model' | 'data', re: RegExp): Promise<string> {
  const text = await page.waitForFunction(
    ({ id, source }) => {
      const t = document.querySelector(`[data-testid=${id}]`)?.textContent ?? '';
      return new RegExp(source).test(t) && t;
    },
    { id: `${name}-progress`, source: re.source },
    { timeout: 30_000, polling: 50 },
  );
  return (await text.jsonValue()) as string;
}

const alertOf = (name: 'model' | 'data') => panel(name).getByRole('alert').textContent({ timeout: 30_000 });

beforeAll(async () => {
  server = await startDownloadServer();
  server.files.set('tiny.safetensors', tinyModel());
  server.files.set(
    'shapes.zip',
    new Uint8Array(await (await makeZip(classFolders({ dark: 4, light: 4 }, await png(40, 8)))).arrayBuffer()),
  );
});

// Each test on a fresh page of its own, the built-in model and dataset loaded.
beforeEach(async () => {
  page = await openPlayground({ path: `/?downloadIdleSeconds=${IDLE_SECONDS}` });
});

afterEach(async () => {
  await page?.context().close();
});

afterAll(async () => {
  await server?.close();
});

describe('downloads in the playground', () => {
  it('fetches a model URL, showing its progress, and loads it', async () => {
    await fetchUrl('model', `${server.base}/slow/tiny.safetensors`);
    const shown = await progress('model', /\d+ KiB of \d+ KiB, \d+ KiB\/s, \d+ s left$/);
    console.log(`model URL: "${shown}"`);
    await expect.poll(() => page.getByTestId('model-name').textContent(), { timeout: 30_000 }).toBe('tiny.safetensors');
    await expect(page.getByTestId('model-info').textContent()).resolves.toMatch(/dim 32 depth 2 heads 2/);
  });

  it('fetches a dataset URL, showing its progress, and lists it', async () => {
    await fetchUrl('data', `${server.base}/slow/shapes.zip`);
    console.log(`dataset URL: "${await progress('data', /: [1-9]\d* (bytes|KiB) of /)}"`);
    await expect.poll(() => page.getByTestId('data-classes').textContent(), { timeout: 30_000 }).toBe('2');
  });

  it('shows an endless dataset URL arriving, and stops it on Cancel', async () => {
    const url = `${server.base}/endless/shapes.zip`;
    await fetchUrl('data', url);
    // No total, no time left: only what has arrived, and the rate. Cancel once 8 MiB or more have.
    const text = await progress('data', /: ([89]|\d\d+)\.\d MiB, [\d.]+ MiB\/s$/);
    await page.getByTestId('data-cancel').click();
    const sentAtCancel = server.sent();
    await expect(alertOf('data')).resolves.toBe(`${url}: cancelled`);
    console.log(
      `endless dataset URL: "${text}" when Cancel was pressed; the server sent ${((server.sent() - sentAtCancel) / MiB).toFixed(1)} MiB more before the connection closed`,
    );
    await expect(page.getByTestId('data-progress').count()).resolves.toBe(0);
  });

  it('gives up on a URL that stops sending after the idle timeout', async () => {
    const url = `${server.base}/stall/shapes.zip`;
    const t0 = Date.now();
    await fetchUrl('data', url);
    await expect(alertOf('data')).resolves.toBe(`${url}: stopped: no data for ${IDLE_SECONDS} s`);
    const s = (Date.now() - t0) / 1000;
    console.log(`stalled dataset URL: gave up after ${s.toFixed(1)} s (idle timeout ${IDLE_SECONDS} s)`);
    expect(s).toBeGreaterThanOrEqual(IDLE_SECONDS);
    expect(s).toBeLessThan(IDLE_SECONDS + 2);
  });

  it('says when a model URL returns a web page', async () => {
    const url = `${server.base}/html/tiny.safetensors`;
    await fetchUrl('model', url);
    await expect(alertOf('model')).resolves.toBe(
      `${url}: the address returned an HTML page (a login or error page?), not a safetensors file`,
    );
  });

  it('loads a dropped model, and refuses a dropped file that is not a model from its first bytes', async () => {
    await page.setInputFiles('[data-testid=model-drop-file]', {
      name: 'dropped.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(tinyModel()),
    });
    await expect
      .poll(() => page.getByTestId('model-name').textContent(), { timeout: 30_000 })
      .toBe('dropped.safetensors');

    const page404 = Buffer.from(`<!DOCTYPE html><html><body>Not found</body></html>${' '.repeat(4096)}`);
    await page.setInputFiles('[data-testid=model-drop-file]', {
      name: 'model.safetensors',
      mimeType: 'application/octet-stream',
      buffer: page404,
    });
    await expect(alertOf('model')).resolves.toMatch(/^model\.safetensors: .*HTML page/);
  });
});
