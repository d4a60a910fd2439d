// The planner's byte counts and limits, the learning-rate schedule, head init (no GPU).
import { describe, expect, it } from 'vitest';
import { checkPlanFits, chooseMicroBatch, largestBuffer, planVit } from '../../src/nn/planner.ts';
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

describe('plans of the real ViTs under a memory budget', () => {
  // A desktop adapter's buffer limits (the engine raises them to the adapter's maximum).
  const limits = { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 };
  const vit = (name: string, arch: Partial<VitArch> & Pick<VitArch, 'dim' | 'heads'>) => ({
    name,
    at: (imageSize: number): VitArch => ({
      imageSize,
      patchSize: 16,
      depth: 12,
      mlpDim: 4 * arch.dim,
      numClasses: 200,
      layerNormEps: 1e-6,
      ...arch,
    }),
  });
  const models = [
    vit('ViT-Ti/16', { dim: 192, heads: 3 }),
    vit('ViT-S/16', { dim: 384, heads: 6 }),
    vit('ViT-B/16', { dim: 768, heads: 12 }),
    // DINOv2's ViT-S/14 and ViT-B/14 with registers and LayerScale.
    vit('DINOv2 ViT-S/14', { patchSize: 14, dim: 384, heads: 6, registers: 4, layerScale: true }),
    vit('DINOv2 ViT-B/14', { patchSize: 14, dim: 768, heads: 12, registers: 4, layerScale: true }),
  ];
  const GiBs = (b: number) => `${(b / GiB).toFixed(2)} GiB`;

  /** The largest micro-batch that fit `budget` when the micro-batches' gradients were summed into a second
   *  parameter-sized buffer: the plan's bytes and its gradient bytes once more, below the whole batch. */
  function twoBuffers(c: VitArch, batch: number, budget: number): { microBatch: number; total: number } | undefined {
    for (let m = batch; m >= 1; m--) {
      if (batch % m !== 0) continue;
      const plan = planVit(c, { batch: m, training: true, teacher: true });
      const total = plan.bytes.total + (m < batch ? plan.bytes.grads : 0);
      if (largestBuffer(plan) <= limits.maxBufferSize && total <= budget) return { microBatch: m, total };
    }
    return undefined;
  }

  /** The largest micro-batch that fits `budget` now that they add into the one gradient buffer. */
  function oneBuffer(c: VitArch, batch: number, budget: number): { microBatch: number; total: number } | undefined {
    try {
      const { microBatch, plan } = chooseMicroBatch(c, batch, true, limits, budget);
      expect(plan.bytes.total).toBeLessThanOrEqual(budget);
      expect(batch % microBatch).toBe(0);
      return { microBatch, total: plan.bytes.total };
    } catch (e) {
      expect(String(e)).toMatch(/does not fit/);
      return undefined;
    }
  }

  it('prints the micro-batch of ViT-Ti/S/B/16 and DINOv2 ViT-S/B/14 StochCA under 2 and 4 GiB, with one gradient buffer and with two', () => {
    const rows: string[] = [];
    for (const { name, at } of models) {
      for (const [size, batch] of [
        [224, 32],
        [448, 16],
      ] as const) {
        const c = at(size);
        const whole = planVit(c, { batch, training: true, teacher: true });
        const under = [2, 4].map((g) => {
          const [before, after] = [twoBuffers(c, batch, g * GiB), oneBuffer(c, batch, g * GiB)];
          const show = (r?: { microBatch: number; total: number }) =>
            r ? `${r.microBatch} (${GiBs(r.total)})` : 'does not fit';
          // One buffer fewer never fits a smaller micro-batch.
          expect(after?.microBatch ?? 0).toBeGreaterThanOrEqual(before?.microBatch ?? 0);
          return `${g} GiB: ${show(before)} -> ${show(after)}`;
        });
        rows.push(`${name} ${size} px batch ${batch}: ${GiBs(whole.bytes.total)} at once; ${under.join('; ')}`);
      }
    }
    console.log(`micro-batch (bytes), two gradient buffers -> one\n${rows.join('\n')}`);
  });

  it('fits ViT-B/16 StochCA at batch 32, 224 px, under 2 GiB in micro-batches, which the gradient sum did not', () => {
    const b = models[2].at(224);
    expect(planVit(b, { batch: 32, training: true, teacher: true }).bytes.total).toBeGreaterThan(4 * GiB);
    expect(twoBuffers(b, 32, 2 * GiB)).toBeUndefined();
    const under2 = chooseMicroBatch(b, 32, true, limits, 2 * GiB);
    expect(under2.plan.bytes.total).toBeLessThanOrEqual(2 * GiB);
    // Weights, gradients, AdamW's two moments and the teacher: five parameter-sized buffers, not six.
    const { params, grads, optimizer } = under2.plan.bytes;
    expect(grads + optimizer).toBe(3 * params);
    expect(chooseMicroBatch(b, 32, true, limits, 4 * GiB).microBatch).toBeGreaterThan(
      twoBuffers(b, 32, 4 * GiB)!.microBatch,
    );
  });
});
