// The ONNX export, run by onnxruntime-web in Node, against the engine's own forward pass in
// Chromium on the same weights and images; plus deterministic bytes and refused weights.
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../../src/checkpoint/onnx-export.ts';
import { CheckpointError } from '../../src/checkpoint/safetensors.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';
import { harnessPage } from '../helpers/browser.ts';
import { engineLogits, randomVitWeights, TINY_VIT } from '../helpers/model.ts';
import { expectClose, relError } from '../helpers/compare.ts';
import { normal } from '../helpers/random.ts';

// One thread: the wasm backend then runs in this process instead of spawning worker threads.
// Node resolves onnxruntime-web to its Node build, which loads its .wasm from beside itself in
// node_modules, so no wasmPaths is needed.
ort.env.wasm.numThreads = 1;

type Weights = Record<string, Float32Array>;

const small = TINY_VIT;
const wider: VitArch = {
  imageSize: 32,
  patchSize: 8,
  dim: 64,
  depth: 3,
  heads: 4,
  mlpDim: 128,
  numClasses: 10,
  layerNormEps: 1e-6,
};

/** Every optional feature of CLIP and DINOv2: pre-norm, QuickGELU, no patch bias, LayerScale, 4 registers, patch 14. */
const features: VitArch = {
  ...small,
  imageSize: 28,
  patchSize: 14,
  preNorm: true,
  activation: 'quick-gelu',
  patchBias: false,
  layerScale: true,
  registers: 4,
};

const randomWeights = (c: VitArch, seed: number): Weights =>
  Object.fromEntries(Object.entries(randomVitWeights(c, seed)).map(([k, v]) => [k, Float32Array.from(v)]));

async function onnxLogits(
  model: Uint8Array,
  c: VitArch,
  B: number,
  images: Float32Array,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ pixels: new ort.Tensor('float32', images, [B, 3, c.imageSize, c.imageSize]) });
    return { data: out.logits.data as Float32Array, dims: out.logits.dims };
  } finally {
    await session.release();
  }
}

describe('ONNX export against the engine', () => {
  const cases = [
    { name: '8px, patch 4, dim 16, depth 2, 2 heads', c: small, B: 2 },
    { name: '32px, patch 8, dim 64, depth 3, 4 heads', c: wider, B: 3 },
    { name: '28px, patch 14, every CLIP and DINOv2 feature', c: features, B: 2 },
  ];
  for (const { name, c, B } of cases) {
    it(`${name}, batch ${B}`, async () => {
      const weights = randomWeights(c, 100);
      const images = Float32Array.from(normal(B * 3 * c.imageSize ** 2, 7));
      const model = exportOnnx(c, weights);
      const [want, got] = await Promise.all([engineLogits(c, B, weights, images), onnxLogits(model, c, B, images)]);
      expect(got.dims).toEqual([B, c.numClasses]);
      console.log(`${name}: max relative error ${relError(got.data, want).err.toExponential(2)}`);
      expectClose(got.data, want, 1e-4, `${name} logits`);
    });
  }

  it('runs in the browser too (onnxruntime-web in Chromium), with the same logits', async () => {
    const weights = randomWeights(small, 200);
    const images = Float32Array.from(normal(2 * 3 * small.imageSize ** 2, 9));
    const model = exportOnnx(small, weights);
    const page = await harnessPage();
    const inPage = await page.evaluate(({ model, images, dims }) => window.stochca!.runOnnx(model, images, dims), {
      model,
      images,
      dims: [2, 3, small.imageSize, small.imageSize],
    });
    expect(inPage.dims).toEqual([2, small.numClasses]);
    expectClose(inPage.data, await engineLogits(small, 2, weights, images), 1e-4, 'logits in the browser');
  });

  it('the batch dimension is symbolic: one image alone gives its row of a batch', async () => {
    const weights = randomWeights(small, 300);
    const images = Float32Array.from(normal(3 * 3 * small.imageSize ** 2, 8));
    const model = exportOnnx(small, weights);
    const batch = await onnxLogits(model, small, 3, images);
    const alone = await onnxLogits(model, small, 1, images.slice(2 * 3 * small.imageSize ** 2));
    expectClose(alone.data, batch.data.slice(2 * small.numClasses), 1e-6, 'last image');
  });
});

describe('ONNX export file', () => {
  it('is deterministic: the same weights give the same bytes', () => {
    const weights = randomWeights(wider, 200);
    const copy = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, v.slice()]));
    const a = exportOnnx(wider, weights);
    const b = exportOnnx(wider, copy, {});
    expect(b.length).toBe(a.length);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(exportOnnx(wider, weights, { producer: 'other' })).equals(Buffer.from(a))).toBe(false);
  });

  it('refuses weights that do not fit the config, naming the tensor', () => {
    const good = randomWeights(small, 400);
    const refuse = (w: Weights, message: string) => {
      expect(() => exportOnnx(small, w)).toThrowError(CheckpointError);
      expect(() => exportOnnx(small, w)).toThrowError(message);
    };
    refuse(
      { ...good, 'blocks.1.fc1.weight': new Float32Array(31 * 16) },
      'blocks.1.fc1.weight has 496 values, expected [32, 16] = 512',
    );
    refuse({ ...good, pos: new Float32Array(4 * 16) }, 'pos has 64 values, expected [5, 16] = 80');
    const { 'head.bias': _, ...headless } = good;
    refuse(headless, 'missing tensor head.bias [3]');
    const deeper = randomWeights({ ...small, depth: 3 }, 400);
    refuse(deeper, 'blocks.2.ln1.weight is not a parameter of this ViT (depth 2)');
  });
});
