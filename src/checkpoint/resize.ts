// Resizing the position embedding for another image size, as torchvision's interpolate_embeddings
// does: the class token's row is kept, the G x G grid of patch rows is resized to G' x G' with
// torch.nn.functional.interpolate(mode='bicubic'), one channel at a time. Arithmetic is float64,
// rounded once to f32; PyTorch's is float32 throughout, so the two differ only in rounding.
import { shapeStr, type HostTensor } from '../gpu/tensor.ts';
import { CheckpointError } from './safetensors.ts';

export interface ResizeOptions {
  /**
   * torchvision's interpolate_embeddings passes align_corners=True (the default here): the corner
   * patches stay where they are. timm and HF transformers resize with align_corners=False.
   */
  alignCorners?: boolean;
}

// PyTorch's cubic convolution coefficient (Keys, a = -0.75).
const A = -0.75;
// |x| <= 1
const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
// 1 < |x| < 2
const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;

/**
 * For each output index, the 4 input indices it reads (clamped to the border, as PyTorch does)
 * and their weights: [out * 4] each.
 */
function cubicTaps(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
): { index: Int32Array; weight: Float64Array } {
  const scale = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : inSize / outSize;
  const index = new Int32Array(outSize * 4);
  const weight = new Float64Array(outSize * 4);
  for (let o = 0; o < outSize; o++) {
    // The source coordinate is not clamped at 0 for bicubic: only the indices are.
    const src = alignCorners ? scale * o : scale * (o + 0.5) - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const w = [far(t + 1), near(t), near(1 - t), far(2 - t)];
    for (let k = 0; k < 4; k++) {
      index[o * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      weight[o * 4 + k] = w[k];
    }
  }
  return { index, weight };
}

/**
 * pos: [1 + G², D] (canonical: row 0 the class token, then the grid row-major) -> [1 + grid², D].
 * Returns `pos` itself when the grid already has that size, as torchvision does.
 */
export function resizePosEmbedding(pos: HostTensor, grid: number, options: ResizeOptions = {}): HostTensor {
  if (pos.shape.length !== 2) throw new CheckpointError(`pos: expected [1 + G², D], got ${shapeStr(pos.shape, ', ')}`);
  const [tokens, D] = pos.shape;
  const G = Math.round(Math.sqrt(tokens - 1));
  if (G * G !== tokens - 1) {
    throw new CheckpointError(`pos: ${tokens} rows are not a class token plus a square grid of patches`);
  }
  if (!Number.isSafeInteger(grid) || grid < 1) {
    throw new CheckpointError(`pos: the new grid must be a positive integer, got ${grid}`);
  }
  if (grid === G) return pos;

  const taps = cubicTaps(G, grid, options.alignCorners ?? true);
  const out = new Float32Array((1 + grid * grid) * D);
  out.set(pos.data.subarray(0, D)); // the class token's row
  const row = new Float64Array(D); // one input row interpolated along x
  const acc = new Float64Array(D);
  for (let oy = 0; oy < grid; oy++) {
    for (let ox = 0; ox < grid; ox++) {
      acc.fill(0);
      // Along x within each of the 4 input rows, then along y, in PyTorch's order.
      for (let ky = 0; ky < 4; ky++) {
        row.fill(0);
        const iy = taps.index[oy * 4 + ky];
        for (let kx = 0; kx < 4; kx++) {
          const wx = taps.weight[ox * 4 + kx];
          const base = (1 + iy * G + taps.index[ox * 4 + kx]) * D;
          for (let d = 0; d < D; d++) row[d] += wx * pos.data[base + d];
        }
        const wy = taps.weight[oy * 4 + ky];
        for (let d = 0; d < D; d++) acc[d] += wy * row[d];
      }
      out.set(acc, (1 + oy * grid + ox) * D);
    }
  }
  return { shape: [1 + grid * grid, D], data: out };
}
