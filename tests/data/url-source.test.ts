// Downloads from a server on this machine's loopback: a dataset zip listed like a local one, and
// every way a download can go wrong (a stall, an endless body, a file above the cap, an HTML or JSON
// answer, a file that is not a safetensors model, a Cancel), each ending with its message in bounded
// time and memory (printed).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModelStart } from '../../src/checkpoint/safetensors-start.ts';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { download, type DownloadOptions, type DownloadProgress } from '../../src/data/download.ts';
import { selectImages } from '../../src/data/entries.ts';
import { imageFolder } from '../../src/data/layout.ts';
import { fetchZip, isDataUrl, urlTree } from '../../src/data/url-source.ts';
import { errorMessage } from '../../src/gpu/error-message.ts';
import {
  SLOW_MS,
  startDownloadServer,
  STALL_BYTES,
  tinyModel,
  type DownloadServer,
} from '../helpers/download-server.ts';

const zip = readFileSync('public/packs/mnist.zip');
const model = tinyModel();
const MiB = 2 ** 20;
/** Short, so that a stall is seen in a test; the real one is DOWNLOAD_IDLE_SECONDS. */
const IDLE_SECONDS = 0.5;
/** Time a failure may take beyond what provokes it (the idle timeout, a Cancel). */
const SLACK_MS = 2000;
const MEMORY_BOUND = 100 * MiB;

let server: DownloadServer;
let base = '';

beforeAll(async () => {
  server = await startDownloadServer();
  base = server.base;
  server.files.set('mnist.zip', zip);
  server.files.set('tiny.safetensors', model);
  // A PNG named as a model: its first 8 bytes, read as a header length, are far over the limit.
  server.files.set('photo.safetensors', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  server.files.set('x.zip', new Uint8Array([0x50, 0x4b, 0x03, 0x04]));
});

afterAll(() => server.close());

/** Runs a download that must fail; returns its message and the time it took. Prints both, with the
 *  growth of the process's resident memory at its peak (sampled every few milliseconds) and at the end. */
async function failure(run: () => Promise<unknown>, label: string) {
  const rss0 = process.memoryUsage().rss;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - rss0)), 5);
  const t0 = performance.now();
  const message = await run().then(() => 'no error', errorMessage);
  const ms = performance.now() - t0;
  clearInterval(sampler);
  const end = process.memoryUsage().rss - rss0;
  peak = Math.max(peak, end);
  console.log(
    `${label}: "${message}" after ${ms.toFixed(0)} ms; resident memory +${(peak / MiB).toFixed(1)} MiB at most, ${(end / MiB).toFixed(1)} MiB at the end`,
  );
  expect(peak).toBeLessThan(MEMORY_BOUND);
  return { message, ms };
}

const zipOptions = (o: Partial<DownloadOptions> = {}): DownloadOptions => ({
  what: 'a zip file',
  maxBytes: 4 * 2 ** 30,
  idleSeconds: IDLE_SECONDS,
  ...o,
});

