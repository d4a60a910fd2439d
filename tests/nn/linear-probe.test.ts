// The linear probe: a plan of the head's gradients and moments alone and the forward's activations as an
// evaluation keeps them, and a step whose gradients are the classifier's (checked against the float64
// softmax cross-entropy of the engine's own class-token features) and whose AdamW leaves everything
// else as it was, bit for bit.
import { describe, expect, it } from 'vitest';
import { chooseMicroBatch, planVit, type VitPlan } from '../../src/nn/planner.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';
import { harnessPage } from '../helpers/browser.ts';
import { plainWeights, randomVitWeights } from '../helpers/model.ts';
import { normal } from '../helpers/random.ts';
import { adamwRef, clipGradNormRef } from '../reference/adamw.ts';

const config: VitArch = {
  imageSize: 8,
  patchSize: 4,
  dim: 16,
  depth: 3,
  heads: 2,
  mlpDim: 32,
  numClasses: 5,
  layerNormEps: 1e-6,
};

const vitS: VitArch = { ...config, imageSize: 224, patchSize: 16, dim: 384, depth: 12, heads: 6, mlpDim: 1536 };

/** Elements of the head's two tensors, each padded to the planner's 64-element alignment. */
const headElems = (c: VitArch) => Math.ceil((c.numClasses * c.dim) / 64) * 64 + Math.ceil(c.numClasses / 64) * 64;

