// The streaming batcher: samples in, batches of uint8 RGBA pixels out, ready for the GPU's
// normalize kernel. Decoded C×C cache images are kept up to a memory budget and decoded again
// beyond it; a bounded number of decodes run at once and a bounded number of batches wait ready,
// so memory stays bounded whatever the dataset's size:
//   cacheBytes + (prefetch + 2)·B·S²·4 + decodes·C²·4 bytes, plus a few bytes per sample
// (the batches queued, the one being filled and the one the consumer holds; the decodes' images).
// Every random choice depends only on the seed, the epoch and the position in that epoch's
// order, never on which decode finished first, so a run is the same at any decode speed.
//   training:   an endless stream over epochs, reshuffled each epoch; the last batch of an epoch
//               is completed from the next epoch's order, so no image is dropped
//   evaluation: each pass yields every image once, in order, with a short last batch
// The decode function is injected: sharp in Node (decode-node.ts), Workers in the browser.
import { mix, seededRng } from '../nn/rng.ts';
import {
  cacheSizeFor,
  DEFAULT_AUGMENT,
  evalView,
  resample,
  trainView,
  type AugmentOptions,
  type View,
} from './augment.ts';
import { DatasetError, type DataEntry, type LeftOut } from './entries.ts';
import type { Sample } from './layout.ts';
import { errorMessage } from '../gpu/error-message.ts';

/** Decodes an entry into its C×C RGBA cache image ([C, C, 4] uint8). */
export type DecodeEntry = (entry: DataEntry) => Promise<Uint8Array>;

export interface Batch {
  /** [count, S, S] RGBA, one pixel per word, R in the low byte: the normalize kernel's input. */
  pixels: Uint32Array;
  /** [count] class indices. */
  labels: Uint32Array;
  /** Index into `samples` of each image. */
  indices: number[];
  /** Images in the batch: B, except the last batch of an evaluation pass. */
  count: number;
  /** Training epoch of the batch's first image (0 in evaluation). */
  epoch: number;
}

export interface DecodeProgress {
  /** Images of the first pass decoded so far, or found undecodable. */
  decoded: number;
  total: number;
  ratePerSec: number;
  secondsLeft: number;
}

export interface BatcherOptions {
  samples: Sample[];
  decode: DecodeEntry;
  /** Model input S. */
  imageSize: number;
  /** Cache image size C; round(S·8/7) by default. */
  cacheSize?: number;
  batchSize: number;
  seed: number;
  /** Training augmentation (defaults from DEFAULT_AUGMENT), or 'eval': centre crop, in order, once. */
  augment: Partial<AugmentOptions> | 'eval';
  /** Memory budget for decoded cache images kept between uses, in bytes; 0 decodes every image every time. */
  cacheBytes: number;
  /** Training: images of the stream passed over, undecoded, before the first batch (a resumed run
   *  starts where it stopped); 0 by default. */
  skip?: number;
  /** Batches prepared ahead of the consumer; 2 by default. */
  prefetch?: number;
  /** Decodes in flight at once; 4 by default. */
  decodes?: number;
  /** The first pass's progress, at most every `progressMs` (250 by default) and once at its end. */
  onProgress?: (progress: DecodeProgress) => void;
  progressMs?: number;
}

/** What the batcher holds now, and the most it has held. */
export interface BatcherStats {
  cachedImages: number;
  cachedBytes: number;
  queued: number;
  maxQueued: number;
  inFlight: number;
  maxInFlight: number;
  /** Calls of the decode function, and requests served from the cache. */
  decodeCalls: number;
  cacheHits: number;
}

/** One image's place in the stream. */
interface Item {
  index: number;
  epoch: number;
  position: number;
}

const ORDER = 1;
const VIEW = 2;

