// A download that breaks off, resumed with a Range request (src/data/download.ts `resume`), against the
// loopback Hub mirror: the Hub's redirect is followed, a dropped connection is resumed where it broke
// off (206), a server without ranges is read again from the start, a server answering 503 is asked again
// after a longer wait, a download not asked to resume
// says it broke off, and a Cancel during the wait before a resume ends it at once. The times are printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModelStart } from '../../src/checkpoint/safetensors-start.ts';
import { hubFileUrl, zooEntry, ZOO_CONFIG_FILE } from '../../src/checkpoint/zoo.ts';
import { download, type DownloadOptions, type DownloadProgress } from '../../src/data/download.ts';
import { startHubMirror, type HubMirror } from '../helpers/hub-mirror.ts';
import { zooFixture } from '../helpers/zoo-files.ts';

const entry = zooEntry('facebook/deit-tiny-patch16-224');
/** Slow enough that the drop half way through comes after several progress reports. */
const PACE = 16 * 2 ** 20;

let mirror: HubMirror;
let url = '';

beforeAll(async () => {
  mirror = await startHubMirror();
  url = hubFileUrl(mirror.base, entry.repo, entry.file);
  mirror.weights(entry.repo); // built before any timing
});

afterAll(() => mirror.close());

const options = (o: Partial<DownloadOptions> = {}): DownloadOptions => ({
  what: 'a safetensors file',
  maxBytes: 2 ** 31,
  idleSeconds: 5,
  checkStart: checkModelStart,
  resume: true,
  ...o,
});

/** Byte for byte (a deep equality of 23 MB would list every element). */
const sameBytes = (a: ArrayBuffer, b: Uint8Array) => Buffer.from(a).equals(b);

/** The requests since `from`, as `status range` lines. */
const since = (from: number) => mirror.requests.slice(from).map((r) => `${r.status}${r.range ? ` ${r.range}` : ''}`);

describe('resumed downloads', () => {
  it('follows the redirect and resumes a dropped connection with a Range request', async () => {
    mirror.bytesPerSecond = PACE;
    mirror.dropNext();
    const first = mirror.requests.length;
    const seen: DownloadProgress[] = [];
    const t0 = performance.now();
    const blob = await download(url, options({ onProgress: (p) => seen.push(p) }));
    const ms = performance.now() - t0;
    expect(sameBytes(await blob.arrayBuffer(), mirror.weights(entry.repo))).toBe(true);
    const half = Math.floor(entry.bytes / 2);
    expect(since(first)).toEqual(['302', '200', '302 bytes=' + half + '-', '206 bytes=' + half + '-']);
    const resumedAfter = mirror.requests.at(-1)!.at - mirror.droppedAt!;
    console.log(
      `${entry.repo} (${(entry.bytes / 2 ** 20).toFixed(1)} MiB at ${PACE / 2 ** 20} MiB/s): dropped at ${(half / 2 ** 20).toFixed(1)} MiB, ` +
        `resumed ${resumedAfter.toFixed(0)} ms later, whole in ${ms.toFixed(0)} ms; last progress: ${JSON.stringify(seen.at(-1))}`,
    );
    expect(seen.at(-1)).toMatchObject({ received: entry.bytes, total: entry.bytes, resumes: 1 });
    expect(resumedAfter).toBeLessThan(2000);
  });

  it('reads the file again from the start when the server answers a Range request with all of it', async () => {
    mirror.bytesPerSecond = PACE;
    mirror.ranges = false;
    mirror.dropNext();
    const first = mirror.requests.length;
    try {
      const blob = await download(url, options());
      expect(sameBytes(await blob.arrayBuffer(), mirror.weights(entry.repo))).toBe(true);
      expect(since(first)).toEqual([
        '302',
        '200',
        `302 bytes=${Math.floor(entry.bytes / 2)}-`,
        `200 bytes=${Math.floor(entry.bytes / 2)}-`,
      ]);
    } finally {
      mirror.ranges = true;
    }
  });

  it('waits for a server that is restarting when it resumes', async () => {
    mirror.bytesPerSecond = PACE;
    mirror.dropNext();
    mirror.droppedAt = undefined;
    const first = mirror.requests.length;
    const done = download(url, options());
    // The server goes down with the connection and is back for the second try.
    while (mirror.droppedAt === undefined) await new Promise((r) => setTimeout(r, 5));
    mirror.unavailable = 1;
    const blob = await done;
    expect(sameBytes(await blob.arrayBuffer(), mirror.weights(entry.repo))).toBe(true);
    const half = Math.floor(entry.bytes / 2);
    expect(since(first)).toEqual(['302', '200', `503 bytes=${half}-`, `302 bytes=${half}-`, `206 bytes=${half}-`]);
    const [busy, again] = mirror.requests.slice(first + 2, first + 4).map((r) => r.at);
    console.log(`a 503 when resuming: asked again ${(again - busy).toFixed(0)} ms later`);
    expect(again - busy).toBeGreaterThanOrEqual(900);
  });

  it('says the download broke off when it was not asked to resume', async () => {
    mirror.bytesPerSecond = Infinity;
    mirror.dropNext();
    await expect(download(url, options({ resume: false }))).rejects.toThrow(
      new RegExp(`^the download of ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} broke off \\(`),
    );
  });

  it('ends at once on a Cancel while waiting to resume', async () => {
    mirror.bytesPerSecond = PACE;
    mirror.dropNext();
    mirror.droppedAt = undefined;
    const cancel = new AbortController();
    const done = download(url, options({ signal: cancel.signal })).then(
      () => 'no error',
      (e: Error) => e.message,
    );
    while (mirror.droppedAt === undefined) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    cancel.abort();
    await expect(done).resolves.toBe('cancelled');
    const ms = performance.now() - t0;
    console.log(`cancel while waiting to resume: "cancelled" after ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(100);
  });

  it("fetches the repository's config.json, which is JSON", async () => {
    const blob = await download(hubFileUrl(mirror.base, entry.repo, ZOO_CONFIG_FILE), {
      what: 'a config.json',
      maxBytes: 2 ** 24,
      json: true,
    });
    expect(JSON.parse(await blob.text())).toEqual(zooFixture(entry.repo).config);
    await expect(
      download(hubFileUrl(mirror.base, entry.repo, ZOO_CONFIG_FILE), { what: 'a safetensors file', maxBytes: 2 ** 24 }),
    ).rejects.toThrow('the address returned JSON (an API answer?), not a safetensors file');
  });
});
