// LayerScale's residual add out = x + γ ⊙ y against float64; its backward (dy and dγ) against finite
// differences, the gradient of x being dout itself.
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradClose, finiteDiff } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, sampleIndices } from '../helpers/random.ts';
import { layerScaleAddRef, layerScaleGammaGradRef } from '../reference/layer-scale.ts';

// [rows, D]: rows past colsum's one-chunk limit (256) too.
const shapes = [
  [1, 1],
  [7, 33],
  [2, 197, 16],
  [785, 13],
];
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

describe('layerScaleAdd', () => {
  for (const s of shapes) {
    it(`forward [${s}]`, async () => {
      const page = await harnessPage();
      const D = s[s.length - 1];
      const [x, gamma, y] = [normal(size(s), 1), normal(D, 2), normal(size(s), 3)];
      const out = await page.evaluate(
        async ({ x, gamma, y, s }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const out = empty(s);
          ops.layerScaleAdd(gpu, up(x, s), up(gamma, [s[s.length - 1]]), up(y, s), out);
          return down(out);
        },
        { x: [...x], gamma: [...gamma], y: [...y], s },
      );
      expectClose(out, layerScaleAddRef(x, gamma, y), 1e-6, `layerScaleAdd [${s}]`);
    });

    it(`backward [${s}]`, async () => {
      const page = await harnessPage();
      const D = s[s.length - 1];
      const [x, gamma, y, dout] = [normal(size(s), 4), normal(D, 5), normal(size(s), 6), normal(size(s), 7)];
      const [dy, dgamma] = await page.evaluate(
        async ({ gamma, y, dout, s }) => {
          const { gpu, ops, up, down } = window.stochca!;
          // Outputs start as garbage: every element must be written.
          const garbage = (shape: number[]) =>
            up(
              Array.from({ length: shape.reduce((a, b) => a * b) }, () => 1e3),
              shape,
            );
          const dy = garbage(s);
          const dgamma = garbage([s[s.length - 1]]);
          ops.layerScaleBackward(gpu, up(dout, s), up(gamma, [s[s.length - 1]]), up(y, s), dy, dgamma);
          return [await down(dy), await down(dgamma)];
        },
        { gamma: [...gamma], y: [...y], dout: [...dout], s },
      );
      const f = ([x, gamma, y]: Float64Array[]) => layerScaleAddRef(x, gamma, y);
      const inputs = [x, gamma, y];
      const idx = sampleIndices(y.length, 48, 8);
      expectGradClose(dy, finiteDiff(f, inputs, 2, dout, idx), idx, 1e-4, `[${s}] dy`);
      const gIdx = sampleIndices(D, 16, 9);
      expectGradClose(dgamma, finiteDiff(f, inputs, 1, dout, gIdx), gIdx, 1e-4, `[${s}] dgamma`);
    });
  }

  // dγ over micro-batches: it holds a previous micro-batch's and gains this one's; dy is written.
  for (const s of [shapes[1], shapes[3]]) {
    it(`backward accumulating [${s}]`, async () => {
      const page = await harnessPage();
      const D = s[s.length - 1];
      const [gamma, y, dout, before] = [normal(D, 61), normal(size(s), 62), normal(size(s), 63), normal(D, 64, 4)];
      const [dy, dgamma] = await page.evaluate(
        async ({ gamma, y, dout, before, s }) => {
          const { gpu, ops, up, down } = window.stochca!;
          const D = s[s.length - 1];
          const dy = up(new Array(s.reduce((a, b) => a * b)).fill(1e3), s);
          const dgamma = up(before, [D]);
          ops.layerScaleBackward(gpu, up(dout, s), up(gamma, [D]), up(y, s), dy, dgamma, true);
          return [await down(dy), await down(dgamma)];
        },
        { gamma: [...gamma], y: [...y], dout: [...dout], before: [...before], s },
      );
      const want = layerScaleGammaGradRef(dout, y, D);
      expectClose(
        dgamma,
        before.map((v, i) => v + want[i]),
        1e-5,
        `[${s}] dgamma`,
      );
      expectClose(
        dy,
        dout.map((g, i) => gamma[i % D] * g),
        1e-6,
        `[${s}] dy`,
      );
    });
  }

  it('refuses a γ of another width', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      try {
        ops.layerScaleAdd(
          gpu,
          { ...empty([4, 8]), label: 'x' },
          { ...empty([6]), label: 'g' },
          empty([4, 8]),
          empty([4, 8]),
        );
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe('ShapeError: layerScaleAdd x[4x8]: gamma must be [8], got g[6]');
  });
});
