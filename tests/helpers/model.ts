// Tiny ViTs for tests: random weights shaped like a trained model's, and the engine's
// logits for them in Chromium.
import { fromCanonical } from '../../src/checkpoint/convert.ts';
import type { Naming } from '../../src/checkpoint/name-tables.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';
import { vitParamSpecs } from '../../src/nn/vit-params.ts';
import { harnessPage } from './browser.ts';
import { normal } from './random.ts';

export type Weights64 = Record<string, Float64Array>;

/** The command-line tests' ViT: 8-px images in 4-px patches (a 2×2 grid, 5 tokens), D 16, 3 classes. */
export const TINY_VIT: VitArch = {
  imageSize: 8,
  patchSize: 4,
  dim: 16,
  depth: 2,
  heads: 2,
  mlpDim: 32,
  numClasses: 3,
  layerNormEps: 1e-6,
};

/** A tiny ViT at MNIST's size, for runs on real digits: 28-px images in 7-px patches (17 tokens), D 32, 10 classes. */
export const MNIST_SIZED_VIT: VitArch = {
  imageSize: 28,
  patchSize: 7,
  dim: 32,
  depth: 2,
  heads: 2,
  mlpDim: 64,
  numClasses: 10,
  layerNormEps: 1e-6,
};

/** LayerNorm weights near 1, everything else ~N(0, 0.3²); one seed per tensor from `seed`. */
export function randomVitWeights(c: VitArch, seed: number): Weights64 {
  const w: Weights64 = {};
  vitParamSpecs(c).forEach((s, k) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    w[s.name] = s.name.match(/(ln\d|norm)\.weight$/)
      ? normal(n, seed + k, 0.2).map((v) => 1 + v)
      : normal(n, seed + k, 0.3);
  });
  return w;
}

/** `w` as the engine's canonical float32 tensors, what checkpoint files are written from. */
export function canonicalTensors(c: VitArch, w: Weights64): Map<string, HostTensor> {
  return new Map(vitParamSpecs(c).map((s) => [s.name, { shape: s.shape, data: Float32Array.from(w[s.name]) }]));
}

/** A random ViT (randomVitWeights) as a library would save it: `naming`'s tensor names, no metadata of ours. */
export function randomCheckpoint(c: VitArch, seed: number, naming: Naming): Uint8Array {
  return writeSafetensors(fromCanonical(canonicalTensors(c, randomVitWeights(c, seed)), naming));
}

/** Plain arrays, for page.evaluate. */
export function plainWeights(w: Record<string, ArrayLike<number>>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Array.from(v)]));
}

/** The engine's logits [B, C] in Chromium (evaluation: self-attention everywhere, no teacher). */
export async function engineLogits(
  c: VitArch,
  B: number,
  weights: Record<string, ArrayLike<number>>,
  images: ArrayLike<number>,
): Promise<number[]> {
  const page = await harnessPage();
  return page.evaluate(
    async ({ c, B, weights, images }) => {
      const { gpu, nn } = window.stochca!;
      const net = nn.allocateVit(gpu, nn.planVit(c, { batch: B, training: false, teacher: false }));
      for (const [name, data] of Object.entries(weights)) gpu.write(net.weights.at[name], Float32Array.from(data));
      gpu.write(net.stem.images, Float32Array.from(images));
      gpu.write(net.stem.labels, new Uint32Array(B)); // the forward also computes a loss
      nn.studentForward(gpu, net);
      return Array.from(await gpu.read(net.stem.logits)) as number[];
    },
    { c, B, weights: plainWeights(weights), images: Array.from(images) },
  );
}
