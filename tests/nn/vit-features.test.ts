// A ViT with every optional feature of CLIP and DINOv2 (pre-norm, QuickGELU, no patch bias, LayerScale,
// 4 registers, patch 14) beyond the gradients of vit-grad.test.ts: evaluation logits and the class token's
// attention over every token (class token, registers, patches) against the float64 reference, gradient
// accumulation over micro-batches, a fresh initialisation, and what the planner counts.
import { describe, expect, it } from 'vitest';
import { planVit } from '../../src/nn/planner.ts';
import { seededRng } from '../../src/nn/rng.ts';
import { sameBackbone, vitArchProblems, type VitArch } from '../../src/nn/vit-arch.ts';
import { initVitWeights } from '../../src/nn/vit-init.ts';
import { vitParamSpecs } from '../../src/nn/vit-params.ts';
import { expectClose } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { engineLogits, plainWeights, randomVitWeights } from '../helpers/model.ts';
import { normal } from '../helpers/random.ts';
import { EVERY_FEATURE, EVERY_FEATURE_PLAIN, FEATURES, vitClassAttentionRef, vitLogitsRef } from '../reference/vit.ts';

const plain = EVERY_FEATURE_PLAIN;
const features = FEATURES;
const config = EVERY_FEATURE;

describe('a ViT with every CLIP and DINOv2 feature', () => {
  it('evaluates and maps the class token’s attention over the class token, registers and patches as the reference does', async () => {
    const B = 3;
    const weights = randomVitWeights(config, 40);
    const images = normal(B * 3 * config.imageSize ** 2, 41);
    const logits = await engineLogits(config, B, weights, images);
    expectClose(logits, vitLogitsRef(config, weights, undefined, images, B), 1e-5, 'logits');

    const page = await harnessPage();
    const maps = await page.evaluate(
      async ({ c, B, weights, images }) => {
        const { gpu, nn } = window.stochca!;
        const net = nn.allocateVit(gpu, nn.planVit(c, { batch: B, training: false, teacher: false }));
        for (const [name, data] of Object.entries(weights)) gpu.write(net.weights.at[name], Float32Array.from(data));
        gpu.write(net.stem.images, Float32Array.from(images));
        gpu.write(net.stem.labels, new Uint32Array(B));
        const { N, H } = nn.vitDims(c);
        const maps = Array.from({ length: c.depth }, () => gpu.tensor([B, H, N], 'f32'));
        nn.classAttention(gpu, net, maps);
        return { N, maps: await Promise.all(maps.map(async (m) => Array.from(await gpu.read(m)))) };
      },
      { c: config, B, weights: plainWeights(weights), images: [...images] },
    );
    expect(maps.N).toBe(1 + 4 + 4);
    // The reference's [B, depth, H, N] in the engine's per-block [B, H, N].
    const ref = vitClassAttentionRef(config, weights, images, B);
    const per = config.heads * maps.N;
    for (let i = 0; i < config.depth; i++) {
      const want = Float64Array.from({ length: B * per }, (_, k) => {
        const b = Math.floor(k / per);
        return ref[(b * config.depth + i) * per + (k % per)];
      });
      expectClose(maps.maps[i], want, 1e-5, `block ${i} class-token attention`);
    }
  });

  it('2 micro-batches of 2 give the gradients and loss of one batch of 4, StochCA with a mixed mask', async () => {
    const page = await harnessPage();
    const student = plainWeights(randomVitWeights(config, 44));
    const teacher = plainWeights(randomVitWeights(config, 45));
    const images = [...normal(4 * 3 * config.imageSize ** 2, 46)];
    const labels = [0, 2, 1, 2];
    const r = await page.evaluate(
      async ({ c, student, teacher, images, labels }) => {
        const { gpu, nn } = window.stochca!;
        const mask = [false, true];
        const open = (batch: number) => {
          const net = nn.allocateVit(gpu, nn.planVit(c, { batch, training: true, teacher: true }));
          for (const [name, data] of Object.entries(student)) gpu.write(net.weights.at[name], Float32Array.from(data));
          for (const [name, data] of Object.entries(teacher))
            gpu.write(net.teacher.weights.at[name], Float32Array.from(data));
          return net;
        };
        const whole = open(4);
        gpu.write(whole.stem.images, Float32Array.from(images));
        gpu.write(whole.stem.labels, Uint32Array.from(labels));
        nn.computeGradients(gpu, whole, mask);
        const [g4, loss4] = await gpu.readAll([whole.grads.flat, whole.stem.loss]);
        const micro = open(2);
        // A previous step's gradients: the first micro-batch writes over them.
        for (const name of Object.keys(micro.grads.at)) {
          const g = micro.grads.at[name];
          gpu.write(g, new Float32Array(g.shape.reduce((a: number, b: number) => a * b)).fill(1e3));
        }
        const per = images.length / 4;
        let loss = 0;
        for (let j = 0; j < 2; j++) {
          gpu.write(micro.stem.images, Float32Array.from(images.slice(j * 2 * per, (j + 1) * 2 * per)));
          gpu.write(micro.stem.labels, Uint32Array.from(labels.slice(j * 2, (j + 1) * 2)));
          nn.computeGradients(gpu, micro, mask, { index: j, of: 2 });
          loss += (await gpu.read(micro.stem.loss))[0] / 2;
        }
        const g2 = await gpu.read(micro.grads.flat);
        // Where the new parameters' gradients lie in the flat buffer, to see they are not all zero.
        const slots = micro.plan.params.filter((p: { name: string }) => /registers|preNorm|ls\d/.test(p.name));
        const offsets = slots.map((p: { offset: number; shape: number[] }) => [
          p.offset - micro.plan.trainOffset,
          p.shape.reduce((a: number, b: number) => a * b),
        ]);
        return { g4: Array.from(g4), g2: Array.from(g2), loss4: loss4[0], loss, offsets };
      },
      { c: config, student, teacher, images, labels },
    );
    const scale = Math.max(...r.g4.map(Math.abs));
    const worst = Math.max(...r.g4.map((g, i) => Math.abs(g - r.g2[i])));
    expect(scale).toBeGreaterThan(0);
    expect(worst / scale).toBeLessThan(1e-5);
    expect(r.loss).toBeCloseTo(r.loss4, 5);
    expect(r.offsets).toHaveLength(1 + 2 + 2 * config.depth);
    for (const [at, n] of r.offsets) expect(r.g4.slice(at, at + n).some((g) => g !== 0)).toBe(true);
  });
});

