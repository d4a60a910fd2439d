// Each kernel's share of the GPU time of a training step (TrainResult.kernel_ns), as one
// table per model with a column per method, the kernels in order of their largest share.
import type { TrainResult } from './page.ts';
import { num } from './table.ts';

export interface KernelShares {
  model: string;
  method: string;
  p: number;
  /** GPU time of one step: the sum of its kernels' timestamped time. */
  gpu_ms: number;
  /** Wall-clock time of one step, as the training benchmark measured it. */
  ms: number;
  /** Percent of gpu_ms per kernel (the op's first word); they sum to 100. */
  shares: Record<string, number>;
}

/** The shares of one training case; undefined without timestamps, or when they add up to nothing. */
export function kernelShares(r: TrainResult): KernelShares | undefined {
  const ns = Object.entries(r.kernel_ns ?? {});
  const total = ns.reduce((a, [, t]) => a + t, 0);
  if (!(total > 0)) return undefined;
  const shares = Object.fromEntries(ns.map(([op, t]) => [op, (100 * t) / total]));
  return { model: r.model, method: r.method, p: r.p, gpu_ms: total / 1e6, ms: r.ms, shares };
}

export function shareTables(all: KernelShares[]): string[] {
  const lines: string[] = [];
  for (const model of new Set(all.map((s) => s.model))) {
    const cols = all.filter((s) => s.model === model);
    const ops = [...new Set(cols.flatMap((c) => Object.keys(c.shares)))];
    const largest = (op: string) => Math.max(...cols.map((c) => c.shares[op] ?? 0));
    ops.sort((a, b) => largest(b) - largest(a));
    const titles = cols.map((c) => `${c.method} p=${c.p}`);
    const width = Math.max(model.length, 'GPU ms / wall-clock ms'.length, ...ops.map((op) => op.length));
    const line = (first: string, cells: string[]) =>
      [first.padEnd(width), ...cells.map((s, i) => s.padStart(Math.max(9, titles[i].length)))].join('  ').trimEnd();
    lines.push(line(model, titles));
    for (const op of ops)
      lines.push(
        line(
          op,
          cols.map((c) => `${(c.shares[op] ?? 0).toFixed(1)} %`),
        ),
      );
    lines.push(
      line(
        'GPU ms per step',
        cols.map((c) => num(c.gpu_ms)),
      ),
    );
    lines.push(
      line(
        'GPU ms / wall-clock ms',
        cols.map((c) => `${((100 * c.gpu_ms) / c.ms).toFixed(0)} %`),
      ),
    );
    lines.push('');
  }
  return lines;
}
