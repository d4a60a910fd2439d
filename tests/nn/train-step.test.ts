// Training steps end to end on a tiny ViT: masks from a seed, the loss falls under
// StochCA, the teacher never changes, and p = 0 never runs it.
import { describe, expect, it } from 'vitest';
import { drawMask } from '../../src/nn/stochca-step.ts';
import { seededRng } from '../../src/nn/rng.ts';
import type { VitConfig } from '../../src/nn/vit-config.ts';
import { harnessPage } from '../helpers/browser.ts';
import { plainWeights, randomVitWeights } from '../helpers/model.ts';
import { normal } from '../helpers/random.ts';

const config: VitConfig = { imageSize: 8, patchSize: 4, dim: 16, depth: 4, heads: 2, mlpDim: 32, numClasses: 3, layerNormEps: 1e-6 };

describe('masks', () => {
  it('draws one Bernoulli(p) per block per step, the same for the same seed', () => {
    const a = seededRng(7);
    const b = seededRng(7);
    const steps = Array.from({ length: 2000 }, () => drawMask(a, 12, 0.1));
    expect(Array.from({ length: 2000 }, () => drawMask(b, 12, 0.1))).toEqual(steps);
    const rate = steps.flat().filter(Boolean).length / (2000 * 12);
    expect(rate).toBeGreaterThan(0.09);
    expect(rate).toBeLessThan(0.11);
    expect(drawMask(seededRng(1), 12, 0).includes(true)).toBe(false);
  });
});

describe('training steps', () => {
  it('lowers the loss on a fixed batch under StochCA p = 0.5 and leaves the teacher untouched', async () => {
    const page = await harnessPage();
    const weights = plainWeights(randomVitWeights(config, 1));
    const images = [...normal(8 * 3 * 64, 2)];
    const r = await page.evaluate(async ({ c, weights, images }) => {
      const { gpu, nn } = window.stochca!;
      const net = nn.allocateVit(gpu, nn.planVit(c, { batch: 8, training: true, teacher: true }));
      for (const [name, data] of Object.entries(weights)) {
        gpu.write(net.weights.at[name], Float32Array.from(data));
        gpu.write(net.teacher.weights.at[name], Float32Array.from(data));
      }
      const teacherBefore = Array.from(await gpu.read(net.teacher.weights.flat));
      gpu.write(net.stem.images, Float32Array.from(images));
      gpu.write(net.stem.labels, Uint32Array.from([0, 1, 2, 0, 1, 2, 0, 1]));
      const rng = nn.seededRng(5);
      const losses: number[] = [];
      let crossed = 0;
      for (let step = 1; step <= 30; step++) {
        const mask = nn.drawMask(rng, c.depth, 0.5);
        crossed += mask.filter(Boolean).length;
        nn.computeGradients(gpu, net, mask);
        nn.optimizerStep(gpu, net, { lr: nn.learningRate(step, 30, 3e-3, 3), weightDecay: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxNorm: 1, step });
        losses.push((await gpu.read(net.stem.loss))[0]);
      }
      const teacherAfter = Array.from(await gpu.read(net.teacher.weights.flat));
      return { losses, crossed, teacherSame: teacherBefore.every((v, i) => v === teacherAfter[i]) };
    }, { c: config, weights, images });
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
      nn.computeGradients(gpu, net, nn.drawMask(nn.seededRng(1), c.depth, 0));
      await gpu.flush();
      return { teacherBytes: plan.bytes.teacher, hasTeacher: net.teacher !== undefined };
    }, config);
    expect(r).toEqual({ teacherBytes: 0, hasTeacher: false });
  });
});
