// One training run inside the worker: opens the dataset, loads the model, runs the StochCA (or,
// with p = 0, fine-tuning) steps with evaluations, checkpoints into OPFS after each evaluation,
// and ends with the confusion matrix of the validation split. Pausing waits between steps;
// stopping ends after the step in progress; every failure keeps what the run has.
import { loadModelFile, saveModelFile } from '../checkpoint/model-file.ts';
import { cacheSizeFor } from '../data/augment.ts';
import { Batcher, type Batch } from '../data/batcher.ts';
import { treeOfSource } from '../data/dataset-source.ts';
import { BrowserDecoder } from '../data/decode-browser.ts';
import { DatasetError, selectImages } from '../data/entries.ts';
import { imageFolder } from '../data/layout.ts';
import { splitDataset } from '../data/split.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { DeviceLostError, GpuError } from '../gpu/errors.ts';
import { CheckpointError } from '../checkpoint/safetensors.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from '../nn/ops/normalize.ts';
import { scoreRow } from '../train/scoring.ts';
import { TrainingSession } from '../train/session.ts';
import { loadCheckpointState, saveCheckpoint } from './checkpoint-store.ts';
import { MAX_MISTAKES, type ErrorKind, type EvalPoint, type FromWorker, type Mistake, type RunInfo, type ToWorker } from './protocol.ts';

type Start = Extract<ToWorker, { type: 'start' }>;

/** Decoded images kept between epochs: enough for the built-in packs at 28 px many times over. */
const CACHE_BYTES = 192 * 2 ** 20;

export class RunControl {
  paused = false;
  stopped = false;
  private wake = () => {};

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /** Resolves when not paused (or stopped). */
  async whilePaused(onPause: () => void): Promise<void> {
    if (!this.paused || this.stopped) return;
    onPause();
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
  }
}

/** What went wrong, for the person: the kind decides the advice the page shows. */
export function classify(e: unknown): { kind: ErrorKind; message: string } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof DeviceLostError) return { kind: 'device-lost', message };
  if (e instanceof GpuError && e.kind === 'out-of-memory') return { kind: 'out-of-memory', message };
  if (e instanceof RangeError && /does not fit/.test(message)) return { kind: 'out-of-memory', message };
  if (e instanceof DatasetError) return { kind: 'data', message };
  if (e instanceof CheckpointError) return { kind: 'model', message };
  return { kind: 'other', message };
}

