// A new classifier head initialised like PyTorch's nn.Linear default:
// kaiming_uniform_(a=√5) gives weight ~ U(−1/√in, 1/√in), and bias ~ U(−1/√in, 1/√in).
import type { Rng } from './rng.ts';

/** weight [out, in] and bias [out] of a fresh Linear(in, out). */
export function linearInit(inDim: number, outDim: number, rng: Rng): { weight: Float32Array; bias: Float32Array } {
  const bound = 1 / Math.sqrt(inDim);
  const u = () => (2 * rng() - 1) * bound;
  return { weight: Float32Array.from({ length: outDim * inDim }, u), bias: Float32Array.from({ length: outDim }, u) };
}
