// A whole split through the model, batch by batch: mean cross-entropy, top-1 accuracy, the confusion
// matrix, and optionally every image's prediction (with pictures, mistakes first, within a byte
// budget). The page's runs, `stochca train` and `stochca eval` all score this way.
import type { Batch, Batcher } from '../data/batcher.ts';
import type { Engine } from './engine-api.ts';
import { PICTURE_BYTES, type Prediction } from './records.ts';
import { scoreRow } from './scoring.ts';

export interface SplitScore {
  loss: number;
  accuracy: number;
  count: number;
  /** confusion[true][predicted] over the model's `classes` outputs. */
  confusion: number[][];
  /** One per image in the batcher's order when asked for, else empty. */
  predictions: Prediction[];
}

/** `session`: the training run's current weights ('trainLogits') or the evaluation session's ('evalLogits'). */
export async function evaluateSplit(
  engine: Engine,
  session: 'trainLogits' | 'evalLogits',
  batcher: Batcher,
  classes: number,
  keepPredictions = false,
): Promise<SplitScore> {
  const S = batcher.imageSize;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const predictions: Prediction[] = [];
  const picture = pictures(S * S * 4);
  let loss = 0;
  let count = 0;
  const take = (b: Batch, logits: Float32Array) => {
    for (let i = 0; i < b.count; i++) {
      const label = b.labels[i];
      const r = scoreRow(logits, i, classes, label);
      loss += r.loss;
      confusion[label][r.predicted]++;
      if (keepPredictions) {
        const p: Prediction = {
          label,
          predicted: r.predicted,
          confidence: r.confidence,
          path: batcher.samples[b.indices[i]].entry.path,
        };
        picture(p, () => new Uint8Array(b.pixels.buffer.slice(i * S * S * 4, (i + 1) * S * S * 4)));
        predictions.push(p);
      }
    }
    count += b.count;
  };
  // One batch in flight while the previous one is scored and the next decoded: each batch's forward
  // pass ends in a readback, and queueing the next batch first lets that CPU work overlap the GPU's.
  // Batches own their pixels, and the engine queues the calls in order.
  let ahead: { b: Batch; logits: Promise<Float32Array> } | undefined;
  for await (const b of batcher as AsyncIterable<Batch>) {
    const logits = engine.call(session, b.pixels, b.count);
    logits.catch(() => undefined); // awaited below; a failure of the batch before must not leave it unhandled
    if (ahead) take(ahead.b, await ahead.logits);
    ahead = { b, logits };
  }
  if (ahead) take(ahead.b, await ahead.logits);
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  return { loss: loss / Math.max(1, count), accuracy: correct / Math.max(1, count), count, confusion, predictions };
}

/** Gives predictions their pictures of `bytes` each while PICTURE_BYTES last; past it, a mistake
 *  takes the picture of the latest right prediction that has one. */
function pictures(bytes: number): (p: Prediction, pixels: () => Uint8Array) => void {
  const right: Prediction[] = [];
  let used = 0;
  return (p, pixels) => {
    const wrong = p.predicted !== p.label;
    if (used + bytes <= PICTURE_BYTES) used += bytes;
    else if (wrong && right.length) delete right.pop()!.pixels;
    else return;
    p.pixels = pixels();
    if (!wrong) right.push(p);
  };
}
