// Resizing the position embedding for another image size, as torchvision's interpolate_embeddings
// does: the class token's row is kept, the G x G grid of patch rows is resized to G' x G' with
// torch.nn.functional.interpolate(mode='bicubic'), one channel at a time; with `antialias`, as
// interpolate(..., antialias=True) does (timm's resample_abs_pos_embed, transformers' DINOv2). Arithmetic
// is float64, rounded once to f32; PyTorch's is float32 throughout, so the two differ only in rounding.
import { shapeStr, type HostTensor } from '../gpu/tensor.ts';
import { CheckpointError } from './safetensors.ts';

export interface ResizeOptions {
  /**
   * torchvision's interpolate_embeddings passes align_corners=True (the default here): the corner
   * patches stay where they are. timm and HF transformers resize with align_corners=False.
   */
  alignCorners?: boolean;
  /** PyTorch's antialiased bicubic (PIL's filter, a = -0.5, widened by the scale when shrinking), with
   *  align_corners=False. */
  antialias?: boolean;
}

/** Keys' cubic convolution kernel with coefficient a: PyTorch's bicubic uses a = -0.75, its antialiased
 *  bicubic (as PIL) a = -0.5. */
const cubic = (a: number) => (x: number) => {
  const s = Math.abs(x);
  if (s < 1) return ((a + 2) * s - (a + 3)) * s * s + 1;
  if (s < 2) return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
  return 0;
};

/** For each output index, the input indices it reads and their weights. */
type Taps = { index: number[]; weight: number[] }[];

/** PyTorch's bicubic: 4 taps, indices clamped to the border. */
function cubicTaps(inSize: number, outSize: number, alignCorners: boolean): Taps {
  const w = cubic(-0.75);
  const scale = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    // The source coordinate is not clamped at 0 for bicubic: only the indices are.
    const src = alignCorners ? scale * o : scale * (o + 0.5) - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    return {
      index: [0, 1, 2, 3].map((k) => Math.min(Math.max(i0 - 1 + k, 0), inSize - 1)),
      weight: [w(t + 1), w(t), w(1 - t), w(2 - t)],
    };
  });
}

/** PyTorch's antialiased bicubic (aten's _compute_weights_aa): the kernel spans 2·scale inputs each side
 *  when shrinking (2 when growing), the taps stop at the border and are normalised to sum to 1. */
function antialiasTaps(inSize: number, outSize: number): Taps {
  const w = cubic(-0.5);
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const invscale = scale >= 1 ? 1 / scale : 1;
  return Array.from({ length: outSize }, (_, o) => {
    const center = scale * (o + 0.5);
    const min = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const index = Array.from({ length: end - min }, (_, j) => min + j);
    const raw = index.map((i) => w((i - center + 0.5) * invscale));
    const total = raw.reduce((a, b) => a + b, 0);
    return { index, weight: total === 0 ? raw : raw.map((v) => v / total) };
  });
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

  if (options.antialias && options.alignCorners)
    throw new CheckpointError('pos: antialiased resizing is defined with align_corners=False only');
  const taps = options.antialias ? antialiasTaps(G, grid) : cubicTaps(G, grid, options.alignCorners ?? true);
  const out = new Float32Array((1 + grid * grid) * D);
  out.set(pos.data.subarray(0, D)); // the class token's row
  const row = new Float64Array(D); // one input row interpolated along x
  const acc = new Float64Array(D);
  for (let oy = 0; oy < grid; oy++) {
    for (let ox = 0; ox < grid; ox++) {
      acc.fill(0);
      // Along x within each input row the output reads, then along y.
      const [ty, tx] = [taps[oy], taps[ox]];
      for (let ky = 0; ky < ty.index.length; ky++) {
        row.fill(0);
        for (let kx = 0; kx < tx.index.length; kx++) {
          const wx = tx.weight[kx];
          const base = (1 + ty.index[ky] * G + tx.index[kx]) * D;
          for (let d = 0; d < D; d++) row[d] += wx * pos.data[base + d];
        }
        const wy = ty.weight[ky];
        for (let d = 0; d < D; d++) acc[d] += wy * row[d];
      }
      out.set(acc, (1 + oy * grid + ox) * D);
    }
  }
  return { shape: [1 + grid * grid, D], data: out };
}
