// The mask strip: the masks are drawMask's for the run's seed and effective p, counted per block.
import { describe, expect, it } from 'vitest';
import { crossCounts, maskTable, stripCells } from '../../src/app/charts/mask-strip.ts';
import { drawMask } from '../../src/nn/stochca-step.ts';

describe('mask strip', () => {
  const settings = { seed: 7, steps: 50, method: 'stochca' as const, p: 0.3 };
  const depth = 4;
  const table = maskTable(settings, depth);

  it('holds drawMask(seed, t, depth, p) for every step t', () => {
    for (let t = 1; t <= settings.steps; t++) {
      expect(Array.from(table.subarray((t - 1) * depth, t * depth)).map(Boolean)).toEqual(drawMask(7, t, depth, 0.3));
    }
  });

  it('is empty for fine-tuning, whatever p says (the run uses p = 0)', () => {
    expect(maskTable({ ...settings, method: 'finetune' }, depth).every((v) => v === 0)).toBe(true);
  });

  it('counts each block’s cross-attending steps up to a step', () => {
    const upTo = 20;
    const want = Array.from(
      { length: depth },
      (_, i) => Array.from({ length: upTo }, (_, t) => drawMask(7, t + 1, depth, 0.3)[i]).filter(Boolean).length,
    );
    expect(crossCounts(table, depth, upTo)).toEqual(want);
    // Over many steps the share comes near p.
    const long = maskTable({ ...settings, steps: 4000 }, depth);
    for (const n of crossCounts(long, depth, 4000)) expect(n / 4000).toBeCloseTo(0.3, 1);
  });

  it('shares a column among steps when there are more steps than columns, and leaves untrained ones at −1', () => {
    const cells = stripCells(table, depth, 50, 30, 10); // 5 steps a column, 30 trained
    for (let i = 0; i < depth; i++) {
      for (let k = 0; k < 10; k++) {
        const v = cells[i * 10 + k];
        if (k >= 6) expect(v).toBe(-1);
        else {
          const on = [1, 2, 3, 4, 5].filter((d) => drawMask(7, 5 * k + d, depth, 0.3)[i]).length;
          expect(v).toBeCloseTo(on / 5, 6);
        }
      }
    }
    // A partly trained column counts only its trained steps.
    const part = stripCells(table, depth, 50, 32, 10);
    expect(part[6]).toBeCloseTo([31, 32].filter((t) => drawMask(7, t, depth, 0.3)[0]).length / 2, 6);
  });
});