describe('the linear probe plan', () => {
  it("plans the head's gradients and moments alone, and the activations of an evaluation", () => {
    const probe = planVit(vitS, { batch: 32, training: true, teacher: false, headOnly: true });
    const finetune = planVit(vitS, { batch: 32, training: true, teacher: false });
    const infer = planVit(vitS, { batch: 32, training: false, teacher: false });
    expect(probe.bytes.params).toBe(finetune.bytes.params);
    expect(probe.bytes.grads).toBe(4 * headElems(vitS));
    expect(probe.bytes.optimizer).toBe(2 * 4 * headElems(vitS));
    expect(probe.bytes.activations).toBe(infer.bytes.activations);
    expect(probe.bytes.backward).toBe(4 * (32 * vitS.numClasses + 1)); // dlogits and the gradient norm
    expect(probe.bytes.teacher).toBe(0);
    console.log(
      `ViT-S/16 at 224 px, batch 32: linear probe ${(probe.bytes.total / 2 ** 20).toFixed(1)} MiB, ` +
        `fine-tuning ${(finetune.bytes.total / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(probe.bytes.total).toBeLessThan(finetune.bytes.total / 4);
    // Micro-batches add into the head's one gradient buffer.
    const micro = chooseMicroBatch(
      vitS,
      32,
      false,
      { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 },
      probe.bytes.total - 1,
      true,
    );
    expect(micro.microBatch).toBe(16);
    expect(micro.plan.bytes.grads).toBe(4 * headElems(vitS));
    expect(() => planVit(vitS, { batch: 1, training: true, teacher: true, headOnly: true })).toThrow(/no teacher/);
  });

  it('lays the head out last, on a 256-byte boundary, the weight (decayed) before the bias', () => {
    const plan: VitPlan = planVit(config, { batch: 1, training: true, teacher: false, headOnly: true });
    const at = Object.fromEntries(plan.params.map((p) => [p.name, p.offset]));
    expect(plan.params.slice(-2).map((p) => p.name)).toEqual(['head.weight', 'head.bias']);
    expect(plan.trainOffset).toBe(at['head.weight']);
    expect((4 * plan.trainOffset) % 256).toBe(0);
    expect(plan.decayElems).toBe(at['head.bias']);
    expect(plan.paramElems - plan.trainOffset).toBe(headElems(config));
    expect(planVit(config, { batch: 1, training: true, teacher: false }).trainOffset).toBe(0);
  });
});

describe('a linear probe step', () => {
  it("trains the head on the class token's features and leaves every other weight as it was", async () => {
    const page = await harnessPage();
    const weights = plainWeights(randomVitWeights(config, 7));
    const B = 8;
    const images = [...normal(B * 3 * 64, 8)];
    const labels = Array.from({ length: B }, (_, i) => (i * 3) % config.numClasses);
    const settings = { lr: 0.05, weightDecay: 0.1, wdExempt: true, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxNorm: 0.5 };
    const r = await page.evaluate(
      async ({ c, weights, images, labels, settings, B }) => {
        const { gpu, nn } = window.stochca!;
        const open = (o: object) => {
          const net = nn.allocateVit(gpu, nn.planVit(c, { training: true, teacher: false, ...o }));
          for (const [name, data] of Object.entries(weights)) gpu.write(net.weights.at[name], Float32Array.from(data));
          return net;
        };
        const probe = open({ batch: B, headOnly: true });
        gpu.write(probe.stem.images, Float32Array.from(images));
        gpu.write(probe.stem.labels, Uint32Array.from(labels));
        const mask = nn.drawMask(1, 1, c.depth, 0);
        nn.computeGradients(gpu, probe, mask);
        const [clsNorm, loss, gw, gb] = await gpu.readAll([
          probe.stem.clsNorm,
          probe.stem.loss,
          probe.grads.at['head.weight'],
          probe.grads.at['head.bias'],
        ]);
        nn.optimizerStep(gpu, probe, { ...settings, step: 1 });
        const after: Record<string, number[]> = {};
        for (const name of Object.keys(weights)) after[name] = Array.from(await gpu.read(probe.weights.at[name]));
        // The same batch in two micro-batches of 4: the head's gradients summed in its gradient buffer.
        const micro = open({ batch: B / 2, headOnly: true });
        const per = 3 * 64;
        for (let j = 0; j < 2; j++) {
          gpu.write(micro.stem.images, Float32Array.from(images.slice((j * B * per) / 2, ((j + 1) * B * per) / 2)));
          gpu.write(micro.stem.labels, Uint32Array.from(labels.slice((j * B) / 2, ((j + 1) * B) / 2)));
          nn.computeGradients(gpu, micro, mask, { index: j, of: 2 });
        }
        const sum = Array.from(await gpu.read(micro.grads.flat));
        return {
          clsNorm: Array.from(clsNorm),
          loss: loss[0],
          gw: Array.from(gw),
          gb: Array.from(gb),
          sum,
          after,
          blocks: probe.blocks.length,
          hasBackward: probe.bwd !== undefined,
          gradNames: Object.keys(probe.grads.at),
        };
      },
      { c: config, weights, images, labels, settings, B },
    );
    expect(r.blocks).toBe(1);
    expect(r.hasBackward).toBe(false);
    expect(r.gradNames).toEqual(['head.weight', 'head.bias']);

    // Float64 reference of the classifier on the engine's own features: logits = W·x + b, softmax cross-entropy.
    const { dim: D, numClasses: C } = config;
    const W = weights['head.weight'];
    const bias = weights['head.bias'];
    const gw = new Float64Array(C * D);
    const gb = new Float64Array(C);
    let loss = 0;
    for (let i = 0; i < B; i++) {
      const x = r.clsNorm.slice(i * D, (i + 1) * D);
      const z = Array.from({ length: C }, (_, k) => bias[k] + x.reduce((a, xd, d) => a + W[k * D + d] * xd, 0));
      const top = Math.max(...z);
      const e = z.map((v) => Math.exp(v - top));
      const total = e.reduce((a, b) => a + b);
      loss += (Math.log(total) + top - z[labels[i]]) / B;
      for (let k = 0; k < C; k++) {
        const dz = (e[k] / total - (k === labels[i] ? 1 : 0)) / B;
        gb[k] += dz;
        for (let d = 0; d < D; d++) gw[k * D + d] += dz * x[d];
      }
    }
    expect(r.loss).toBeCloseTo(loss, 5);
    const close = (got: number[], want: ArrayLike<number>, what: string) => {
      const scale = Math.max(...Array.from(want, Math.abs));
      const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
      expect(worst / scale, what).toBeLessThan(1e-5);
    };
    close(r.gw, gw, 'head.weight gradient');
    close(r.gb, gb, 'head.bias gradient');
    close(r.sum.slice(0, C * D), gw, 'the micro-batches summed: head.weight');

    // AdamW on the head alone: clipped by the head's own norm, the weight decayed and the bias not (wdExempt).
    const g = clipGradNormRef(Float64Array.from([...r.gw, ...r.gb]), settings.maxNorm);
    const state = {
      p: Float64Array.from([...W, ...bias]),
      m: new Float64Array(g.length),
      v: new Float64Array(g.length),
    };
    adamwRef(state, g, settings, 1, 0, C * D);
    adamwRef(state, g, { ...settings, weightDecay: 0 }, 1, C * D);
    close(r.after['head.weight'], state.p.subarray(0, C * D), 'head.weight after AdamW');
    close(r.after['head.bias'], state.p.subarray(C * D), 'head.bias after AdamW');
    for (const [name, w] of Object.entries(weights)) {
      if (name.startsWith('head.')) expect(r.after[name], name).not.toEqual(Array.from(Float32Array.from(w)));
      else expect(r.after[name], name).toEqual(Array.from(Float32Array.from(w)));
    }
  });
});