const positiveInteger = (name: string, v: number) => {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a whole number of at least 1, got ${v}`);
};

export class Batcher implements AsyncIterable<Batch> {
  readonly samples: Sample[];
  readonly imageSize: number;
  readonly cacheSize: number;
  readonly batchSize: number;
  /** Images that could not be decoded, each listed once, with the reason. */
  readonly skipped: LeftOut[] = [];

  private readonly options: BatcherOptions;
  private readonly augment: AugmentOptions | 'eval';
  private readonly prefetch: number;
  private readonly decodes: number;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly pending = new Map<number, Promise<Uint8Array | undefined>>();
  private readonly failed: Uint8Array;
  private failedCount = 0;
  private readonly counters = {
    cachedBytes: 0,
    queued: 0,
    maxQueued: 0,
    inFlight: 0,
    maxInFlight: 0,
    decodeCalls: 0,
    cacheHits: 0,
  };
  private readonly firstPass: { seen: Uint8Array; done: number; start: number; lastReport: number };

  constructor(options: BatcherOptions) {
    const { samples, imageSize, batchSize, cacheBytes } = options;
    if (samples.length === 0) throw new DatasetError('there are no images to batch');
    this.samples = samples;
    this.imageSize = imageSize;
    this.cacheSize = options.cacheSize ?? cacheSizeFor(imageSize);
    this.batchSize = batchSize;
    this.prefetch = options.prefetch ?? 2;
    this.decodes = options.decodes ?? 4;
    positiveInteger('the batch size', batchSize);
    positiveInteger('prefetch', this.prefetch);
    positiveInteger('decodes in flight', this.decodes);
    if (!(cacheBytes >= 0)) throw new RangeError(`the cache budget must be 0 or more bytes, got ${cacheBytes}`);
    this.augment = options.augment === 'eval' ? 'eval' : { ...DEFAULT_AUGMENT, ...options.augment };
    // Checks the sizes and the augmentation options now rather than at the first batch.
    if (this.augment === 'eval') evalView(this.cacheSize, imageSize);
    else trainView(this.cacheSize, imageSize, this.augment, () => 0.5);
    this.options = options;
    this.failed = new Uint8Array(samples.length);
    this.firstPass = { seen: new Uint8Array(samples.length), done: 0, start: 0, lastReport: 0 };
  }

  get stats(): BatcherStats {
    return { ...this.counters, cachedImages: this.cache.size };
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.batches();
  }

  /** Training: batches without end, over epochs. Evaluation: one pass over the samples. Stop
   *  with `break` (or the iterator's return()): the work in flight is then dropped. */
  async *batches(): AsyncGenerator<Batch, void, undefined> {
    const queue: Batch[] = [];
    let finished = false;
    let failure: { error: unknown } | undefined;
    let stopped = false;
    // Resolvers of the side that sleeps; calling a spent one does nothing.
    let wakeConsumer = () => {};
    let wakeProducer = () => {};

    const put = async (batch: Batch): Promise<boolean> => {
      while (queue.length >= this.prefetch && !stopped) await new Promise<void>((r) => (wakeProducer = r));
      if (stopped) return false;
      queue.push(batch);
      this.counters.queued = queue.length;
      this.counters.maxQueued = Math.max(this.counters.maxQueued, queue.length);
      wakeConsumer();
      return true;
    };
    this.produce(put, () => stopped)
      .then(
        () => (finished = true),
        (error: unknown) => ((failure = { error }), (finished = true)),
      )
      .finally(() => wakeConsumer());

    try {
      for (;;) {
        const batch = queue.shift();
        if (batch) {
          this.counters.queued = queue.length;
          wakeProducer();
          yield batch;
        } else if (finished) {
          if (failure) throw failure.error;
          return;
        } else {
          await new Promise<void>((r) => (wakeConsumer = r));
        }
      }
    } finally {
      stopped = true;
      this.counters.queued = 0;
      wakeProducer();
    }
  }

  /** The images of the stream in order, those known to be undecodable left out. */
  private *stream(): Generator<Item> {
    const n = this.samples.length;
    if (this.augment === 'eval') {
      for (let index = 0; index < n; index++) if (!this.failed[index]) yield { index, epoch: 0, position: index };
      return;
    }
    for (let epoch = 0; ; epoch++) {
      const order = this.order(epoch);
      for (let position = 0; position < n; position++) {
        if (this.failedCount === n) return;
        if (!this.failed[order[position]]) yield { index: order[position], epoch, position };
      }
    }
  }

  /** Epoch e's order: a Fisher-Yates shuffle drawn with (seed, e). */
  private order(epoch: number): Uint32Array {
    const order = Uint32Array.from({ length: this.samples.length }, (_, i) => i);
    const rng = seededRng(mix(this.options.seed, epoch, ORDER));
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  private view(item: Item): View {
    if (this.augment === 'eval') return evalView(this.cacheSize, this.imageSize);
    return trainView(
      this.cacheSize,
      this.imageSize,
      this.augment,
      seededRng(mix(this.options.seed, item.epoch, item.position, VIEW)),
    );
  }

  private newBatch(epoch: number): Batch {
    const B = this.batchSize;
    const S = this.imageSize;
    return { pixels: new Uint32Array(B * S * S), labels: new Uint32Array(B), indices: [], count: 0, epoch };
  }

  /** Fills batches in stream order, `decodes` images ahead, and hands them to `put`. */
  private async produce(put: (batch: Batch) => Promise<boolean>, stopped: () => boolean): Promise<void> {
    const S = this.imageSize;
    const B = this.batchSize;
    const items = this.stream();
    for (let i = 0; i < (this.options.skip ?? 0) && this.augment !== 'eval'; i++) items.next();
    const window: { item: Item; image: Promise<Uint8Array | undefined> }[] = [];
    let batch: Batch | undefined;
    let yielded = 0;
    for (;;) {
      while (window.length < this.decodes) {
        const next = items.next();
        if (next.done) break;
        const image = this.load(next.value.index);
        // Only a throwing onProgress rejects; the head's await reports it, the rest are dropped.
        image.catch(() => undefined);
        window.push({ item: next.value, image });
      }
      if (window.length === 0) break;
      const image = await window[0].image;
      if (stopped()) return;
      const { item } = window.shift()!;
      if (!image) continue;
      batch ??= this.newBatch(item.epoch);
      const k = batch.count++;
      const out = new Uint8Array(batch.pixels.buffer, k * S * S * 4, S * S * 4);
      resample(image, this.cacheSize, this.view(item), S, out);
      batch.labels[k] = this.samples[item.index].label;
      batch.indices.push(item.index);
      if (batch.count === B) {
        yielded += B;
        if (!(await put(batch))) return;
        batch = undefined;
      }
    }
    if (batch) {
      const n = batch.count;
      yielded += n;
      if (!(await put({ ...batch, pixels: batch.pixels.slice(0, n * S * S), labels: batch.labels.slice(0, n) })))
        return;
    }
    // Training only ends when no image is left; an evaluation pass, when it had none.
    if (this.augment !== 'eval' || yielded === 0) {
      const first = this.skipped[0];
      const example = first ? `, e.g. '${first.path}': ${first.reason}` : '';
      throw new DatasetError(`none of the ${this.samples.length} images could be decoded${example}`);
    }
  }

  /** A sample's cache image, from the cache or decoded; undefined when it cannot be decoded. A
   *  sample already being decoded (the end of one epoch meeting the start of the next) is not
   *  decoded twice. */
  private load(index: number): Promise<Uint8Array | undefined> {
    const cached = this.cache.get(index);
    if (cached) {
      this.counters.cacheHits++;
      return Promise.resolve(cached);
    }
    let pending = this.pending.get(index);
    if (!pending) {
      pending = this.decodeOne(index).finally(() => this.pending.delete(index));
      this.pending.set(index, pending);
    }
    return pending;
  }

  private async decodeOne(index: number): Promise<Uint8Array | undefined> {
    const C = this.cacheSize;
    const c = this.counters;
    c.decodeCalls++;
    c.maxInFlight = Math.max(c.maxInFlight, ++c.inFlight);
    if (this.firstPass.start === 0) this.firstPass.start = performance.now();
    let image: Uint8Array | undefined;
    try {
      image = await this.options.decode(this.samples[index].entry);
      if (image.length !== C * C * 4) throw new Error(`decoded to ${image.length} bytes, not ${C}×${C} RGBA`);
    } catch (e) {
      image = undefined;
      this.skip(index, e);
    } finally {
      c.inFlight--;
    }
    // Kept while the budget allows and never evicted: with a new random order every epoch, any
    // fixed subset is hit as often as any other, and swapping images in and out only costs.
    if (image && c.cachedBytes + image.length <= this.options.cacheBytes) {
      this.cache.set(index, image);
      c.cachedBytes += image.length;
    }
    this.progress(index);
    return image;
  }

  /** Marks a sample undecodable and lists it once; the decoder's "'path': " prefix is dropped. */
  private skip(index: number, e: unknown) {
    if (this.failed[index]) return;
    const path = this.samples[index].entry.path;
    this.failed[index] = 1;
    this.failedCount++;
    const message = errorMessage(e);
    const prefix = `'${path}': `;
    this.skipped.push({ path, reason: message.startsWith(prefix) ? message.slice(prefix.length) : message });
  }

  private progress(index: number) {
    const p = this.firstPass;
    const total = this.samples.length;
    if (p.seen[index] || p.done === total) return;
    p.seen[index] = 1;
    p.done++;
    const now = performance.now();
    if (p.done < total && now - p.lastReport < (this.options.progressMs ?? 250)) return;
    p.lastReport = now;
    const ratePerSec = p.done / Math.max((now - p.start) / 1000, 1e-9);
    this.options.onProgress?.({ decoded: p.done, total, ratePerSec, secondsLeft: (total - p.done) / ratePerSec });
  }
}
