// Summaries the experiment scripts print: mean ± std over seeds, paired differences, Markdown tables.
import { mean, std } from '../../src/train/seed-stats.ts';

export { mean, std };

export const pct = (x: number) => (100 * x).toFixed(1);

type Curve = [step: number, accuracy: number][];
const best = (points: Curve) => Math.max(...points.map(([, a]) => a));
// The tolerances absorb float rounding of accuracies such as 0.7 − 0.69.
const within = (gap: number, flat: number) => gap <= flat + 1e-9;

/** The best validation accuracy of the last third of the evaluations is at most `flat` above the best
 *  before them (training longer no longer helps). */
export function plateaued(curve: Curve, flat: number): boolean {
  const last = Math.ceil(curve.length / 3);
  if (curve.length - last < 1) return false;
  return within(best(curve.slice(-last)) - best(curve.slice(0, -last)), flat);
}

/** Plateaued, and the final validation accuracy within `flat` of the best (the run did not slip away
 *  from its best either). */
export function plateauedAtBest(curve: Curve, flat: number): boolean {
  return plateaued(curve, flat) && within(best(curve) - curve[curve.length - 1][1], flat);
}

/** 'mean ± std' in %, with the count when it is not `expected`; '–' for no values. */
export function cell(xs: number[], expected: number): string {
  if (xs.length === 0) return '–';
  const s = std(xs);
  return `${pct(mean(xs))} ± ${s === undefined ? '–' : pct(s)}${xs.length !== expected ? ` (n = ${xs.length})` : ''}`;
}

/** Paired differences a − b in points: 'mean ± std, k/n above 0' (how often the sign holds). */
export function pairedCell(diffs: number[]): string {
  if (diffs.length === 0) return '–';
  const s = std(diffs);
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
  return `${signed(mean(diffs))} ± ${s === undefined ? '–' : pct(s)} (${diffs.filter((d) => d > 0).length}/${diffs.length} > 0)`;
}

export const methodLabel = (name: string) =>
  name === 'finetune' ? 'fine-tuning' : name === 'linear-probe' ? 'linear probe' : `StochCA p = ${name.split(':')[1]}`;

export function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}
