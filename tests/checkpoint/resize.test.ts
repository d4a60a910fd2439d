// Position-embedding resizing against values worked out by hand from PyTorch's bicubic definition:
// source x = dst * (in - 1) / (out - 1) with align_corners=True (torchvision's interpolate_embeddings),
// x = (dst + 0.5) * in / out - 0.5 with align_corners=False; taps floor(x) - 1 .. floor(x) + 2 clamped
// to the border; with t = x - floor(x) the weights are
//   W(t + 1), W(t), W(1 - t), W(2 - t),   W(s) = 1.25 s³ - 2.25 s² + 1 (s <= 1),
//                                          W(s) = -0.75 s³ + 3.75 s² - 6 s + 3 (1 < s < 2)   (a = -0.75).
import { describe, expect, it } from 'vitest';
import { resizePosEmbedding } from '../../src/checkpoint/resize.ts';
import { CheckpointError } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { normal } from '../helpers/random.ts';

/** pos [1 + G², D] from a class row and a function of (y, x, channel). */
function pos(G: number, cls: number[], f: (y: number, x: number, d: number) => number): HostTensor {
  const D = cls.length;
  const data = new Float32Array((1 + G * G) * D);
  data.set(cls);
  for (let y = 0; y < G; y++)
    for (let x = 0; x < G; x++) for (let d = 0; d < D; d++) data[(1 + y * G + x) * D + d] = f(y, x, d);
  return { shape: [1 + G * G, D], data };
}

function expectNear(actual: HostTensor, expected: HostTensor): void {
  expect(actual.shape).toEqual(expected.shape);
  for (let i = 0; i < expected.data.length; i++)
    expect(actual.data[i], `element ${i}`).toBeCloseTo(expected.data[i], 6);
}

// Two channels on a 2 x 2 grid: a plane 2y + x, and a spike at (0, 0). Both separate, so the
// 4 x 4 result is built from the 1-D weights of 2 -> 4: out[y][x] = Σ w[y][i] w[x][j] v[i][j].
const plane = (y: number, x: number) => 2 * y + x;
const spike = (y: number, x: number) => (y === 0 && x === 0 ? 1 : 0);
const source = pos(2, [0.5, -0.25], (y, x, d) => (d === 0 ? plane(y, x) : spike(y, x)));

describe('resizePosEmbedding 2 x 2 -> 4 x 4', () => {
  it('align_corners=True (torchvision)', () => {
    // Source x = dst / 3: 0, 1/3, 2/3, 1. At t = 1/3 the weights are -1/9, 43/54, 10/27, -1/18 on
    // the taps (clamped) 0, 0, 1, 1: 37/54 on input 0, 17/54 on input 1; t = 2/3 mirrors it.
    const w = [
      [1, 0],
      [37 / 54, 17 / 54],
      [17 / 54, 37 / 54],
      [0, 1],
    ];
    const expected = pos(4, [0.5, -0.25], (y, x, d) => (d === 0 ? 2 * w[y][1] + w[x][1] : w[y][0] * w[x][0]));
    expectNear(resizePosEmbedding(source, 4), expected);
    expectNear(resizePosEmbedding(source, 4, { alignCorners: true }), expected);
  });

  it('align_corners=False (timm, HF)', () => {
    // Source x = dst / 2 - 1/4: -1/4, 1/4, 3/4, 5/4. At t = 3/4 the weights are -0.03515625,
    // 0.26171875, 0.87890625, -0.10546875; at t = 1/4 the same reversed. Dst 0 reads taps -2..1,
    // clamped 0, 0, 0, 1: 1.10546875 on input 0, -0.10546875 on input 1.
    const w = [
      [1.10546875, -0.10546875],
      [0.7734375, 0.2265625],
      [0.2265625, 0.7734375],
      [-0.10546875, 1.10546875],
    ];
    const expected = pos(4, [0.5, -0.25], (y, x, d) => (d === 0 ? 2 * w[y][1] + w[x][1] : w[y][0] * w[x][0]));
    expectNear(resizePosEmbedding(source, 4, { alignCorners: false }), expected);
  });
});

describe('resizePosEmbedding 4 x 4 -> 2 x 2', () => {
  const ramp = pos(4, [1], (_, x) => x);

  it('align_corners=True picks the corners', () => {
    expectNear(
      resizePosEmbedding(ramp, 2),
      pos(2, [1], (_, x) => 3 * x),
    );
  });

  it('align_corners=False', () => {
    // Source x = 2 dst + 1/2: t = 1/2, weights -0.09375, 0.59375, 0.59375, -0.09375. Dst 0 reads
    // taps 0, 0, 1, 2 of 0, 1, 2, 3: 0.59375 - 0.1875; dst 1 taps 1, 2, 3, 3: -0.09375 + 1.1875 + 1.5.
    expectNear(
      resizePosEmbedding(ramp, 2, { alignCorners: false }),
      pos(2, [1], (_, x) => [0.40625, 2.59375][x]),
    );
  });
});

describe('resizePosEmbedding', () => {
  it('returns the embedding unchanged for the same grid', () => {
    const p = pos(3, [1, 2, 3], (y, x, d) => y - x + d);
    expect(resizePosEmbedding(p, 3)).toBe(p);
  });

  it('keeps a constant grid constant and the class row, 14 x 14 -> 28 x 28', () => {
    const cls = Array.from(normal(6, 7));
    const constant = pos(14, cls, (_, __, d) => d - 2.5);
    for (const alignCorners of [true, false]) {
      const out = resizePosEmbedding(constant, 28, { alignCorners });
      expect(out.shape).toEqual([785, 6]);
      expectNear(
        out,
        pos(28, cls, (_, __, d) => d - 2.5),
      );
    }
  });

  it('refuses what is not a class row plus a square grid', () => {
    const f = (p: HostTensor, grid: number) => () => resizePosEmbedding(p, grid);
    expect(f({ shape: [6, 2], data: new Float32Array(12) }, 4)).toThrowError(CheckpointError);
    expect(f({ shape: [6, 2], data: new Float32Array(12) }, 4)).toThrowError(
      'pos: 6 rows are not a class token plus a square grid of patches',
    );
    expect(f({ shape: [1, 5, 2], data: new Float32Array(10) }, 4)).toThrowError(
      'pos: expected [1 + G², D], got [1, 5, 2]',
    );
    expect(f({ shape: [5, 2], data: new Float32Array(10) }, 0)).toThrowError(
      'pos: the new grid must be a positive integer, got 0',
    );
  });
});