describe('parameters and plan of the features', () => {
  it('tells backbones apart by every feature, the absent fields at their defaults, and checks the fields', () => {
    expect(sameBackbone(plain, { ...plain, patchBias: true, registers: 0, activation: 'gelu', numClasses: 7 })).toBe(
      true,
    );
    for (const [k, v] of Object.entries({ ...features, classPosition: false }))
      expect(sameBackbone(plain, { ...plain, [k]: v }), k).toBe(false);
    expect(sameBackbone(plain, { ...plain, classPosition: true })).toBe(true);
    expect(sameBackbone(config, { ...config })).toBe(true);
    expect(
      vitArchProblems({ ...config, registers: -1, activation: 'relu' as 'gelu', layerScale: 1 as unknown as boolean }),
    ).toEqual([
      'layerScale must be true or false, got 1',
      "activation must be 'gelu' or 'quick-gelu', got relu",
      'registers must be a whole number ≥ 0, got -1',
    ]);
  });

  it('initialises γ = 1e-5, the pre-norm as the identity and the registers like the class token', () => {
    const w = initVitWeights(config, seededRng(3));
    expect([...w.get('blocks.1.ls2')!.data]).toEqual(Array(16).fill(Math.fround(1e-5)));
    expect([...w.get('preNorm.weight')!.data]).toEqual(Array(16).fill(1));
    expect([...w.get('preNorm.bias')!.data]).toEqual(Array(16).fill(0));
    const reg = w.get('registers')!;
    expect(reg.shape).toEqual([4, 16]);
    expect(Math.max(...reg.data.map(Math.abs))).toBeLessThanOrEqual(0.04);
    expect(reg.data.some((v) => v !== 0)).toBe(true);
    expect(w.has('patch.bias')).toBe(false);
  });

  it('counts the new parameters (with their gradients and moments) and the larger token count', () => {
    // DINOv2 ViT-S/14 with 4 registers at 224 px, against the plain ViT of the same shape.
    const vitS: VitArch = { ...plain, imageSize: 224, dim: 384, depth: 12, heads: 6, mlpDim: 1536, numClasses: 10 };
    const elems = (c: VitArch) => vitParamSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    const D = 384;
    // + registers [4, D] + ls1, ls2 [D] per block + preNorm [D] × 2 − patch.bias [D]; pos stays [1 + 256, D].
    expect(elems({ ...vitS, ...features }) - elems(vitS)).toBe(4 * D + 2 * 12 * D + 2 * D - D);
    const o = { batch: 8, training: true, teacher: true } as const;
    const [a, b] = [planVit(vitS, o), planVit({ ...vitS, ...features }, o)];
    expect(b.block.qkv).toEqual([8, 1 + 4 + 256, 3 * D]);
    expect(b.params.find((p) => p.name === 'pos')!.shape).toEqual([257, D]);
    // Every trained parameter's gradient and two moments.
    expect(b.bytes.grads).toBe(4 * (b.paramElems - b.trainOffset));
    expect(b.bytes.optimizer).toBe(2 * b.bytes.grads);
    // The pre-norm's output and statistics in the stem, and every block's activations at 261 tokens.
    const perBlock = (p: typeof a) => Object.values(p.block).reduce((n, s) => n + 4 * s.reduce((x, y) => x * y, 1), 0);
    expect(perBlock(b) / perBlock(a)).toBeCloseTo(261 / 257, 12);
    const stem = (p: typeof a) => p.bytes.activations - 12 * perBlock(p);
    const tokens = (n: number) => 4 * 8 * n * D; // a [8, n, D] buffer
    expect(stem(b) - stem(a)).toBe(2 * (tokens(261) - tokens(257)) + tokens(261) + 2 * 4 * 8 * 261);
  });
});
