// Summaries the experiment scripts print: mean ± std over seeds, paired differences, Markdown tables.
import { mean, std } from '../../src/train/seed-stats.ts';

export { mean, std };

export const pct = (x: number) => (100 * x).toFixed(1);

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
