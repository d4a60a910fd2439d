// The charts' smoothing: TensorBoard's debiased exponential moving average.
import { describe, expect, it } from 'vitest';
import { smooth } from '../../src/app/charts/smoothing.ts';

describe('smooth', () => {
  it('is the debiased EMA: Σ w^(k−i)(1−w) y_i / (1 − w^k)', () => {
    const ys = [3, 1, 4, 1, 5, 9, 2, 6];
    const w = 0.7;
    const want = ys.map((_, k) => {
      let num = 0;
      for (let i = 0; i <= k; i++) num += w ** (k - i) * (1 - w) * ys[i];
      return num / (1 - w ** (k + 1));
    });
    smooth(ys, w).forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
  });

  it('starts at the first value (no pull towards zero) and leaves values alone at w = 0', () => {
    expect(smooth([5, 5, 5], 0.9)).toEqual([5, 5, 5].map(() => expect.closeTo(5, 12)));
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });

  it('passes non-finite values through without spoiling the rest', () => {
    const s = smooth([1, NaN, 1], 0.5);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeNaN();
    expect(s[2]).toBeCloseTo(1, 12);
  });
});
