// The StochCA masks of a run as the strip under the loss curve shows them: the mask of step t is
// drawMask(seed, t, depth, p) with p as the run uses it (0 for fine-tuning), the same function the
// training session draws it with, so the page needs nothing from the worker to show it.
import { drawMask } from '../../nn/stochca-step.ts';
import { effectiveP, type RunSettings } from '../../train/settings.ts';

/** [steps, depth]: 1 where block i cross-attends to the teacher at step t (row t − 1). */
export function maskTable(s: Pick<RunSettings, 'seed' | 'steps' | 'method' | 'p'>, depth: number): Uint8Array {
  const table = new Uint8Array(s.steps * depth);
  const p = effectiveP(s);
  if (p === 0) return table;
  for (let t = 1; t <= s.steps; t++)
    drawMask(s.seed, t, depth, p).forEach((on, i) => (table[(t - 1) * depth + i] = on ? 1 : 0));
  return table;
}

/** Per block, the steps among 1..upTo in which it cross-attended. */
export function crossCounts(table: Uint8Array, depth: number, upTo: number): number[] {
  const counts = new Array<number>(depth).fill(0);
  for (let t = 0; t < upTo; t++) for (let i = 0; i < depth; i++) counts[i] += table[t * depth + i];
  return counts;
}

/**
 * The strip's cells [depth, columns]: column k covers steps ⌊k·steps/columns⌋ + 1 … ⌊(k+1)·steps/columns⌋,
 * its value the share of those steps (up to step `upTo`) in which the block cross-attended; −1 for a
 * column with no step trained yet.
 */
export function stripCells(
  table: Uint8Array,
  depth: number,
  steps: number,
  upTo: number,
  columns: number,
): Float32Array {
  const cells = new Float32Array(depth * columns).fill(-1);
  for (let k = 0; k < columns; k++) {
    const from = Math.floor((k * steps) / columns);
    const to = Math.min(upTo, Math.floor(((k + 1) * steps) / columns));
    if (to <= from) continue;
    for (let i = 0; i < depth; i++) {
      let on = 0;
      for (let t = from; t < to; t++) on += table[t * depth + i];
      cells[i * columns + k] = on / (to - from);
    }
  }
  return cells;
}
