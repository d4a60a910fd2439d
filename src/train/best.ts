// The best validation evaluation of a run: the highest accuracy, and of equal accuracies the earliest
// (a later evaluation must beat it to take its place). The run driver keeps it as it trains, saving
// that step's weights as best.safetensors; a resumed run and a run's summary find it again among the
// evaluations recorded, by the same rule.
import type { EvalPoint } from './records.ts';

/** Whether `point` takes the place of `best`, the best evaluation before it. */
export const isNewBest = (point: EvalPoint, best: EvalPoint | undefined): boolean =>
  !best || point.accuracy > best.accuracy;

/** The best of evaluations in step order, of those up to step `upTo`. */
export function bestEvaluation<T extends EvalPoint>(points: readonly T[], upTo = Infinity): T | undefined {
  let best: T | undefined;
  for (const p of points) if (p.step <= upTo && isNewBest(p, best)) best = p;
  return best;
}
