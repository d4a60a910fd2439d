// Decoding in the page, off the main thread: a small pool of workers (decode-worker.ts), each given
// at most two images at a time, so that it has its next image while it finishes one. Requests wait
// in a queue holding only the entry or Blob, so a caller may ask for many images at once and only
// the images in the workers have their bytes in memory.
import type { DataEntry } from './entries.ts';
import type { DecodeReply, DecodeRequest } from './decode-worker.ts';

/** An image that cannot be used, and why; `path` and `reason` are what a list of left-out files
 *  shows. */
export class ImageDecodeError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot use '${path}': ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

export interface DecoderOptions {
  /** Workers in the pool; min(4, the machine's cores) by default. */
  workers?: number;
  /** Images with more pixels are refused (100 megapixels by default: 400 MB decoded). */
  maxPixels?: number;
}

interface Job {
  source: DataEntry | Blob;
  path: string;
  size: number;
  resolve(pixels: Uint8Array): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  /** The images sent to this worker (or being read for it), by request id. */
  jobs: Map<number, Job>;
}

const PER_WORKER = 2;

const isEntry = (source: DataEntry | Blob): source is DataEntry => typeof (source as DataEntry).read === 'function';

export class BrowserDecoder {
  readonly workers: number;
  readonly maxPixels: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(options: DecoderOptions = {}) {
    this.workers = options.workers ?? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
    this.maxPixels = options.maxPixels ?? 100_000_000;
    for (let i = 0; i < this.workers; i++) this.slots.push(this.startWorker());
  }

  /** The image as [C, C, 4] RGBA bytes: scaled so its shorter side is C, centre-cropped to C × C.
   *  Rejects with an ImageDecodeError naming the file (an entry's path, a File's name) when the
   *  bytes are not a decodable image or the image is over the pixel limit. */
  decode(source: DataEntry | Blob, size: number): Promise<Uint8Array> {
    const path = isEntry(source) ? source.path : ((source as Partial<File>).name ?? 'the image');
    if (this.closed) return Promise.reject(new Error('the decoder is closed'));
    if (!Number.isInteger(size) || size < 1 || size > 4096)
      return Promise.reject(new RangeError(`image size must be an integer in 1..4096, got ${size}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ source, path, size, resolve, reject });
      this.pump();
    });
  }

  /** Images queued or being decoded. */
  get pending(): number {
    return this.queue.length + this.slots.reduce((n, s) => n + s.jobs.size, 0);
  }

  /** Ends the workers; what is still queued or running rejects. */
  close(): void {
    this.fail(new Error('the decoder was closed'));
  }

  private fail(error: Error): void {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(error);
    for (const slot of this.slots) {
      slot.worker.terminate();
      for (const job of slot.jobs.values()) job.reject(error);
      slot.jobs.clear();
    }
  }

  private startWorker(): Slot {
    const worker = new Worker(new URL('./decode-worker.ts', import.meta.url), {
      type: 'module',
      name: 'image decoder',
    });
    const slot: Slot = { worker, jobs: new Map() };
    worker.onmessage = (event: MessageEvent<DecodeReply>) => {
      const reply = event.data;
      const job = slot.jobs.get(reply.id);
      if (!job) return;
      slot.jobs.delete(reply.id);
      if ('pixels' in reply) job.resolve(reply.pixels);
      else job.reject(new ImageDecodeError(job.path, reply.reason));
      this.pump();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const message = event.message || 'worker error';
      worker.terminate();
      const index = this.slots.indexOf(slot);
      if (slot.jobs.size > 0) {
        // A worker that dies on an image (out of memory, say) fails its images only.
        this.slots[index] = this.startWorker();
        for (const job of slot.jobs.values())
          job.reject(new ImageDecodeError(job.path, `the decoder failed (${message})`));
      } else {
        // One that fails with nothing to do could not start: restarting it would fail again.
        this.slots.splice(index, 1);
        if (this.slots.length === 0) this.fail(new Error(`the image decoding workers could not start (${message})`));
      }
      this.pump();
    };
    return slot;
  }

  /** Hands queued images to the least busy workers. */
  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      const slot = this.slots.reduce<Slot | undefined>((a, b) => (!a || b.jobs.size < a.jobs.size ? b : a), undefined);
      if (!slot || slot.jobs.size >= PER_WORKER) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.jobs.set(id, job);
      this.send(slot, id, job).catch((e) => {
        if (!slot.jobs.delete(id)) return;
        job.reject(e);
        this.pump();
      });
    }
  }

  private async send(slot: Slot, id: number, job: Job): Promise<void> {
    // An entry is read only now, so waiting requests hold no bytes.
    const blob = isEntry(job.source) ? new Blob([(await job.source.read()) as Uint8Array<ArrayBuffer>]) : job.source;
    // The worker may have died, or the decoder closed, while the entry was read.
    if (slot.jobs.get(id) !== job) return;
    slot.worker.postMessage({ id, blob, size: job.size, maxPixels: this.maxPixels } satisfies DecodeRequest);
  }
}
