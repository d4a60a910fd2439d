// The statistics of Compare over seeds and the grid reports, checked against the t distribution itself
// (integrated numerically) and against sums done by hand.
import { describe, expect, it } from 'vitest';
import { mean, pairedDifference, std, t95 } from '../../src/train/seed-stats.ts';

/** P(|T| < x) for Student's t with ν degrees of freedom: with t = √ν·tan θ the density is ∝ cos^(ν−1) θ. */
function twoSidedMass(x: number, nu: number): number {
  const integral = (to: number) => {
    const n = 20000; // Simpson's rule, n even
    const h = to / n;
    let s = 0;
    for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.cos(i * h) ** (nu - 1);
    return (s * h) / 3;
  };
  return integral(Math.atan(x / Math.sqrt(nu))) / integral(Math.PI / 2);
}

describe('seed statistics', () => {
  it('t95 is the 97.5 % quantile of Student t for every tabled degree of freedom', () => {
    for (let n = 2; n <= 31; n++) expect(twoSidedMass(t95(n), n - 1)).toBeCloseTo(0.95, 4);
    expect(t95(100)).toBe(1.96);
    expect(() => t95(1)).toThrow(/2 or more/);
  });

  it('mean and sample standard deviation', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(std([1, 2, 3, 6])).toBeCloseTo(Math.sqrt((4 + 1 + 0 + 9) / 3), 12);
    expect(std([5])).toBeUndefined();
  });

  it('pairs by seed, and calls a difference only when the interval excludes 0', () => {
    const a = new Map([
      [0, 0.9],
      [1, 0.8],
      [2, 0.85],
      [7, 0.5],
    ]);
    const b = new Map([
      [0, 0.8],
      [1, 0.75],
      [2, 0.8],
    ]);
    const d = pairedDifference(a, b);
    // Differences 0.10, 0.05, 0.05: mean 0.0667, std 0.0289, half-width 4.303·0.0289/√3.
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo(0.2 / 3, 12);
    const half = (4.303 * Math.sqrt(((0.1 - 0.2 / 3) ** 2 + 2 * (0.05 - 0.2 / 3) ** 2) / 2)) / Math.sqrt(3);
    expect(d.low).toBeCloseTo(0.2 / 3 - half, 12);
    expect(d.high).toBeCloseTo(0.2 / 3 + half, 12);
    expect(d.above).toBe(3);
    expect(d.differs).toBe(d.low! > 0);
    const mixed = pairedDifference(
      new Map([
        [0, 0.9],
        [1, 0.7],
      ]),
      new Map([
        [0, 0.8],
        [1, 0.8],
      ]),
    );
    expect(mixed.differs).toBe(false);
    expect(mixed.low! < 0 && mixed.high! > 0).toBe(true);
    const one = pairedDifference(new Map([[3, 0.6]]), new Map([[3, 0.5]]));
    expect(one).toMatchObject({ n: 1, above: 1, differs: false, low: undefined });
    expect(pairedDifference(new Map([[1, 0.5]]), new Map([[2, 0.5]])).n).toBe(0);
  });
});
