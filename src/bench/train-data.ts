// Inputs of the training benchmark, seeded so both engines get the same values:
// weights, a batch, the per-step mask draws, and the FLOPs a step does.
import { seededRng, type Rng } from '../nn/rng.ts';
import { vitDims, type VitArch } from '../nn/vit-arch.ts';
import { vitParamSpecs } from '../nn/vit-params.ts';

export type HostWeights = Record<string, Float32Array>;

function gaussian(rng: Rng): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/**
 * Weights whose activations stay near unit scale through the blocks: matrices
 * ~N(0, 1/fan_in), LayerNorm weights near 1, biases and embeddings small but not
 * zero, so attention is far from uniform and a wrong path changes the loss.
 */
export function benchWeights(c: VitArch, seed: number): HostWeights {
  const normal = gaussian(seededRng(seed));
  const out: HostWeights = {};
  for (const { name, shape } of vitParamSpecs(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length > 1 ? n / shape[0] : 0;
    const sample = /(ln\d|norm)\.weight$/.test(name)
      ? () => 1 + 0.1 * normal()
      : fanIn > 0
        ? () => normal() / Math.sqrt(fanIn)
        : name === 'cls' || name === 'pos'
          ? () => 0.5 * normal()
          : () => 0.1 * normal();
    out[name] = Float32Array.from({ length: n }, sample);
  }
  return out;
}

/** Images [B, 3, S, S] ~N(0, 1) (normalised pixels) and labels [B]. */
export function benchBatch(c: VitArch, batch: number, seed: number): { images: Float32Array; labels: Uint32Array } {
  const rng = seededRng(seed);
  const normal = gaussian(rng);
  const images = Float32Array.from({ length: batch * 3 * c.imageSize ** 2 }, normal);
  const labels = Uint32Array.from({ length: batch }, () => Math.floor(rng() * c.numClasses));
  return { images, labels };
}

/**
 * One uniform draw per block and step; block i of step t cross-attends at p when
 * u[t][i] < p. The same draws serve every p, so p = 0.1's masks are subsets of p = 0.5's.
 */
export function maskDraws(depth: number, steps: number, seed: number): number[][] {
  const rng = seededRng(seed);
  return Array.from({ length: steps }, () => Array.from({ length: depth }, rng));
}

/**
 * Matmul and attention FLOPs of one training step with this mask: the student's forward
 * and backward (twice the forward for every matmul and attention), the patch embedding's
 * weight gradient (no gradient for the images), and the teacher's forward up to the
 * deepest cross-attending block; for a linear probe (`headOnly`), the forward and the head's
 * weight gradient alone. Elementwise work, LayerNorm and softmax are not counted.
 */
export function stepFlops(c: VitArch, batch: number, mask: readonly boolean[], headOnly = false): number {
  const { P, N, D, M, C, K } = vitDims(c);
  const block = batch * (2 * N * (4 * D * D + 2 * D * M) + 4 * N * N * D);
  const embed = batch * 2 * P * K * D;
  const head = batch * 2 * D * C;
  if (headOnly) return c.depth * block + embed + 2 * head;
  const teacher = mask.lastIndexOf(true) + 1;
  return 3 * (c.depth * block + head) + 2 * embed + (teacher > 0 ? embed + teacher * block : 0);
}
