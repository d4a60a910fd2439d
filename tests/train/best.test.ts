// The best validation evaluation: the highest accuracy, the earliest of equals, as the run driver
// keeps it while training and as a resume and a run's summary find it again among the evaluations.
import { describe, expect, it } from 'vitest';
import { bestEvaluation, isNewBest } from '../../src/train/best.ts';
import type { EvalPoint } from '../../src/train/records.ts';

const at = (step: number, accuracy: number): EvalPoint => ({ step, accuracy, loss: 1 - accuracy, count: 100 });

describe('the best validation evaluation', () => {
  const val = [at(10, 0.5), at(20, 0.75), at(30, 0.75), at(40, 0.6), at(50, 0.8)];

  it('is the highest accuracy, the earliest of equals', () => {
    expect(bestEvaluation(val)).toBe(val[4]);
    expect(bestEvaluation(val.slice(0, 4))).toBe(val[1]);
    expect(bestEvaluation([])).toBeUndefined();
  });

  it('counts only the evaluations up to a step, as a resume from that step does', () => {
    expect(bestEvaluation(val, 40)).toBe(val[1]);
    expect(bestEvaluation(val, 10)).toBe(val[0]);
    expect(bestEvaluation(val, 9)).toBeUndefined();
  });

  it('is what a run keeps one evaluation at a time', () => {
    let kept: EvalPoint | undefined;
    const replaced: number[] = [];
    for (const p of val) {
      if (isNewBest(p, kept)) {
        kept = p;
        replaced.push(p.step);
      }
    }
    expect(replaced).toEqual([10, 20, 50]);
    expect(kept).toBe(bestEvaluation(val));
  });
});
