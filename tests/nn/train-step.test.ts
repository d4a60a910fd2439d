// Training steps end to end on a tiny ViT: masks from a seed, the loss falls under
// StochCA, the teacher never changes, and p = 0 never runs it.
import { describe, expect, it } from 'vitest';
import { drawMask } from '../../src/nn/stochca-step.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';
import { harnessPage } from '../helpers/browser.ts';
import { plainWeights, randomVitWeights } from '../helpers/model.ts';
import { normal } from '../helpers/random.ts';

const config: VitArch = {
  imageSize: 8,
  patchSize: 4,
  dim: 16,
  depth: 4,
  heads: 2,
  mlpDim: 32,
  numClasses: 3,
  layerNormEps: 1e-6,
};

describe('masks', () => {
  it('draws one Bernoulli(p) per block per step, a function of (seed, step) alone', () => {
    const steps = Array.from({ length: 2000 }, (_, t) => drawMask(7, t + 1, 12, 0.1));
    // In any order, from any step: what a resumed run relies on.
    expect(Array.from({ length: 2000 }, (_, t) => drawMask(7, 2000 - t, 12, 0.1)).reverse()).toEqual(steps);
    const rate = steps.flat().filter(Boolean).length / (2000 * 12);
    expect(rate).toBeGreaterThan(0.09);
    expect(rate).toBeLessThan(0.11);
    // Steps and seeds draw apart: consecutive steps and neighbouring seeds are not the same masks.
    const same = (a: boolean[][], b: boolean[][]) => a.filter((m, i) => m.join() === b[i].join()).length;
    const p5 = (seed: number) => Array.from({ length: 200 }, (_, t) => drawMask(seed, t + 1, 12, 0.5));
    expect(same(p5(7), p5(8))).toBeLessThan(5);
    expect(same(p5(7).slice(1), p5(7).slice(0, -1))).toBeLessThan(5);
    expect(drawMask(1, 1, 12, 0).includes(true)).toBe(false);
    expect(drawMask(1, 1, 12, 1).includes(false)).toBe(false);
  });
});

