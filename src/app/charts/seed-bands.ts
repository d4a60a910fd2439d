// A Compare over several seeds on the charts: its runs of one method are drawn as one curve, the mean
// over the seeds that reached each step, inside a band of mean ± one standard deviation over those seeds
// (train/seed-stats.ts). Runs trained alone, and comparisons of one seed, are drawn run by run.
import { mean, std } from '../../train/seed-stats.ts';
import { methodLabel, type RunRecord } from '../runs/run-record.ts';

/** The runs drawn as one curve each time: a comparison's runs of one method when the comparison (among
 *  `all` the runs, shown or not) has several seeds; every other run alone. In the order of `runs`. */
export function curveGroups(runs: readonly RunRecord[], all: readonly RunRecord[] = runs): RunRecord[][] {
  const seeds = new Map<string, Set<number>>();
  for (const r of all)
    if (r.comparison) seeds.set(r.comparison, (seeds.get(r.comparison) ?? new Set()).add(r.settings.seed));
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key =
      r.comparison && (seeds.get(r.comparison)?.size ?? 0) > 1 ? `${r.comparison} ${methodLabel(r.settings)}` : r.id;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

export interface CurvePoint {
  step: number;
  x: number;
  y: number;
}

/** Mean of the curves at a step, and mean ± std over the `n` of them that reached it (std 0 for one). */
export interface BandPoint extends CurvePoint {
  low: number;
  high: number;
  n: number;
}

/** Per step that any curve has, in step order: the mean of the curves that have a finite value there (its x
 *  the mean of their x, which differ on the wall-time axis), and the band. */
export function meanBand(curves: readonly (readonly CurvePoint[])[]): BandPoint[] {
  const byStep = new Map<number, CurvePoint[]>();
  for (const curve of curves)
    for (const p of curve) if (Number.isFinite(p.y)) byStep.set(p.step, [...(byStep.get(p.step) ?? []), p]);
  return [...byStep]
    .sort(([a], [b]) => a - b)
    .map(([step, ps]) => {
      const ys = ps.map((p) => p.y);
      const y = mean(ys);
      const s = std(ys) ?? 0;
      return { step, x: mean(ps.map((p) => p.x)), y, low: y - s, high: y + s, n: ps.length };
    });
}