describe('dataset URLs', () => {
  it('fetches a zip, reporting progress, and lists it like a local one', async () => {
    const seen: DownloadProgress[] = [];
    const tree = await urlTree(`${base}/file/mnist.zip`, { onProgress: (p) => seen.push(p) });
    expect(seen.every((p) => p.total === undefined || p.total === zip.length)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ received: zip.length, total: zip.length, secondsLeft: 0 });
    expect(seen.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    const folder = imageFolder(selectImages(tree));
    expect(folder.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect([folder.train.length, folder.test.length]).toEqual([3000, 1000]);
  });

  it('says what went wrong with a bad address', async () => {
    await expect(urlTree(`${base}/file/missing.zip`)).rejects.toThrow(
      `cannot fetch ${base}/file/missing.zip (HTTP 404 Not Found)`,
    );
    await expect(urlTree('ftp://example.org/x.zip')).rejects.toThrow("'ftp://example.org/x.zip' is not an http(s) URL");
    await expect(urlTree('http://127.0.0.1:9/x.zip')).rejects.toThrow(
      /^cannot fetch http:\/\/127\.0\.0\.1:9\/x\.zip \(/,
    );
    expect(isDataUrl('HTTPS://a/b.zip')).toBe(true);
    expect(isDataUrl('data/b.zip')).toBe(false);
    // The rule a share link's url: reference is checked by (settings.ts): a host, no spaces, at most 2000 characters.
    await expect(urlTree('http://:80/x.zip')).rejects.toThrow("'http://:80/x.zip' is not an http(s) URL");
    expect(isDataUrl('https://exa mple.org/x.zip')).toBe(false);
    expect(isDataUrl(`https://example.org/${'a'.repeat(1980)}`)).toBe(true);
    expect(isDataUrl(`https://example.org/${'a'.repeat(1981)}`)).toBe(false);
  });
});

describe('downloads that go wrong', () => {
  it('gives up on a server that stops sending', async () => {
    let received = 0;
    const r = await failure(
      () =>
        fetchZip(`${base}/stall/mnist.zip`, { idleSeconds: IDLE_SECONDS, onProgress: (p) => (received = p.received) }),
      'stall',
    );
    expect(r.message).toBe(`stopped: no data for ${IDLE_SECONDS} s`);
    expect(received).toBe(STALL_BYTES);
    expect(r.ms).toBeLessThan(IDLE_SECONDS * 1000 + SLACK_MS);
  });

  it('stops an endless body at the cap, and on Cancel', async () => {
    const capped = await failure(
      () => download(`${base}/endless/x.zip`, zipOptions({ maxBytes: 32 * MiB })),
      'endless, 32 MiB cap',
    );
    expect(capped.message).toMatch(
      /^the file is larger than 32\.0 MiB, the most accepted for a zip file \(32\.\d MiB received so far\)$/,
    );
    expect(capped.ms).toBeLessThan(SLACK_MS);

    const controller = new AbortController();
    let cancelledAt = 0;
    const onProgress = (p: DownloadProgress) => {
      if (p.received < 16 * MiB || cancelledAt) return;
      cancelledAt = performance.now();
      controller.abort();
    };
    const cancelled = await failure(
      () => download(`${base}/endless/x.zip`, zipOptions({ signal: controller.signal, onProgress })),
      'endless, cancelled after 16 MiB',
    );
    const stoppedIn = performance.now() - cancelledAt;
    console.log(`stopped ${stoppedIn.toFixed(0)} ms after Cancel`);
    expect(cancelled.message).toBe('cancelled');
    expect(stoppedIn).toBeLessThan(SLACK_MS);
  });

  it('refuses a Content-Length above the cap before reading the body', async () => {
    let received = -1;
    const r = await failure(
      () => fetchZip(`${base}/huge/x.zip`, { idleSeconds: IDLE_SECONDS, onProgress: (p) => (received = p.received) }),
      'Content-Length 5 GiB',
    );
    expect(r.message).toBe(
      'the file is larger than 4.00 GiB, the most accepted for a zip file (5.00 GiB by its Content-Length)',
    );
    expect(received).toBe(0);
    expect(r.ms).toBeLessThan(SLACK_MS);
  });

  it('says when the address returned a web page or JSON instead of the file', async () => {
    const html = 'the address returned an HTML page (a login or error page?), not a zip file';
    expect((await failure(() => fetchZip(`${base}/html/x.zip`), 'HTML page')).message).toBe(html);
    expect(
      (await failure(() => fetchZip(`${base}/html-bytes/x.zip`), 'HTML page without its Content-Type')).message,
    ).toBe(html);
    expect((await failure(() => fetchZip(`${base}/json-bytes/x.zip`), 'JSON without its Content-Type')).message).toBe(
      'the address returned JSON (an API answer?), not a zip file',
    );
  });
});

describe('model URLs', () => {
  const modelOptions = (o: Partial<DownloadOptions> = {}): DownloadOptions => ({
    what: 'a safetensors file',
    maxBytes: 2 * 2 ** 30,
    idleSeconds: IDLE_SECONDS,
    checkStart: checkModelStart,
    ...o,
  });

  it('downloads a safetensors model whose header checks out', async () => {
    const blob = await download(`${base}/slow/tiny.safetensors`, modelOptions());
    const file = loadModelFile(await blob.arrayBuffer());
    expect(blob.size).toBe(model.length);
    expect(file.config).toMatchObject({ dim: 32, depth: 2, numClasses: 10 });
  });

  it('stops at the first bytes of a file that is not a safetensors model', async () => {
    const before = server.sent();
    const r = await failure(
      () => download(`${base}/long/photo.safetensors`, modelOptions()),
      'a 1 GiB file that is not a model',
    );
    expect(r.message).toMatch(
      /^not a safetensors file: its first 8 bytes give a header of \d+ bytes, over the 100 MB a header may have$/,
    );
    expect(r.ms).toBeLessThan(SLACK_MS);
    // What the server wrote before the connection closed: the first bytes and what the sockets buffered.
    const sent = server.sent() - before;
    console.log(`the server had sent ${(sent / MiB).toFixed(1)} MiB of the 1 GiB file`);
    expect(sent).toBeLessThan(16 * MiB);
  });

  it('checks a header that arrives in pieces against the announced size', async () => {
    // A header that claims more data than the file holds: refused once the header is in, not at the end.
    const truncated = model.subarray(0, model.length - 4);
    server.files.set('truncated.safetensors', truncated);
    const r = await failure(() => download(`${base}/slow/truncated.safetensors`, modelOptions()), 'a truncated model');
    expect(r.message).toMatch(/run past the end of the data .*: the file is truncated$/);
    expect(r.ms).toBeLessThan(SLOW_MS / 2);
  });
});