describe('training steps', () => {
  it('lowers the loss on a fixed batch under StochCA p = 0.5 and leaves the teacher untouched', async () => {
    const page = await harnessPage();
    const weights = plainWeights(randomVitWeights(config, 1));
    const images = [...normal(8 * 3 * 64, 2)];
    const r = await page.evaluate(
      async ({ c, weights, images }) => {
        const { gpu, nn } = window.stochca!;
        const net = nn.allocateVit(gpu, nn.planVit(c, { batch: 8, training: true, teacher: true }));
        for (const [name, data] of Object.entries(weights)) {
          gpu.write(net.weights.at[name], Float32Array.from(data));
          gpu.write(net.teacher.weights.at[name], Float32Array.from(data));
        }
        const teacherBefore = Array.from(await gpu.read(net.teacher.weights.flat));
        gpu.write(net.stem.images, Float32Array.from(images));
        gpu.write(net.stem.labels, Uint32Array.from([0, 1, 2, 0, 1, 2, 0, 1]));
        const losses: number[] = [];
        let crossed = 0;
        for (let step = 1; step <= 30; step++) {
          const mask = nn.drawMask(5, step, c.depth, 0.5);
          crossed += mask.filter(Boolean).length;
          nn.computeGradients(gpu, net, mask);
          nn.optimizerStep(gpu, net, {
            lr: nn.learningRate(step, 30, 3e-3, 3),
            weightDecay: 0.05,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            maxNorm: 1,
            step,
          });
          losses.push((await gpu.read(net.stem.loss))[0]);
        }
        const teacherAfter = Array.from(await gpu.read(net.teacher.weights.flat));
        return { losses, crossed, teacherSame: teacherBefore.every((v, i) => v === teacherAfter[i]) };
      },
      { c: config, weights, images },
    );
    expect(r.crossed).toBeGreaterThan(20); // about half of 30 × 4 blocks cross-attended
    expect(r.teacherSame).toBe(true);
    const first = r.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = r.losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(last, `losses ${r.losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(0.5 * first);
  });

  it('plans and runs no teacher at p = 0', async () => {
    const page = await harnessPage();
    const r = await page.evaluate(async (c) => {
      const { gpu, nn } = window.stochca!;
      const plan = nn.planVit(c, { batch: 2, training: true, teacher: false });
      const net = nn.allocateVit(gpu, plan);
      nn.computeGradients(gpu, net, nn.drawMask(1, 1, c.depth, 0));
      await gpu.flush();
      return { teacherBytes: plan.bytes.teacher, hasTeacher: net.teacher !== undefined };
    }, config);
    expect(r).toEqual({ teacherBytes: 0, hasTeacher: false });
  });
});

describe('weight-decay groups', () => {
  it("with wdExempt, decays matrices and kernels only: not biases, LayerNorm, class token or position embedding (timm's convention)", async () => {
    const page = await harnessPage();
    const weights = plainWeights(randomVitWeights(config, 2));
    // Zero gradients: AdamW's update is then the decay alone, w ← w·(1 − lr·wd).
    const r = await page.evaluate(
      async ({ c, weights }) => {
        const { gpu, nn } = window.stochca!;
        const net = nn.allocateVit(gpu, nn.planVit(c, { batch: 1, training: true, teacher: false }));
        for (const [name, data] of Object.entries(weights)) gpu.write(net.weights.at[name], Float32Array.from(data));
        const after: Record<string, number[]> = {};
        for (const wdExempt of [false, true]) {
          for (const [name, data] of Object.entries(weights)) gpu.write(net.weights.at[name], Float32Array.from(data));
          gpu.write(net.grads.flat, new Float32Array(net.plan.paramElems));
          nn.optimizerStep(gpu, net, {
            lr: 0.1,
            weightDecay: 0.5,
            wdExempt,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 1,
          });
          for (const name of Object.keys(weights))
            after[`${wdExempt}:${name}`] = Array.from(await gpu.read(net.weights.at[name]));
        }
        return after;
      },
      { c: config, weights },
    );
    const exempt = (name: string) =>
      name === 'cls' || name === 'pos' || name.endsWith('.bias') || /(^|\.)(ln1|ln2|norm)\./.test(name);
    for (const [name, w] of Object.entries(weights)) {
      const decayed = w.map((x) => x * (1 - 0.1 * 0.5));
      expect(r[`false:${name}`], name).toEqual(decayed.map((x) => expect.closeTo(x, 6)));
      expect(r[`true:${name}`], name).toEqual((exempt(name) ? w : decayed).map((x) => expect.closeTo(x, 6)));
    }
  });
});

describe('the class position', () => {
  it("of timm's register models (classPosition false) gets no gradient and stays zero: the class token alone is trained", async () => {
    const page = await harnessPage();
    const c: VitArch = { ...config, registers: 2 };
    const weights = plainWeights(randomVitWeights(c, 7));
    weights['pos'].fill(0, 0, c.dim); // as loaded: the class token holds its position
    const images = [...normal(2 * 3 * 64, 8)];
    const r = await page.evaluate(
      async ({ c, weights, images }) => {
        const { gpu, nn } = window.stochca!;
        const out: Record<string, { dcls: number[]; dpos0: number[]; pos0: number[] }> = {};
        for (const classPosition of [true, false]) {
          const arch = { ...c, classPosition };
          const net = nn.allocateVit(gpu, nn.planVit(arch, { batch: 2, training: true, teacher: false }));
          for (const [name, data] of Object.entries(weights)) gpu.write(net.weights.at[name], Float32Array.from(data));
          gpu.write(net.stem.images, Float32Array.from(images));
          gpu.write(net.stem.labels, Uint32Array.from([0, 2]));
          nn.computeGradients(gpu, net, new Array(c.depth).fill(false));
          const [dcls, dpos] = await gpu.readAll([net.grads!.at['cls'], net.grads!.at['pos']]);
          const settings = { lr: 0.1, weightDecay: 0.5, wdExempt: false, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
          nn.optimizerStep(gpu, net, { ...settings, step: 1 });
          const pos = await gpu.read(net.weights.at['pos']);
          out[String(classPosition)] = {
            dcls: Array.from(dcls),
            dpos0: Array.from(dpos.subarray(0, c.dim)),
            pos0: Array.from(pos.subarray(0, c.dim)),
          };
        }
        return out;
      },
      { c, weights, images },
    );
    // With a class position, pos[0] gets the class token's gradient and AdamW moves it as far as the class
    // token: the sum cls + pos[0] the blocks see moves twice as fast as timm's cls_token.
    expect(r.true.dpos0).toEqual(r.true.dcls);
    expect(r.true.pos0.every((x) => Math.abs(x) > 0.05)).toBe(true);
    expect(r.false.dcls).toEqual(r.true.dcls);
    expect(r.false.dcls.some((x) => x !== 0)).toBe(true);
    expect(r.false.dpos0).toEqual(new Array(c.dim).fill(0));
    expect(r.false.pos0).toEqual(new Array(c.dim).fill(0));
  });
});

describe('gradient accumulation', () => {
  it('4 micro-batches of 8 give the gradients and loss of one batch of 32, StochCA with a mixed mask', async () => {
    const page = await harnessPage();
    const student = plainWeights(randomVitWeights(config, 4));
    const teacher = plainWeights(randomVitWeights(config, 5));
    const images = [...normal(32 * 3 * 64, 6)];
    const labels = Array.from({ length: 32 }, (_, i) => (i * 7) % 3);
    const r = await page.evaluate(
      async ({ c, student, teacher, images, labels }) => {
        const { gpu, nn } = window.stochca!;
        const mask = [true, false, true, false];
        const load = (net: any) => {
          for (const [name, data] of Object.entries(student)) gpu.write(net.weights.at[name], Float32Array.from(data));
          for (const [name, data] of Object.entries(teacher))
            gpu.write(net.teacher.weights.at[name], Float32Array.from(data));
        };
        const whole = nn.allocateVit(gpu, nn.planVit(c, { batch: 32, training: true, teacher: true }));
        load(whole);
        gpu.write(whole.stem.images, Float32Array.from(images));
        gpu.write(whole.stem.labels, Uint32Array.from(labels));
        nn.computeGradients(gpu, whole, mask);
        const [g32, loss32] = await gpu.readAll([whole.grads.flat, whole.stem.loss]);
        const micro = nn.allocateVit(gpu, nn.planVit(c, { batch: 8, training: true, teacher: true }));
        load(micro);
        // A previous step's gradients: the first micro-batch writes over them, the others add to its.
        for (const name of Object.keys(micro.grads.at)) {
          const g = micro.grads.at[name];
          gpu.write(g, new Float32Array(g.shape.reduce((a: number, b: number) => a * b)).fill(1e3));
        }
        const per = 3 * 64;
        let loss = 0;
        for (let j = 0; j < 4; j++) {
          gpu.write(micro.stem.images, Float32Array.from(images.slice(j * 8 * per, (j + 1) * 8 * per)));
          gpu.write(micro.stem.labels, Uint32Array.from(labels.slice(j * 8, (j + 1) * 8)));
          nn.computeGradients(gpu, micro, mask, { index: j, of: 4 });
          loss += (await gpu.read(micro.stem.loss))[0] / 4;
        }
        const g8 = await gpu.read(micro.grads.flat);
        return { g32: Array.from(g32), g8: Array.from(g8), loss32: loss32[0], loss };
      },
      { c: config, student, teacher, images, labels },
    );
    const scale = Math.max(...r.g32.map(Math.abs));
    const worst = Math.max(...r.g32.map((g, i) => Math.abs(g - r.g8[i])));
    console.log(
      `accumulated gradients: max |difference| ${worst.toExponential(2)} of max |g| ${scale.toExponential(2)}`,
    );
    expect(scale).toBeGreaterThan(0);
    expect(worst / scale).toBeLessThan(1e-6);
    expect(r.loss).toBeCloseTo(r.loss32, 5);
  });

  it('plans the largest micro-batch that divides the batch and fits the budget, with one gradient buffer', async () => {
    const { chooseMicroBatch, planVit } = await import('../../src/nn/planner.ts');
    const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 };
    expect(chooseMicroBatch(config, 32, true, limits).microBatch).toBe(32);
    const at8 = planVit(config, { batch: 8, training: true, teacher: true }).bytes.total;
    const r = chooseMicroBatch(config, 32, true, limits, at8);
    expect(r.microBatch).toBe(8);
    expect(r.plan.bytes.grads).toBe(r.plan.bytes.params);
    expect(chooseMicroBatch(config, 12, true, limits, at8 - 1).microBatch).toBe(6);
    expect(() => chooseMicroBatch(config, 32, true, limits, 1000)).toThrow(/does not fit/);
  });
});
