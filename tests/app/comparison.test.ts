// A Compare summed up over its seeds (src/app/runs/comparison.ts), from runs whose accuracies the test
// sets: each method's mean ± std over its finished seeds, StochCA − fine-tuning paired by seed with its 95 %
// interval, checked against the arithmetic done by hand below; runs not finished are not counted, a
// comparison of one seed says it has no interval, and a kept record without a comparison is no comparison.
// The charts' mean curve and band (src/app/charts/seed-bands.ts) likewise.
import { describe, expect, it } from 'vitest';
import { curveGroups, meanBand } from '../../src/app/charts/seed-bands.ts';
import { comparisons, differenceText, seedsText, spreadText } from '../../src/app/runs/comparison.ts';
import { compareSettings, newRuns } from '../../src/app/runs/new-runs.ts';
import type { RunRecord } from '../../src/app/runs/run-record.ts';
import { completeExperiment } from '../../src/train/settings.ts';
import { evalPoint, runRecord } from '../helpers/run-records.ts';

/** A Compare of `seeds` seeds from seed 0, as the trainer queues it. */
function compare(seeds: number): RunRecord[] {
  const e = completeExperiment({ seeds });
  return newRuns([], e, 'ab'.repeat(32), compareSettings(e), 'cmp');
}

/** `run` finished with best validation accuracy `best` (at its second evaluation) and that weights' test accuracy. */
const finished = (run: RunRecord, best: number, test?: number): RunRecord => ({
  ...run,
  status: 'finished',
  val: [evalPoint(10, best - 0.1), evalPoint(20, best), evalPoint(30, best - 0.05)],
  ...(test === undefined ? {} : { test: { atBest: evalPoint(20, test), final: evalPoint(30, test - 0.01) } }),
});

describe('a Compare over three seeds', () => {
  // Best validation accuracy by seed 0, 1, 2. StochCA: 80, 84, 83 %; fine-tuning: 78, 81, 83 %.
  const [s0, f0, s1, f1, s2, f2] = compare(3);
  const runs = [
    finished(s0, 0.8, 0.7),
    finished(f0, 0.78, 0.69),
    finished(s1, 0.84, 0.75),
    finished(f1, 0.81, 0.72),
    finished(s2, 0.83, 0.74),
    finished(f2, 0.83, 0.74),
  ];

  it("gives each method's mean ± std over its seeds", () => {
    const [c] = comparisons(runs);
    expect(c.seeds).toEqual([0, 1, 2]);
    expect(c.arms.map((a) => a.label)).toEqual(['StochCA p=0.1', 'fine-tuning']);
    const [stochca, finetune] = c.arms;
    // StochCA: mean (80 + 84 + 83) / 3 = 82.333; deviations −2.333, 1.667, 0.667; squares 5.444 + 2.778 +
    // 0.444 = 8.667, over n − 1 = 2: 4.333, whose root is 2.082.
    expect(spreadText(stochca.best.values())).toBe('82.3 ± 2.1 %');
    // Fine-tuning: mean 80.667; squares 7.111 + 0.111 + 5.444 = 12.667, / 2 = 6.333, root 2.517.
    expect(spreadText(finetune.best.values())).toBe('80.7 ± 2.5 %');
    // Test, of the best-validation weights: StochCA 70, 75, 74 (mean 73, squares 9 + 4 + 1 = 14, / 2 = 7, root 2.646).
    expect(spreadText(stochca.test.values())).toBe('73.0 ± 2.6 %');
    expect(seedsText(stochca.best.size, stochca.seeds)).toBe('3 seeds');
  });

  it('pairs StochCA with fine-tuning seed by seed, with the 95 % t interval', () => {
    const d = comparisons(runs)[0].difference!.best;
    // Differences 2, 3, 0: mean 1.667; squares 0.111 + 1.778 + 2.778 = 4.667, / 2 = 2.333, std 1.528; the
    // half-width is t(0.975, 2 df) = 4.303 times 1.528 / √3 = 3.795: [−2.128, 5.462]. It holds 0.
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo(1.6667, 4);
    expect(d.low).toBeCloseTo(-2.128, 3);
    expect(d.high).toBeCloseTo(5.462, 3);
    expect(d.above).toBe(2);
    expect(differenceText(d)).toBe(
      '+1.7 points [−2.1, +5.5], 3 seeds, 2 above 0: no difference shown (the interval holds 0)',
    );
  });

  it('calls it a difference only when the interval excludes 0', () => {
    // Fine-tuning 2, 3 and 2.5 points below: mean 2.5, std 0.5, half-width 4.303 · 0.5 / √3 = 1.242.
    const d = comparisons([...runs.slice(0, 5), finished(f2, 0.805)])[0].difference!.best;
    expect(d.low).toBeCloseTo(1.258, 3);
    expect(d.high).toBeCloseTo(3.742, 3);
    expect(differenceText(d)).toBe('+2.5 points [+1.3, +3.7], 3 seeds, 3 above 0: a difference');
  });

  it('counts only finished runs: a seed still queued or running is not yet in the numbers', () => {
    const partial = [...runs.slice(0, 4), { ...s2, status: 'running' as const }, { ...f2, status: 'queued' as const }];
    const [c] = comparisons(partial);
    const [stochca] = c.arms;
    expect(seedsText(stochca.best.size, stochca.seeds)).toBe('2 of 3 seeds');
    // 80 and 84: mean 82, std √8 = 2.828.
    expect(spreadText(stochca.best.values())).toBe('82.0 ± 2.8 %');
    // Pairs 2 and 3: mean 2.5, std 0.707, half-width 12.706 · 0.707 / √2 = 6.353.
    expect(differenceText(c.difference!.best)).toBe(
      '+2.5 points [−3.9, +8.9], 2 seeds, 2 above 0: no difference shown (the interval holds 0)',
    );
  });
});

