// A ViT initialised from scratch as timm's VisionTransformer does it: every linear and the
// patch projection ~ truncated normal(0, 0.02) with zero bias, LayerNorm weight 1 and bias 0,
// class token, registers and position embedding ~ truncated normal(0, 0.02), head zero-biased;
// LayerScale's γ = 1e-5, DINOv2's init_values, so each block starts close to the identity.
import type { HostTensor } from '../gpu/tensor.ts';
import type { Rng } from './rng.ts';
import { vitParamSpecs } from './vit-params.ts';
import type { VitArch } from './vit-arch.ts';

const LAYER_SCALE_INIT = 1e-5;

/** Normal(0, std) cut at ±2 std (redrawn), from a uniform generator by Box–Muller. */
function truncNormal(rng: Rng, std: number): () => number {
  return () => {
    for (;;) {
      const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
      if (Math.abs(z) <= 2) return z * std;
    }
  };
}

/** Canonical name → tensor for every parameter of a fresh ViT. */
export function initVitWeights(config: VitArch, rng: Rng): Map<string, HostTensor> {
  const normal = truncNormal(rng, 0.02);
  const weights = new Map<string, HostTensor>();
  for (const { name, shape } of vitParamSpecs(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const leaf = name.split('.').pop();
    const isNorm = /(^|\.)(ln1|ln2|norm|preNorm)\./.test(name);
    const isScale = leaf === 'ls1' || leaf === 'ls2';
    const fill = isNorm
      ? leaf === 'weight'
        ? () => 1
        : () => 0
      : isScale
        ? () => LAYER_SCALE_INIT
        : leaf === 'bias'
          ? () => 0
          : normal;
    weights.set(name, { shape, data: Float32Array.from({ length: size }, fill) });
  }
  return weights;
}
