// evaluateSplit's predictions for the gallery: one per image with its confidence, counted as the
// confusion matrix counts them, and pictures within PICTURE_BYTES with the mistakes first.
import { describe, expect, it } from 'vitest';
import type { Batch, Batcher } from '../../src/data/batcher.ts';
import type { Engine } from '../../src/train/engine-api.ts';
import { evaluateSplit } from '../../src/train/evaluate.ts';
import { PICTURE_BYTES } from '../../src/train/records.ts';

/** A split of n S×S images in batches of 4, image i of class i % 2; the engine predicts class 1
 *  for the images of `wrongFrom` on (so those of class 0 are mistakes), class = label before. */
function fixture(n: number, S: number, wrongFrom: number) {
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const batches: Batch[] = [];
  for (let at = 0; at < n; at += 4) {
    const count = Math.min(4, n - at);
    const pixels = new Uint32Array(count * S * S).map((_, k) => at + Math.floor(k / (S * S))); // each image filled with its index
    batches.push({
      pixels,
      labels: Uint32Array.from(labels.slice(at, at + count)),
      indices: Array.from({ length: count }, (_, k) => at + k),
      count,
      epoch: 0,
    });
  }
  const batcher = {
    imageSize: S,
    samples: labels.map((label, i) => ({ label, entry: { path: `img${i}.png` } })),
    async *[Symbol.asyncIterator]() {
      yield* batches;
    },
  } as unknown as Batcher;
  let seen = 0;
  const engine: Engine = {
    call: (async (_name: string, _pixels: Uint32Array, count: number) => {
      const logits = new Float32Array(count * 2);
      for (let k = 0; k < count; k++, seen++) logits[k * 2 + (seen >= wrongFrom ? 1 : labels[seen])] = Math.log(3); // softmax 3/4 on it
      return logits;
    }) as Engine['call'],
  };
  return { batcher, engine };
}

describe('evaluateSplit predictions', () => {
  it('gives every image its prediction and confidence, as the confusion matrix counts them', async () => {
    const { batcher, engine } = fixture(10, 2, 6);
    const r = await evaluateSplit(engine, 'trainLogits', batcher, 2, true);
    expect(r.predictions.map((p) => p.path)).toEqual(Array.from({ length: 10 }, (_, i) => `img${i}.png`));
    for (const p of r.predictions) expect(p.confidence).toBeCloseTo(0.75, 6);
    const counted = [
      [0, 0],
      [0, 0],
    ];
    for (const p of r.predictions) counted[p.label][p.predicted]++;
    expect(counted).toEqual(r.confusion);
    expect(r.confusion).toEqual([
      [3, 2],
      [0, 5],
    ]);
    expect(r.predictions.every((p) => p.pixels?.length === 2 * 2 * 4)).toBe(true);
    expect(new Uint32Array(r.predictions[7].pixels!.buffer)[0]).toBe(7);
    expect((await evaluateSplit(fixture(10, 2, 6).engine, 'trainLogits', batcher, 2)).predictions).toEqual([]);
  });

  it('pictures images while PICTURE_BYTES last, then mistakes in place of right ones', async () => {
    const S = 512; // 1 MiB an image
    const fit = PICTURE_BYTES / (S * S * 4);
    const n = fit + 8;
    const { batcher, engine } = fixture(n, S, fit); // the last 8: 4 mistakes (class 0), 4 right
    const r = await evaluateSplit(engine, 'trainLogits', batcher, 2, true);
    const pictured = r.predictions.filter((p) => p.pixels);
    expect(pictured).toHaveLength(fit);
    expect(r.predictions.filter((p) => p.predicted !== p.label).every((p) => p.pixels)).toBe(true);
    // The 4 late mistakes took the pictures of the 4 latest right ones; the late right ones got none.
    const lost = r.predictions.flatMap((p, i) => (p.pixels ? [] : [i]));
    expect(lost).toEqual([fit - 4, fit - 3, fit - 2, fit - 1, fit + 1, fit + 3, fit + 5, fit + 7]);
  });
});
