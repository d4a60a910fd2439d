// The summaries of the experiment grids: the convergence criterion and the paired differences.
import { describe, expect, it } from 'vitest';
import { cell, pairedCell, plateaued, plateauedAtBest, std } from '../../scripts/grid/stats.ts';

/** A validation curve, an evaluation every 10 steps. */
const curve = (...accuracies: number[]): [number, number][] => accuracies.map((a, i) => [10 * (i + 1), a]);

describe('plateaued', () => {
  it('holds when the last third adds at most the tolerance to the best before it', () => {
    expect(plateaued(curve(0.5, 0.8, 0.9, 0.9, 0.905, 0.9), 0.01)).toBe(true);
    // A fall counts as flat: training longer does not help.
    expect(plateaued(curve(0.5, 0.8, 0.9, 0.9, 0.85, 0.86), 0.01)).toBe(true);
    // 0.7 − 0.69 is 0.01000000000000001 in floats: still within a tolerance of 0.01.
    expect(plateaued(curve(0.6, 0.69, 0.7), 0.01)).toBe(true);
  });

  it('fails while the last third still climbs, and with a single evaluation', () => {
    expect(plateaued(curve(0.5, 0.6, 0.7, 0.75, 0.8, 0.85), 0.01)).toBe(false);
    expect(plateaued(curve(0.9), 0.01)).toBe(false);
  });

  it('takes the last third rounded up', () => {
    // 7 evaluations: the last 3 against the first 4.
    expect(plateaued(curve(0.1, 0.2, 0.3, 0.9, 0.2, 0.3, 0.905), 0.01)).toBe(true);
    expect(plateaued(curve(0.1, 0.2, 0.3, 0.8, 0.2, 0.3, 0.9), 0.01)).toBe(false);
  });
});

describe('plateauedAtBest', () => {
  it('also needs the final accuracy within the tolerance of the best', () => {
    expect(plateauedAtBest(curve(0.5, 0.8, 0.9, 0.9, 0.905, 0.9), 0.01)).toBe(true);
    // Plateaued, but the run slipped from its best: a fall is no longer flat.
    expect(plateaued(curve(0.5, 0.8, 0.9, 0.9, 0.85, 0.86), 0.01)).toBe(true);
    expect(plateauedAtBest(curve(0.5, 0.8, 0.9, 0.9, 0.85, 0.86), 0.01)).toBe(false);
    // A climbing last third fails it as it fails plateaued.
    expect(plateauedAtBest(curve(0.5, 0.6, 0.7, 0.75, 0.8, 0.85), 0.01)).toBe(false);
  });
});

describe('summaries', () => {
  it('gives the sample standard deviation (n − 1)', () => {
    expect(std([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(std([1])).toBeUndefined();
  });

  it('writes mean ± std in % and the count when one is missing', () => {
    expect(cell([0.5, 0.6, 0.7], 3)).toBe('60.0 ± 10.0');
    expect(cell([0.5, 0.7], 3)).toBe('60.0 ± 14.1 (n = 2)');
    expect(cell([], 3)).toBe('–');
  });

  it('writes paired differences in points with how often the sign holds', () => {
    expect(pairedCell([0.02, 0.01, -0.005])).toBe('+0.8 ± 1.3 (2/3 > 0)');
    expect(pairedCell([-0.02, -0.01, -0.03])).toBe('−2.0 ± 1.0 (0/3 > 0)');
    expect(pairedCell([])).toBe('–');
  });
});
