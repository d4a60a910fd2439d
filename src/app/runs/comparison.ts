// A Compare's runs summed up over their seeds, for the runs table: each method's best validation accuracy
// (and test accuracy of the best-validation weights, when the data has a test split) as mean ± std over its
// finished seeds, and StochCA − fine-tuning paired seed by seed with its 95 % interval. The statistics are
// train/seed-stats.ts's; this file only picks the runs and puts the numbers in words.
import { mean, pairedDifference, std, type PairedDifference } from '../../train/seed-stats.ts';
import { methodLabel, summarize, type RunRecord } from './run-record.ts';

/** One method of a comparison, its values in percent by seed (finished runs only). */
export interface Arm {
  label: string;
  method: RunRecord['settings']['method'];
  colour: number;
  /** Seeds the comparison runs this method on. */
  seeds: number;
  best: Map<number, number>;
  test: Map<number, number>;
}

export interface Comparison {
  id: string;
  /** Seeds the comparison runs (one run per method per seed). */
  seeds: number[];
  arms: Arm[];
  /** StochCA − fine-tuning in points, paired by seed; undefined when the comparison lacks one of them. */
  difference?: { best: PairedDifference; test?: PairedDifference };
}

const percentBySeed = (runs: RunRecord[], value: (r: RunRecord) => number | undefined) =>
  new Map(
    runs.flatMap((r) => {
      const v = r.status === 'finished' ? value(r) : undefined;
      return v === undefined ? [] : [[r.settings.seed, 100 * v] as const];
    }),
  );

/** Every comparison among `runs`, in the order of their first runs. */
export function comparisons(runs: readonly RunRecord[]): Comparison[] {
  const byId = new Map<string, RunRecord[]>();
  for (const r of runs) if (r.comparison) byId.set(r.comparison, [...(byId.get(r.comparison) ?? []), r]);
  return [...byId].map(([id, members]) => {
    const byMethod = new Map<string, RunRecord[]>();
    for (const r of members) {
      const label = methodLabel(r.settings);
      byMethod.set(label, [...(byMethod.get(label) ?? []), r]);
    }
    const arms = [...byMethod].map(([label, rs]): Arm => ({
      label,
      method: rs[0].settings.method,
      colour: rs[0].colour,
      seeds: new Set(rs.map((r) => r.settings.seed)).size,
      best: percentBySeed(rs, (r) => summarize(r).bestValAccuracy),
      test: percentBySeed(rs, (r) => (r.test?.atBest ?? r.test?.final)?.accuracy),
    }));
    const stochca = arms.find((a) => a.method === 'stochca');
    const finetune = arms.find((a) => a.method === 'finetune');
    return {
      id,
      seeds: [...new Set(members.map((r) => r.settings.seed))].sort((a, b) => a - b),
      arms,
      difference:
        stochca && finetune
          ? {
              best: pairedDifference(stochca.best, finetune.best),
              test: stochca.test.size ? pairedDifference(stochca.test, finetune.test) : undefined,
            }
          : undefined,
    };
  });
}

/** A signed number of points with one decimal, as "+1.2" or "−0.4". */
const signed = (v: number) => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(1)}`;

/** Mean ± std of percentages, "71.3 ± 1.2 %"; "71.3 %" for one value, "–" for none. */
export function spreadText(values: Iterable<number>): string {
  const xs = [...values];
  if (xs.length === 0) return '–';
  const s = std(xs);
  return s === undefined ? `${mean(xs).toFixed(1)} %` : `${mean(xs).toFixed(1)} ± ${s.toFixed(1)} %`;
}

/** How many seeds a method's numbers are over: "3 seeds", "2 of 3 seeds" while runs are still to finish, or
 *  "one seed: no interval" for a comparison run from one seed. */
export function seedsText(finished: number, seeds: number): string {
  if (seeds === 1) return 'one seed: no interval';
  return finished === seeds ? `${seeds} seeds` : `${finished} of ${seeds} seeds`;
}

/** A paired difference in words: "+1.2 points [−0.4, +2.8], 3 seeds, 2 above 0", then whether it is a
 *  difference (only when the interval excludes 0). */
export function differenceText(d: PairedDifference): string {
  if (d.n === 0) return '–';
  if (d.low === undefined || d.high === undefined) return `${signed(d.mean)} points, one seed: no interval`;
  const interval = `${signed(d.mean)} points [${signed(d.low)}, ${signed(d.high)}], ${d.n} seeds, ${d.above} above 0`;
  return `${interval}: ${d.differs ? 'a difference' : 'no difference shown (the interval holds 0)'}`;
}
