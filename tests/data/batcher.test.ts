// The streaming batcher on generated images (a decode function that makes pixels from the sample's
// index) and on the real MNIST pack decoded with sharp: shapes and packing, epoch order and its
// determinism, evaluation order, undecodable images, bounded memory over 50,000 samples, and the
// throughput, printed.
import { openAsBlob } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUGMENT, evalView, resample } from '../../src/data/augment.ts';
import { Batcher, type Batch, type BatcherOptions, type DecodeProgress } from '../../src/data/batcher.ts';
import { nodeDecoder } from '../../src/data/decode-node.ts';
import { DatasetError, selectImages, type DataEntry } from '../../src/data/entries.ts';
import { imageFolder, type Sample } from '../../src/data/layout.ts';
import { zipTree } from '../../src/data/zip-source.ts';
import { seededRng } from '../../src/nn/rng.ts';

/** n samples named by index, labels cycling over `classes`; nothing is read from them. */
function samples(n: number, classes = 3): Sample[] {
  return Array.from({ length: n }, (_, i) => ({
    entry: { path: `c${i % classes}/${i}.png`, size: 1, read: async () => new Uint8Array() },
    label: i % classes,
  }));
}

const indexOf = (entry: DataEntry) => Number(entry.path.split('/')[1].split('.')[0]);

/** Every pixel of sample i's image is (i mod 256, i div 256, 7, 255): any crop gives the same word. */
const flatDecoder = (C: number) => async (entry: DataEntry) => {
  const i = indexOf(entry);
  const img = new Uint8Array(C * C * 4);
  for (let p = 0; p < img.length; p += 4) img.set([i & 255, (i >> 8) & 255, 7, 255], p);
  return img;
};
const flatWord = (i: number) => ((0xff << 24) | (7 << 16) | (((i >> 8) & 255) << 8) | (i & 255)) >>> 0;

/** A different random image for each sample, the same every time it is decoded. */
const noiseImage = (C: number, i: number) => {
  const r = seededRng(1000 + i);
  return Uint8Array.from({ length: C * C * 4 }, (_, k) => (k % 4 === 3 ? 255 : Math.floor(r() * 256)));
};
const noiseDecoder = (C: number) => async (entry: DataEntry) => noiseImage(C, indexOf(entry));

async function take(batcher: Batcher, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  if (n === 0) return out;
  for await (const batch of batcher) {
    out.push(batch);
    if (out.length === n) break;
  }
  return out;
}

