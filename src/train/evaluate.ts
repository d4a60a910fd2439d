// A whole split through the model, batch by batch: mean cross-entropy, top-1 accuracy, the confusion
// matrix, and optionally the misclassified images. The page's runs, `stochca train` and
// `stochca eval` all score this way.
import type { Batch, Batcher } from '../data/batcher.ts';
import type { Engine } from './engine-api.ts';
import { MAX_MISTAKES, type Mistake } from './records.ts';
import { scoreRow } from './scoring.ts';

export interface SplitScore {
  loss: number;
  accuracy: number;
  count: number;
  /** confusion[true][predicted] over the model's `classes` outputs. */
  confusion: number[][];
  mistakes: Mistake[];
}

/** `session`: the training run's current weights ('trainLogits') or the evaluation session's ('evalLogits'). */
export async function evaluateSplit(
  engine: Engine, session: 'trainLogits' | 'evalLogits', batcher: Batcher, classes: number, keepMistakes = false,
): Promise<SplitScore> {
  const S = batcher.imageSize;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const mistakes: Mistake[] = [];
  let loss = 0;
  let count = 0;
  for await (const b of batcher as AsyncIterable<Batch>) {
    const logits = await engine.call(session, b.pixels, b.count);
    for (let i = 0; i < b.count; i++) {
      const label = b.labels[i];
      const r = scoreRow(logits, i, classes, label);
      loss += r.loss;
      confusion[label][r.predicted]++;
      if (keepMistakes && r.predicted !== label && mistakes.length < MAX_MISTAKES) {
        const pixels = new Uint8Array(b.pixels.buffer.slice(i * S * S * 4, (i + 1) * S * S * 4));
        mistakes.push({ label, predicted: r.predicted, path: batcher.samples[b.indices[i]].entry.path, pixels });
      }
    }
    count += b.count;
  }
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  return { loss: loss / Math.max(1, count), accuracy: correct / Math.max(1, count), count, confusion, mistakes };
}
