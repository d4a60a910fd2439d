// The planner's byte counts and limits, the learning-rate schedule, head init (no GPU).
import { describe, expect, it } from 'vitest';
import { checkPlanFits, chooseMicroBatch, planVit } from '../../src/nn/planner.ts';
import { learningRate } from '../../src/nn/schedule.ts';
import { linearInit } from '../../src/nn/init.ts';
import { seededRng } from '../../src/nn/rng.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';

const vitS: VitArch = {
  imageSize: 224,
  patchSize: 16,
  dim: 384,
  depth: 12,
  heads: 6,
  mlpDim: 1536,
  numClasses: 100,
  layerNormEps: 1e-6,
};
const GiB = 2 ** 30;

describe('planner', () => {
  it('plans ViT-S/16 at 224 px, batch 32, StochCA under 4 GiB', () => {
    const plan = planVit(vitS, { batch: 32, training: true, teacher: true });
    // 21.7 M parameters (with a 100-class head) stored 5 times: weights, grads, two moments, teacher.
    expect(plan.bytes.params).toBeGreaterThan(4 * 21.7e6);
    expect(plan.bytes.params).toBeLessThan(4 * 22e6);
    expect(plan.bytes.total).toBe(
      Object.entries(plan.bytes)
        .filter(([k]) => k !== 'total')
        .reduce((a, [, v]) => a + v, 0),
    );
    expect(plan.bytes.total).toBeLessThan(4 * GiB);
    expect(plan.bytes.teacher).toBeGreaterThan(plan.bytes.params);
  });

  it('plans no teacher for fine-tuning and no backward for inference', () => {
    expect(planVit(vitS, { batch: 8, training: true, teacher: false }).bytes.teacher).toBe(0);
    const infer = planVit(vitS, { batch: 8, training: false, teacher: false });
    expect(infer.bytes.grads + infer.bytes.optimizer + infer.bytes.backward).toBe(0);
  });

  it('aligns every parameter to 256 bytes so it can be bound alone', () => {
    for (const p of planVit(vitS, { batch: 1, training: false, teacher: false }).params)
      expect((4 * p.offset) % 256).toBe(0);
  });

  it('refuses a run that does not fit, with the figure and a batch that would', () => {
    const plan = planVit(vitS, { batch: 512, training: true, teacher: true });
    const limits = { maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 };
    expect(() => checkPlanFits(plan, limits)).toThrow(
      /^This run does not fit: its largest buffer needs \d+\.\d MiB and this GPU allows 128\.0 MiB \(batch 512\); use a batch of \d+ or less\.$/,
    );
    expect(() => checkPlanFits(planVit(vitS, { batch: 32, training: true, teacher: true }), limits)).not.toThrow();
    expect(() => checkPlanFits(plan, { maxBufferSize: GiB, maxStorageBufferBindingSize: GiB }, GiB)).toThrow(
      /budget is 1024\.0 MiB/,
    );
  });
});

describe('learning-rate schedule', () => {
  it('warms up linearly, then decays along a cosine towards zero, never training a step at 0', () => {
    expect(learningRate(1, 1000, 1e-3, 100)).toBeCloseTo(1e-5, 12);
    expect(learningRate(100, 1000, 1e-3, 100)).toBeCloseTo(1e-3, 12);
    expect(learningRate(101, 1000, 1e-3, 100)).toBeCloseTo(1e-3, 12);
    expect(learningRate(551, 1000, 1e-3, 100)).toBeCloseTo(5e-4, 12);
    // The last step: progress 899/900 of the cosine.
    expect(learningRate(1000, 1000, 1e-3, 100)).toBeCloseTo(0.5e-3 * (1 + Math.cos((Math.PI * 899) / 900)), 15);
    expect(learningRate(1000, 1000, 1e-3, 100)).toBeGreaterThan(0);
    expect(learningRate(1, 1, 1e-3, 0)).toBeCloseTo(1e-3, 12);
    expect(learningRate(10, 1000, 1e-3, 0)).toBeLessThan(1e-3);
  });
});

describe('classifier head init', () => {
  it('draws weight and bias from U(-1/sqrt(in), 1/sqrt(in)), reproducibly', () => {
    const a = linearInit(64, 10, seededRng(1));
    const b = linearInit(64, 10, seededRng(1));
    expect(a.weight).toEqual(b.weight);
    expect(a.weight.length).toBe(640);
    expect(a.bias.length).toBe(10);
    const all = [...a.weight, ...a.bias];
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.9 / 8);
  });
});

describe('plans of the real ViTs at 224 px under a memory budget', () => {
  it('prints the bytes and micro-batch of ViT-Ti/S/B/16 StochCA at batch 32 (224 px) and 16 (448 px) under 2 and 4 GiB', () => {
    const vit = (dim: number, heads: number, imageSize: number): VitArch => ({
      imageSize,
      patchSize: 16,
      dim,
      depth: 12,
      heads,
      mlpDim: 4 * dim,
      numClasses: 200,
      layerNormEps: 1e-6,
    });
    // A desktop adapter's buffer limits (the engine raises them to the adapter's maximum).
    const limits = { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 };
    const rows: string[] = [];
    for (const [name, dim, heads] of [
      ['ViT-Ti/16', 192, 3],
      ['ViT-S/16', 384, 6],
      ['ViT-B/16', 768, 12],
    ] as const) {
      for (const [size, batch] of [
        [224, 32],
        [448, 16],
      ] as const) {
        const whole = planVit(vit(dim, heads, size), { batch, training: true, teacher: true });
        const under = [2, 4].map((g) => {
          try {
            const u = chooseMicroBatch(vit(dim, heads, size), batch, true, limits, g * 2 ** 30);
            expect(u.plan.bytes.total).toBeLessThanOrEqual(g * 2 ** 30);
            expect(batch % u.microBatch).toBe(0);
            return `${g} GiB: micro-batch ${u.microBatch} (${(u.plan.bytes.total / 2 ** 30).toFixed(2)} GiB)`;
          } catch (e) {
            expect(String(e)).toMatch(/does not fit/);
            return `${g} GiB: does not fit even one image`;
          }
        });
        rows.push(
          `${name} ${size} px batch ${batch}: ${(whole.bytes.total / 2 ** 30).toFixed(2)} GiB at once; ${under.join('; ')}`,
        );
      }
    }
    console.log(rows.join('\n'));
    // ViT-B/16 StochCA at batch 32 does not fit 4 GiB at once, and does in micro-batches; under 2 GiB its
    // weights, gradients (and their sum), AdamW's moments and the teacher alone are too many.
    const b = vit(768, 12, 224);
    expect(planVit(b, { batch: 32, training: true, teacher: true }).bytes.total).toBeGreaterThan(4 * 2 ** 30);
    expect(chooseMicroBatch(b, 32, true, limits, 4 * 2 ** 30).microBatch).toBe(8);
  });
});