export async function runTraining(gpu: Gpu, msg: Start, control: RunControl, post: (m: FromWorker) => void): Promise<void> {
  const { runId, settings: s } = msg;
  const files = selectImages(await treeOfSource(msg.data));
  const folder = imageFolder(files);
  const split = splitDataset(folder, { seed: s.seed, valFraction: s.valFraction, trainFraction: s.fraction });
  const model = loadModelFile(msg.model, {
    numClasses: folder.classes.length, classNames: folder.classes, imageSize: s.imageSize || undefined, seed: s.seed,
  });
  model.classNames = folder.classes;
  model.normalization ??= { mean: IMAGENET_MEAN, std: IMAGENET_STD };
  const p = s.method === 'finetune' ? 0 : s.p;
  const session = new TrainingSession(gpu, model, { ...s, p, ...model.normalization });
  let first = 1;
  if (msg.resumeFromStep) {
    const saved = await loadCheckpointState(runId);
    session.restore(saved.state);
    first = saved.step + 1;
  }
  const parameters = [...model.weights.values()].reduce((n, t) => n + t.data.length, 0);
  const info: RunInfo = {
    config: model.config, parameters, plannedBytes: session.plannedBytes, classes: folder.classes,
    counts: { train: split.train.length, val: split.val.length, test: split.test.length },
    changes: model.changes, leftOut: [...files.leftOut, ...folder.leftOut], problems: folder.problems,
  };
  post({ type: 'info', runId, info });

  const S = model.config.imageSize;
  const decoder = new BrowserDecoder();
  const decode = (entry: Parameters<BrowserDecoder['decode']>[0]) => decoder.decode(entry, cacheSizeFor(S));
  const train = new Batcher({
    samples: split.train, decode, imageSize: S, batchSize: s.batch, seed: s.seed, cacheBytes: CACHE_BYTES,
    augment: { crop: s.crop, flip: s.flip }, skip: (first - 1) * s.batch,
    onProgress: (d) => post({ type: 'decode', runId, ...d }),
  });
  const val = split.val.length
    ? new Batcher({ samples: split.val, decode, imageSize: S, batchSize: s.batch, seed: s.seed, cacheBytes: CACHE_BYTES, augment: 'eval' })
    : undefined;
  const classes = folder.classes.length;

  const evaluate = async (withMistakes: boolean): Promise<EvalPoint & { confusion: number[][]; mistakes: Mistake[] }> => {
    const confusion = folder.classes.map(() => new Array<number>(classes).fill(0));
    const mistakes: Mistake[] = [];
    let loss = 0;
    let count = 0;
    for await (const b of val! as AsyncIterable<Batch>) {
      const logits = await session.logits(b.pixels, b.count);
      for (let i = 0; i < b.count; i++) {
        const { predicted, loss: l } = scoreRow(logits, i, classes, b.labels[i]);
        loss += l;
        confusion[b.labels[i]][predicted]++;
        if (withMistakes && predicted !== b.labels[i] && mistakes.length < MAX_MISTAKES) {
          const pixels = new Uint8Array(b.pixels.buffer.slice(i * S * S * 4, (i + 1) * S * S * 4));
          mistakes.push({ label: b.labels[i], predicted, path: split.val[b.indices[i]].entry.path, pixels });
        }
      }
      count += b.count;
    }
    const correct = confusion.reduce((acc, row, i) => acc + row[i], 0);
    return { step: 0, loss: loss / count, accuracy: correct / count, count, confusion, mistakes };
  };

  const started = performance.now();
  const before = msg.secondsBefore ?? 0;
  let step = first - 1;
  let reason: 'finished' | 'stopped' | 'failed' = 'finished';
  // The last step's evaluation also gives the confusion matrix, so the run does not score it twice.
  let final: Awaited<ReturnType<typeof evaluate>> | undefined;
  try {
    if (step < s.steps) {
      for await (const b of train as AsyncIterable<Batch>) {
        await control.whilePaused(() => post({ type: 'paused', runId, step }));
        if (control.stopped) {
          reason = 'stopped';
          break;
        }
        const r = await session.step(b.pixels, b.labels, ++step);
        const seconds = before + (performance.now() - started) / 1000;
        post({ type: 'step', runId, point: { ...r, seconds, epoch: b.epoch, imagesPerSec: ((step - first + 1) * s.batch) / seconds } });
        if (!Number.isFinite(r.loss)) {
          post({ type: 'error', runId, kind: 'nan', message: `the training loss became ${r.loss} at step ${step}` });
          reason = 'failed';
          break;
        }
        const last = step >= s.steps;
        if (step % s.evalEvery !== 0 && !last) continue;
        if (val) {
          const e = await evaluate(last);
          if (last) final = e;
          post({ type: 'eval', runId, point: { step, loss: e.loss, accuracy: e.accuracy, count: e.count } });
        }
        const state = await session.state();
        await saveCheckpoint(runId, saveModelFile({ ...model, weights: session.named(state.weights) }), state, step);
        post({ type: 'checkpoint', runId, step });
        if (last) break;
      }
    }
    if (val && reason !== 'failed') final ??= await evaluate(true);
    post({ type: 'done', runId, reason, confusion: final?.confusion, mistakes: final?.mistakes });
  } catch (e) {
    post({ type: 'error', runId, ...classify(e) });
    post({ type: 'done', runId, reason: 'failed' });
  } finally {
    decoder.close();
  }
}
