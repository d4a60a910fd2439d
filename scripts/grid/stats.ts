// Summaries the experiment scripts print: mean ± std over seeds, paired differences, Markdown tables.

export const pct = (x: number) => (100 * x).toFixed(1);
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n − 1); undefined for fewer than two values. */
export function std(xs: number[]): number | undefined {
  if (xs.length < 2) return undefined;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
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