describe('a Compare from one seed', () => {
  it('says so beside its numbers: no interval', () => {
    const [s, f] = compare(1);
    const [c] = comparisons([finished(s, 0.8), finished(f, 0.812)]);
    expect(spreadText(c.arms[0].best.values())).toBe('80.0 %');
    expect(seedsText(c.arms[0].best.size, c.arms[0].seeds)).toBe('one seed: no interval');
    expect(differenceText(c.difference!.best)).toBe('−1.2 points, one seed: no interval');
    expect(c.difference!.test).toBeUndefined();
  });

  it('runs without a comparison (kept from before, or trained alone) make none', () => {
    expect(comparisons([finished(runRecord(), 0.8)])).toEqual([]);
  });
});

describe('the curves of a Compare over seeds', () => {
  it('draws its runs of one method as one curve, and runs alone or of a one-seed Compare as they are', () => {
    const three = compare(3);
    const one = compare(1).map((r) => ({ ...r, comparison: 'other' }));
    const alone = runRecord();
    const groups = curveGroups([...three, ...one, alone]);
    expect(groups.map((g) => g.map((r) => r.id))).toEqual([
      [three[0].id, three[2].id, three[4].id],
      [three[1].id, three[3].id, three[5].id],
      [one[0].id],
      [one[1].id],
      [alone.id],
    ]);
    // With seeds hidden, the rest of the comparison still is one curve.
    expect(curveGroups([three[0], three[2]], three).map((g) => g.length)).toEqual([2]);
  });

  it('takes the mean and mean ± std over the seeds that reached each step', () => {
    const curve = (ys: number[]) => ys.map((y, i) => ({ step: i + 1, x: i + 1, y }));
    const band = meanBand([curve([1, 2, 3]), curve([3, 4]), curve([2, NaN])]);
    // Step 1: 1, 3, 2: mean 2, std 1. Step 2: 2 and 4 (the NaN left out): mean 3, std √2. Step 3: 3 alone.
    expect(band.map((p) => [p.step, p.n, p.y])).toEqual([
      [1, 3, 2],
      [2, 2, 3],
      [3, 1, 3],
    ]);
    expect([band[0].low, band[0].high]).toEqual([1, 3]);
    expect(band[1].low).toBeCloseTo(3 - Math.SQRT2, 12);
    expect([band[2].low, band[2].high]).toEqual([3, 3]);
  });
});
