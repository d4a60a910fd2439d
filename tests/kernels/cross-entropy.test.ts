// Cross-entropy: loss and correct count against a float64 reference; dlogits against
// finite differences of the reference loss (the loss is the root of the backward pass,
// so its upstream gradient is 1).
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradClose, finiteDiff } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, rng, sampleIndices, uniform } from '../helpers/random.ts';
import { crossEntropyRef } from '../reference/cross-entropy.ts';
import type { DType } from '../../src/gpu/tensor.ts';

interface Run {
  logits: Float64Array;
  labels: number[];
  B: number;
  C: number;
  dtype?: DType;
  withGrad?: boolean;
}

async function run(r: Run): Promise<{ loss: number; correct: number; dlogits: number[] }> {
  const page = await harnessPage();
  return page.evaluate(
    async ({ logits, labels, B, C, dtype, withGrad }) => {
      const { gpu, ops, up, empty, down } = window.stochca!;
      const loss = empty([1]);
      const correct = empty([1], 'u32');
      const dlogits = withGrad ? empty([B, C]) : undefined;
      ops.crossEntropy(gpu, up(logits, [B, C]), up(labels, [B], dtype), loss, correct, dlogits);
      return {
        loss: (await down(loss))[0],
        correct: (await down(correct))[0],
        dlogits: dlogits ? await down(dlogits) : [],
      };
    },
    { ...r, logits: [...r.logits], dtype: r.dtype ?? 'u32', withGrad: r.withGrad ?? true },
  );
}

function randomLabels(B: number, C: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: B }, () => Math.floor(r() * C));
}

/** Checks every output of a run against the reference; dlogits against finite differences too. */
function check(r: Run, out: Awaited<ReturnType<typeof run>>, what: string): void {
  const ref = crossEntropyRef(r.logits, r.labels, r.B, r.C);
  expectClose([out.loss], [ref.loss], 1e-5, `${what} loss`);
  expect(out.correct, `${what} correct`).toBe(ref.correct);
  if (r.withGrad === false) return;
  expectClose(out.dlogits, ref.dlogits, 1e-5, `${what} dlogits`);
  // Random entries plus each row's label, where the gradient is large even for peaked rows.
  const labelled = r.labels.flatMap((y, b) => (y >= 0 && y < r.C ? [b * r.C + y] : []));
  const idx = [...new Set([...sampleIndices(r.B * r.C, 48, r.B + r.C), ...labelled.slice(0, 16)])].sort(
    (a, b) => a - b,
  );
  const f = ([x]: Float64Array[]) => Float64Array.of(crossEntropyRef(x, r.labels, r.B, r.C).loss);
  expectGradClose(out.dlogits, finiteDiff(f, [r.logits], 0, Float64Array.of(1), idx), idx, 1e-4, `${what} dlogits`);
}

describe('crossEntropy', () => {
  for (const B of [1, 7, 33]) {
    for (const C of [2, 10, 1000]) {
      it(`B=${B} C=${C}`, async () => {
        const r: Run = { logits: normal(B * C, B * 1000 + C, 2), labels: randomLabels(B, C, B + C), B, C };
        check(r, await run(r), `B=${B} C=${C}`);
      });
    }
  }

  it('is stable for logits of ±80 (and ±1000, where exp overflows float32)', async () => {
    for (const [B, C, scale] of [
      [33, 10, 80],
      [7, 1000, 80],
      [7, 10, 1000],
    ]) {
      const r: Run = { logits: uniform(B * C, 90 + C, -scale, scale), labels: randomLabels(B, C, 91), B, C };
      const out = await run(r);
      expect(Number.isFinite(out.loss)).toBe(true);
      check(r, out, `±${scale} B=${B} C=${C}`);
    }
  });

  it('counts ties at the lowest index, as torch.argmax', async () => {
    const B = 33;
    const C = 10;
    // Logits in {0, 1, 2}: most rows have several maxima.
    const logits = uniform(B * C, 92, 0, 3).map(Math.floor);
    const maxima = Array.from({ length: B }, (_, b) => {
      const row = [...logits.subarray(b * C, (b + 1) * C)];
      return row.flatMap((x, c) => (x === Math.max(...row) ? [c] : []));
    });
    const labels = maxima.map((m, b) => m[b % m.length]); // the first maximum, or a later one
    const r: Run = { logits, labels, B, C };
    const out = await run(r);
    const expected = labels.filter((y, b) => maxima[b][0] === y).length;
    expect(expected).toBeLessThan(B); // the case has later maxima to reject
    expect(out.correct).toBe(expected);
    check(r, out, 'ties');
  });

  it('evaluation (no dlogits) gives the same loss and count', async () => {
    const B = 7;
    const C = 10;
    const r: Run = { logits: normal(B * C, 93, 2), labels: randomLabels(B, C, 94), B, C };
    const train = await run(r);
    const evaluation = await run({ ...r, withGrad: false });
    expect(evaluation.loss).toBe(train.loss);
    expect(evaluation.correct).toBe(train.correct);
  });

  it('takes i32 labels and a full batch of 512 rows', async () => {
    const B = 512;
    const C = 100;
    const r: Run = { logits: normal(B * C, 95, 3), labels: randomLabels(B, C, 96), B, C, dtype: 'i32' };
    check(r, await run(r), 'B=512 C=100 i32');
  });

  it('ignores rows with out-of-range labels (loss 0, gradient 0)', async () => {
    const B = 7;
    const C = 10;
    const logits = normal(B * C, 97, 2);
    const labels = [3, -1, 9, 10, 0, 2 ** 31 - 1, 5];
    const r: Run = { logits, labels, B, C, dtype: 'i32' };
    const out = await run(r);
    for (const b of [1, 3, 5]) expect(out.dlogits.slice(b * C, (b + 1) * C)).toEqual(new Array(C).fill(0));
    check(r, out, 'out-of-range labels');
  });
});

describe('crossEntropy checks', () => {
  it('checkLabelRange names the first bad label on the host', async () => {
    const page = await harnessPage();
    const messages = await page.evaluate(() => {
      const { ops } = window.stochca!;
      return [[0, 9, 3], [0, 10, 3], [1, -1], [0.5]].map((labels) => {
        try {
          ops.checkLabelRange(labels, 10);
          return 'ok';
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      });
    });
    expect(messages).toEqual([
      'ok',
      'RangeError: label 10 of row 1 is outside the 10 classes [0, 10)',
      'RangeError: label -1 of row 1 is outside the 10 classes [0, 10)',
      'RangeError: label 0.5 of row 0 is outside the 10 classes [0, 10)',
    ]);
  });

  it('refuses labels of the wrong length before dispatching', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      try {
        ops.crossEntropy(
          gpu,
          { ...empty([4, 10]), label: 'logits' },
          { ...empty([5], 'u32'), label: 'y' },
          empty([1]),
          empty([1], 'u32'),
        );
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe('ShapeError: crossEntropy logits[4x10] y[5]: labels must be [4], got y[5]');
  });
});
