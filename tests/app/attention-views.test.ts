// The attention panel's arithmetic: rows of [depth, heads, tokens], the head mean, and the rollout
// along the class token's path against the exact rollout of full matrices whose patch rows are the
// identity (where the two must agree), and its heat map.
import { describe, expect, it } from 'vitest';
import { headMean, headRow, patchGrid, registerShare, rollout } from '../../src/app/attention/attention-views.ts';
import { heatPixels, rampColour } from '../../src/app/attention/heat-map.ts';
import type { AttentionMaps } from '../../src/worker/protocol.ts';
import { seededRng } from '../../src/nn/rng.ts';

/** Random class-token rows (each a softmax) of depth × heads over `tokens`. */
function randomMaps(depth: number, heads: number, tokens: number, seed = 1, registers = 0): AttentionMaps {
  const rng = seededRng(seed);
  const maps = new Float32Array(depth * heads * tokens);
  for (let r = 0; r < depth * heads; r++) {
    const e = Array.from({ length: tokens }, () => Math.exp(4 * rng()));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (maps[r * tokens + j] = v / sum));
  }
  return { depth, heads, tokens, registers, maps, logits: new Float32Array(3) };
}

/** Exact rollout's class row: Π (½·A_l + ½·I) with A_l's class row the head mean and its patch rows e_j. */
function exactRollout(a: AttentionMaps): Float64Array[] {
  const n = a.tokens;
  let R = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  const out: Float64Array[] = [];
  for (let l = 0; l < a.depth; l++) {
    const mean = headMean(a, l);
    const hat = Array.from({ length: n }, (_, i) =>
      Float64Array.from({ length: n }, (_, j) => 0.5 * (i === 0 ? mean[j] : i === j ? 1 : 0) + (i === j ? 0.5 : 0)),
    );
    R = hat.map((row) => Float64Array.from({ length: n }, (_, j) => row.reduce((s, v, k) => s + v * R[k][j], 0)));
    out.push(R[0]);
  }
  return out;
}

describe('attention views', () => {
  const a = randomMaps(3, 2, 5);

  it('reads a head row at [block, head, :] and averages heads', () => {
    expect(Array.from(headRow(a, 2, 1))).toEqual(Array.from(a.maps.subarray((2 * 2 + 1) * 5, (2 * 2 + 2) * 5)));
    const mean = headMean(a, 1);
    mean.forEach((v, j) => expect(v).toBeCloseTo((headRow(a, 1, 0)[j] + headRow(a, 1, 1)[j]) / 2, 6));
  });

  it('rolls out along the class path as the exact rollout does when patches attend to themselves', () => {
    const got = rollout(a);
    const want = exactRollout(a);
    expect(got).toHaveLength(3);
    got.forEach((r, l) => {
      r.forEach((v, j) => expect(v).toBeCloseTo(want[l][j], 6));
      expect(r.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    });
  });

  it('lays the patches out as a square grid and refuses one that is not', () => {
    const { values, grid } = patchGrid(new Float32Array(17).map((_, i) => i));
    expect(grid).toBe(4);
    expect(Array.from(values)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(() => patchGrid(new Float32Array(6))).toThrow(/square/);
  });

  it("draws a model with registers from its patches and gives the registers' share beside them", () => {
    // DINOv2 with 4 registers on a 4 × 4 grid: class token, registers 1–4, patches 5–20.
    const reg = randomMaps(2, 3, 21, 2, 4);
    const row = headMean(reg, 1);
    expect(() => patchGrid(row)).toThrow(/20 patches do not make a square grid/);
    const { values, grid } = patchGrid(row, 4);
    expect(grid).toBe(4);
    expect(Array.from(values)).toEqual(Array.from(row.subarray(5)));
    const share = registerShare(row, 4);
    expect(share).toBeCloseTo(row[1] + row[2] + row[3] + row[4], 7);
    expect(row[0] + share + values.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    expect(registerShare(row, 0)).toBe(0);
  });

  it('colours each patch by its value over the image', () => {
    expect(rampColour(0)).toEqual([0, 0, 4]);
    expect(rampColour(1)).toEqual([252, 255, 164]);
    const S = 4;
    const black = new Uint8Array(S * S * 4);
    const px = heatPixels(black, S, Float32Array.from([0, 1, 0, 0]), 2); // the top-right patch hot
    const at = (x: number, y: number) => Array.from(px.subarray((y * S + x) * 4, (y * S + x) * 4 + 4));
    const hot = rampColour(1).map((c) => Math.round(0.6 * c));
    expect(at(3, 0)).toEqual([...hot, 255]);
    expect(at(2, 1)).toEqual([...hot, 255]);
    expect(at(0, 0)).toEqual([0, 0, 2, 255]);
    expect(at(3, 3)).toEqual([0, 0, 2, 255]);
  });
});
