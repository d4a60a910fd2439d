// LayerNorm over the last dim (shaders/layernorm.wgsl) and its backward pass.
import type { Gpu } from '../../gpu/gpu.ts';
import { grid1d } from '../../gpu/grid.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { scratch } from '../../gpu/scratch.ts';
import { check, checkDType, checkShape, describe, numel, type Tensor } from '../../gpu/tensor.ts';
import { colsum } from './colsum.ts';

const ROWS_PER_CHUNK = 64;
const MAX_CHUNKS = 4096; // keeps the partial sums small and the dispatch under 65535 workgroups

export const layernormKernels = {
  /** One workgroup per row. */
  forward: new Kernel({
    shader: 'layernorm',
    entry: 'layernorm_forward',
    workgroupSize: (l) => l.layernormRowThreads,
    uniforms: { R: 'u32', D: 'u32', eps: 'f32' },
  }),
  /** One workgroup per row. */
  backwardInput: new Kernel({
    shader: 'layernorm',
    entry: 'layernorm_backward_input',
    workgroupSize: (l) => l.layernormRowThreads,
    uniforms: { R: 'u32', D: 'u32' },
  }),
  /** One thread per column and chunk of rows; ACCUMULATE adds to dγ and dβ (one chunk). */
  backwardParams: new Kernel({
    shader: 'layernorm',
    entry: 'layernorm_backward_params',
    workgroupSize: 64,
    variants: ['ACCUMULATE'],
    uniforms: { R: 'u32', D: 'u32', rowsPerChunk: 'u32' },
  }),
};

type Named = [name: string, t: Tensor][];

/** Rows and width of x [..., D] (rank ≥ 2), after checking: `same` like x, `perWidth` [D], `perRow` [rows]. */
function rowsAndWidth(op: string, x: Tensor, same: Named, perWidth: Named, perRow: Named): { R: number; D: number } {
  check(x.shape.length >= 2, op, () => `x must have rank ≥ 2 ([..., D]), got ${describe(x)}`);
  const D = x.shape[x.shape.length - 1];
  check(D > 0, op, () => `x must have a non-empty last dim, got ${describe(x)}`);
  const R = numel(x.shape) / D;
  checkDType(x, ['f32'], op, 'x');
  for (const [name, t] of same) checkShape(t, x.shape, op, name);
  for (const [name, t] of perWidth) checkShape(t, [D], op, name);
  for (const [name, t] of perRow) checkShape(t, [R], op, name);
  for (const [name, t] of [...same, ...perWidth, ...perRow]) checkDType(t, ['f32'], op, name);
  return { R, D };
}

/**
 * y = (x − mean)·rstd·γ + β over the last dim, rstd = 1/sqrt(var + eps) (biased variance).
 * x, y: [..., D]; gamma, beta: [D]; mean, rstd: [rows] (rows = product of the leading dims), saved for the backward.
 */
export function layernorm(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  y: Tensor,
  mean: Tensor,
  rstd: Tensor,
  eps: number,
): void {
  const op = `layernorm ${describe(x)}`;
  const { R, D } = rowsAndWidth(
    op,
    x,
    [['y', y]],
    [
      ['gamma', gamma],
      ['beta', beta],
    ],
    [
      ['mean', mean],
      ['rstd', rstd],
    ],
  );
  check(eps >= 0 && Number.isFinite(eps), op, () => `eps must be a finite number ≥ 0, got ${eps}`);
  gpu.dispatch({
    op,
    kernel: layernormKernels.forward,
    uniforms: { R, D, eps },
    tensors: [x, mean, rstd, y, gamma, beta],
    workgroups: grid1d(R, 1),
  });
}

/**
 * Backward of layernorm, given dy. dy, x, dx: [..., D]; gamma, dgamma, dbeta: [D];
 * mean, rstd: [rows] from the forward. dγ = Σ_rows dy·x̂ and dβ = Σ_rows dy are written, or with
 * `accumulate` added to what dgamma and dbeta hold (the parameters' gradients over micro-batches).
 */
export function layernormBackward(
  gpu: Gpu,
  dy: Tensor,
  x: Tensor,
  gamma: Tensor,
  mean: Tensor,
  rstd: Tensor,
  dx: Tensor,
  dgamma: Tensor,
  dbeta: Tensor,
  accumulate = false,
): void {
  const op = `layernormBackward ${describe(x)}`;
  const { R, D } = rowsAndWidth(
    op,
    x,
    [
      ['dy', dy],
      ['dx', dx],
    ],
    [
      ['gamma', gamma],
      ['dgamma', dgamma],
      ['dbeta', dbeta],
    ],
    [
      ['mean', mean],
      ['rstd', rstd],
    ],
  );
  gpu.dispatch({
    op,
    kernel: layernormKernels.backwardInput,
    uniforms: { R, D },
    tensors: [x, mean, rstd, dy, gamma, dx],
    workgroups: grid1d(R, 1),
  });
  const rowsPerChunk = Math.max(ROWS_PER_CHUNK, Math.ceil(R / MAX_CHUNKS));
  const chunks = Math.ceil(R / rowsPerChunk);
  const [pg, pb] =
    chunks === 1
      ? [dgamma, dbeta]
      : [scratch(gpu, 'layernorm-dgamma', [chunks, D]), scratch(gpu, 'layernorm-dbeta', [chunks, D])];
  const params = layernormKernels.backwardParams;
  gpu.dispatch({
    op,
    kernel: params,
    uniforms: { R, D, rowsPerChunk },
    constants: { ACCUMULATE: chunks === 1 && accumulate ? 1 : 0 },
    tensors: [x, mean, rstd, dy, pg, pb],
    workgroups: [Math.ceil(D / params.workgroupSize(gpu.layout)), chunks],
  });
  if (chunks > 1) {
    colsum(gpu, pg, dgamma, accumulate);
    colsum(gpu, pb, dbeta, accumulate);
  }
}