/** The heap in use after a full collection, in MB. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const S = 4;
const C = 5;
const base = (o: Partial<BatcherOptions>): BatcherOptions => ({
  samples: samples(10),
  decode: flatDecoder(C),
  imageSize: S,
  cacheSize: C,
  batchSize: 4,
  seed: 1,
  augment: {},
  cacheBytes: 1 << 20,
  ...o,
});

describe('Batcher: batches', () => {
  it('packs [B, S, S] RGBA words with R in the low byte, labels and indices', async () => {
    const [batch] = await take(new Batcher(base({})), 1);
    expect(batch.pixels).toBeInstanceOf(Uint32Array);
    expect([batch.pixels.length, batch.labels.length, batch.indices.length, batch.count]).toEqual([4 * S * S, 4, 4, 4]);
    for (let b = 0; b < 4; b++) {
      const i = batch.indices[b];
      expect(batch.labels[b]).toBe(i % 3);
      for (let p = 0; p < S * S; p++) expect(batch.pixels[b * S * S + p]).toBe(flatWord(i));
    }
    // The same bytes as the RGBA image, in memory order.
    const bytes = new Uint8Array(batch.pixels.buffer, 0, 4);
    expect([...bytes]).toEqual([batch.indices[0] & 255, 0, 7, 255]);
  });

  it('covers every image once per epoch, reshuffled each epoch, completing the last batch from the next', async () => {
    const batches = await take(new Batcher(base({})), 5);
    const stream = batches.flatMap((b) => b.indices);
    const epoch0 = stream.slice(0, 10);
    const epoch1 = stream.slice(10, 20);
    expect([...epoch0].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect([...epoch1].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(epoch0).not.toEqual(epoch1);
    // 10 images in batches of 4: the third batch holds 2 of epoch 0 and 2 of epoch 1.
    expect(batches.map((b) => [b.count, b.epoch])).toEqual([
      [4, 0],
      [4, 0],
      [4, 0],
      [4, 1],
      [4, 1],
    ]);
  });

  it('gives the same batches for the same seed, whatever the decode timing, and others for another seed', async () => {
    const run = async (seed: number, slow: boolean) => {
      const r = seededRng(99);
      const decode = async (entry: DataEntry) => {
        if (slow) await new Promise((resolve) => setTimeout(resolve, Math.floor(r() * 4)));
        return noiseImage(8, indexOf(entry));
      };
      const batches = await take(
        new Batcher(base({ samples: samples(7), decode, imageSize: 6, cacheSize: 8, seed, decodes: 3 })),
        6,
      );
      return batches.map((b) => ({ indices: b.indices, pixels: [...b.pixels] }));
    };
    const a = await run(5, false);
    expect(await run(5, true)).toEqual(a);
    expect(await run(6, false)).not.toEqual(a);
  });

  it('crops each image with a random window of its own', async () => {
    const batcher = new Batcher(
      base({ decode: noiseDecoder(8), imageSize: 6, cacheSize: 8, augment: { crop: 'random', scale: [1, 1] } }),
    );
    const [batch] = await take(batcher, 1);
    const views = new Set<string>();
    for (let b = 0; b < 4; b++) {
      const image = new Uint32Array(batch.pixels.buffer, b * 36 * 4, 36);
      // Some S×S window of the image, mirrored or not, gives exactly these pixels.
      const matches = [];
      for (let y = 0; y <= 2; y++) {
        for (let x = 0; x <= 2; x++) {
          for (const flip of [false, true]) {
            const want = new Uint32Array(
              resample(noiseImage(8, batch.indices[b]), 8, { x, y, w: 6, h: 6, flip }, 6).buffer,
            );
            if (want.every((v, k) => v === image[k])) matches.push(`${x},${y},${flip}`);
          }
        }
      }
      expect(matches.length).toBe(1);
      views.add(matches[0]);
    }
    expect(views.size).toBeGreaterThan(1);
  });

  it('evaluates in order, once, centre-cropped, with a short last batch', async () => {
    const batcher = new Batcher(
      base({ decode: noiseDecoder(8), imageSize: 6, cacheSize: 8, augment: 'eval', batchSize: 4 }),
    );
    for (let pass = 0; pass < 2; pass++) {
      const batches: Batch[] = [];
      for await (const b of batcher) batches.push(b);
      expect(batches.map((b) => b.indices)).toEqual([
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
      ]);
      expect(batches.map((b) => [b.count, b.pixels.length, b.labels.length])).toEqual([
        [4, 144, 4],
        [4, 144, 4],
        [2, 72, 2],
      ]);
      const want = new Uint32Array(resample(noiseImage(8, 9), 8, evalView(8, 6), 6).buffer);
      expect([...batches[2].pixels.subarray(36)]).toEqual([...want]);
    }
    // The second pass came from the cache.
    expect(batcher.stats.decodeCalls).toBe(10);
    expect(batcher.stats.cacheHits).toBe(10);
  });

  it('checks its options', () => {
    expect(() => new Batcher(base({ samples: [] }))).toThrow(DatasetError);
    expect(() => new Batcher(base({ batchSize: 0 }))).toThrow(/batch size/);
    expect(() => new Batcher(base({ prefetch: 0 }))).toThrow(/prefetch/);
    expect(() => new Batcher(base({ imageSize: 6, cacheSize: 5 }))).toThrow(/cache size/);
    expect(() => new Batcher(base({ augment: { scale: [0, 1] } }))).toThrow(/crop scale/);
  });
});

describe('Batcher: undecodable images', () => {
  const failing = (bad: Set<number>, C: number) => async (entry: DataEntry) => {
    if (bad.has(indexOf(entry)))
      throw new DatasetError(`'${entry.path}': not a decodable image (broken ${indexOf(entry)})`);
    return flatDecoder(C)(entry);
  };

  it('skips them, lists each once, and goes on', async () => {
    const batcher = new Batcher(base({ decode: failing(new Set([2, 7]), C), cacheBytes: 0 }));
    const batches = await take(batcher, 8); // 32 images: more than 3 epochs of the 8 good ones
    const stream = batches.flatMap((b) => b.indices);
    expect(stream.length).toBe(32);
    expect(stream.some((i) => i === 2 || i === 7)).toBe(false);
    expect(new Set(stream.slice(0, 8))).toEqual(new Set([0, 1, 3, 4, 5, 6, 8, 9]));
    for (const b of batches) for (let k = 0; k < b.count; k++) expect(b.pixels[k * S * S]).toBe(flatWord(b.indices[k]));
    expect([...batcher.skipped].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'c1/7.png', reason: 'not a decodable image (broken 7)' },
      { path: 'c2/2.png', reason: 'not a decodable image (broken 2)' },
    ]);
  });

  it('skips them in evaluation and treats a wrong-sized image as undecodable', async () => {
    const decode = async (entry: DataEntry) => (indexOf(entry) === 4 ? new Uint8Array(3) : flatDecoder(C)(entry));
    const batcher = new Batcher(base({ decode, augment: 'eval', batchSize: 3 }));
    const batches: Batch[] = [];
    for await (const b of batcher) batches.push(b);
    expect(batches.map((b) => b.indices)).toEqual([
      [0, 1, 2],
      [3, 5, 6],
      [7, 8, 9],
    ]);
    expect(batcher.skipped).toEqual([{ path: 'c1/4.png', reason: 'decoded to 3 bytes, not 5×5 RGBA' }]);
  });

  it('ends with a DatasetError when no image can be decoded', async () => {
    const all = new Set([...Array(10).keys()]);
    for (const augment of [{}, 'eval'] as const) {
      const batcher = new Batcher(base({ decode: failing(all, C), augment }));
      const error = await take(batcher, 3).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(batcher.skipped.length).toBe(10);
      const { path, reason } = batcher.skipped[0];
      expect(error).toEqual(new DatasetError(`none of the 10 images could be decoded, e.g. '${path}': ${reason}`));
      expect(error).toBeInstanceOf(DatasetError);
    }
  });
});

describe('Batcher: memory and progress', () => {
  it('stays within its cache budget and prefetch queue over 50,000 samples', async () => {
    const n = 50_000;
    const Cs = 9;
    const imageBytes = Cs * Cs * 4;
    // Progress of the first pass: rising to the total, then silent.
    let reports = 0;
    let last: DecodeProgress | undefined;
    let rising = true;
    const onProgress = (p: DecodeProgress) => {
      rising &&= !last || p.decoded > last.decoded;
      last = p;
      reports++;
    };
    const batcher = new Batcher({
      samples: samples(n, 10),
      decode: flatDecoder(Cs),
      imageSize: 8,
      cacheSize: Cs,
      batchSize: 64,
      seed: 3,
      augment: {},
      cacheBytes: 100 * imageBytes + 50,
      prefetch: 3,
      decodes: 8,
      onProgress,
      progressMs: 0,
    });
    const heapBefore = heapAfterGc();
    let heapPeak = 0;
    const seen = new Uint8Array(n);
    let images = 0;
    let maxCached = 0;
    const steps = Math.ceil((1.2 * n) / 64);
    let step = 0;
    for await (const batch of batcher) {
      for (let k = 0; k < batch.count; k++) {
        expect(batch.pixels[k * 64]).toBe(flatWord(batch.indices[k]));
        if (images + k < n) seen[batch.indices[k]]++;
      }
      images += batch.count;
      maxCached = Math.max(maxCached, batcher.stats.cachedBytes);
      if (step % 100 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed / 2 ** 20 - heapBefore);
      // A slow consumer now and then, so the producer runs ahead into the bounded queue.
      if (step % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      if (++step === steps) break;
    }
    const stats = batcher.stats;
    const heapKept = heapAfterGc() - heapBefore;
    console.log(
      `50,000 samples, ${images} images in ${steps} batches: cache ${stats.cachedImages} images (${stats.cachedBytes} of ${100 * imageBytes + 50} bytes), ` +
        `most queued ${stats.maxQueued} (prefetch 3), most decodes in flight ${stats.maxInFlight} (8); heap above the start: at most ${heapPeak.toFixed(1)} MB sampled ` +
        `(garbage included), ${heapKept.toFixed(2)} MB kept after a full collection`,
    );
    expect(seen.every((c) => c === 1)).toBe(true);
    expect(maxCached).toBeLessThanOrEqual(100 * imageBytes + 50);
    expect(stats.cachedImages).toBe(100);
    expect(stats.cachedBytes).toBe(stats.cachedImages * imageBytes);
    expect(stats.maxQueued).toBeGreaterThan(0);
    expect(stats.maxQueued).toBeLessThanOrEqual(3);
    expect(stats.maxInFlight).toBeLessThanOrEqual(8);
    expect(stats.decodeCalls + stats.cacheHits).toBeGreaterThanOrEqual(images);
    expect(stats.decodeCalls + stats.cacheHits).toBeLessThanOrEqual(images + 3 * 64 + 64 + 8);
    expect(reports).toBe(n);
    expect(rising).toBe(true);
    expect([last?.decoded, last?.total, last?.secondsLeft]).toEqual([n, n, 0]);
    expect(last?.ratePerSec).toBeGreaterThan(0);
  });

  it('serves later epochs from the cache when it holds everything, and stops work on break', async () => {
    let calls = 0;
    const decode = async (entry: DataEntry) => (calls++, flatDecoder(C)(entry));
    const batcher = new Batcher(base({ decode, prefetch: 2 }));
    await take(batcher, 10);
    expect(calls).toBe(10);
    expect(batcher.stats.cachedImages).toBe(10);
    const none = new Batcher(base({ decode: async (e) => (calls++, flatDecoder(C)(e)), cacheBytes: 0 }));
    calls = 0;
    await take(none, 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = calls;
    expect(after).toBeGreaterThanOrEqual(20);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(after);
    expect(none.stats.cachedImages).toBe(0);
  });
});

describe('Batcher: real images (MNIST pack, sharp)', () => {
  it('decodes and batches PNGs at 224 and prints images/s', async () => {
    const zip = fileURLToPath(new URL('../../public/packs/mnist.zip', import.meta.url));
    const folder = imageFolder(selectImages(await zipTree(await openAsBlob(zip), 'mnist.zip')));
    // 40 of each class: 400 real PNGs.
    const chosen = folder.train.filter((_, i) => i % 300 < 40);
    expect(chosen.length).toBe(400);
    const S224 = 224;
    const C256 = 256;
    const B = 32;
    const batcher = new Batcher({
      samples: chosen,
      decode: nodeDecoder(C256),
      imageSize: S224,
      batchSize: B,
      seed: 0,
      augment: DEFAULT_AUGMENT,
      cacheBytes: chosen.length * C256 * C256 * 4,
      prefetch: 4,
      decodes: 4,
    });
    const epochBatches = Math.floor(chosen.length / B);
    let step = 0;
    let start = performance.now();
    let first = 0;
    for await (const batch of batcher) {
      expect(batch.pixels.length).toBe(B * S224 * S224);
      if (++step === epochBatches) {
        first = (epochBatches * B) / ((performance.now() - start) / 1000);
        start = performance.now();
      }
      if (step === 2 * epochBatches) break;
    }
    const cached = (epochBatches * B) / ((performance.now() - start) / 1000);
    expect(batcher.skipped).toEqual([]);
    // A digit on black: the centre of a 224 crop is mostly ink or background, never transparent.
    const [batch] = await take(
      new Batcher({
        samples: chosen.slice(0, 4),
        decode: nodeDecoder(C256),
        imageSize: S224,
        batchSize: 4,
        seed: 0,
        augment: 'eval',
        cacheBytes: 0,
      }),
      1,
    );
    expect(batch.pixels.every((p) => p >>> 24 === 255 && (p & 255) === ((p >>> 8) & 255))).toBe(true);
    console.log(
      `MNIST PNGs (28×28 → cache 256 → 224, random-resized crop + flip, batch ${B}): ` +
        `${Math.round(first)} images/s decoded with sharp and batched (first epoch), ${Math.round(cached)} images/s from the cache`,
    );
  });
});
