// The whole StochCA step's gradients on a tiny ViT against finite differences of a
// float64 reference, with a mask that mixes self- and cross-attending blocks: a plain ViT, and one with
// every optional feature of CLIP and DINOv2 (pre-norm, QuickGELU, no patch bias, LayerScale, registers, patch 14).
import { describe, expect, it } from 'vitest';
import { expectClose, relError } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { plainWeights, randomVitWeights } from '../helpers/model.ts';
import { normal, rng, sampleIndices } from '../helpers/random.ts';
import { EVERY_FEATURE, vitLossRef, type VitRefConfig, type Weights } from '../reference/vit.ts';

const plain: VitRefConfig = {
  imageSize: 8,
  patchSize: 4,
  dim: 16,
  depth: 3,
  heads: 2,
  mlpDim: 32,
  numClasses: 3,
  layerNormEps: 1e-6,
};
const everyFeature = EVERY_FEATURE;
const B = 2;

async function stepGradients(config: VitRefConfig, mask: boolean[]) {
  const page = await harnessPage();
  const student = randomVitWeights(config, 100);
  const teacher = randomVitWeights(config, 500);
  const images = normal(B * 3 * config.imageSize ** 2, 7);
  const r = rng(3);
  const labels = Array.from({ length: B }, () => Math.floor(r() * config.numClasses));
  const out = await page.evaluate(
    async ({ c, B, student, teacher, images, labels, mask }) => {
      const { gpu, nn } = window.stochca!;
      const plan = nn.planVit(c, { batch: B, training: true, teacher: true });
      const net = nn.allocateVit(gpu, plan);
      for (const [name, data] of Object.entries(student)) gpu.write(net.weights.at[name], Float32Array.from(data));
      for (const [name, data] of Object.entries(teacher))
        gpu.write(net.teacher.weights.at[name], Float32Array.from(data));
      gpu.write(net.stem.images, Float32Array.from(images));
      gpu.write(net.stem.labels, Uint32Array.from(labels));
      nn.computeGradients(gpu, net, mask);
      const grads: Record<string, number[]> = {};
      for (const name of Object.keys(student)) grads[name] = Array.from(await gpu.read(net.grads.at[name]));
      return { loss: (await gpu.read(net.stem.loss))[0], grads, bytes: plan.bytes };
    },
    { c: config, B, student: plainWeights(student), teacher: plainWeights(teacher), images: [...images], labels, mask },
  );
  return { ...out, student, teacher, images, labels };
}

describe('StochCA step gradients', () => {
  for (const [config, mask, what] of [
    [plain, [true, false, true], ''],
    [plain, [false, false, false], ' (plain fine-tuning, no teacher)'],
    [everyFeature, [false, true], ', every CLIP and DINOv2 feature'],
  ] as const) {
    const name = `mask ${mask.map(Number).join('')}${what}`;
    it(name, async () => {
      const r = await stepGradients(config, [...mask]);
      const loss = (w: Weights) => vitLossRef(config, w, r.teacher, r.images, r.labels, mask);
      expectClose([r.loss], [loss(r.student)], 1e-5, 'loss');
      const gpu: number[] = [];
      const fd: number[] = [];
      Object.keys(r.student).forEach((pname, k) => {
        const w = r.student[pname];
        const idx = sampleIndices(w.length, 6, 40 + k);
        const here: number[] = [];
        const want: number[] = [];
        for (const i of idx) {
          const keep = w[i];
          w[i] = keep + 1e-5;
          const up = loss(r.student);
          w[i] = keep - 1e-5;
          const down = loss(r.student);
          w[i] = keep;
          here.push(r.grads[pname][i]);
          want.push((up - down) / 2e-5);
        }
        gpu.push(...here);
        fd.push(...want);
        // Each tensor on its own too, so a wrong small gradient cannot hide behind large ones.
        const { err } = relError(here, want);
        expect(err, `${pname}: ${here} vs ${want}`).toBeLessThan(2e-2);
      });
      expectClose(gpu, fd, 2e-3, 'all sampled gradients');
    });
  }
});
