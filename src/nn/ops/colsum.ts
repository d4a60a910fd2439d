// Column sums Y[c] = Σ_r X[r, c] (shaders/reduce.wgsl), e.g. a bias gradient, written or added to Y.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { scratch } from '../../gpu/scratch.ts';
import { check, checkDType, describe, numel, type Tensor } from '../../gpu/tensor.ts';

const ROWS_PER_CHUNK = 256;

export const colsumKernel = new Kernel({
  shader: 'reduce',
  entry: 'colsum',
  workgroupSize: 64, // columns per workgroup
  variants: ['ACCUMULATE'],
  uniforms: { R: 'u32', N: 'u32', rowsPerChunk: 'u32' },
});

/** x: [..., N] viewed as [R, N]; y: [N], += the sums with `accumulate`. */
export function colsum(gpu: Gpu, x: Tensor, y: Tensor, accumulate = false): void {
  const N = x.shape.at(-1) ?? 1;
  const R = numel(x.shape) / N;
  check(numel(y.shape) === N, 'colsum', () => `output ${describe(y)} must have ${N} elements for input ${describe(x)}`);
  checkDType(x, ['f32'], 'colsum', 'x');
  const op = `colsum ${describe(x)}`;
  const kernel = colsumKernel;
  const groups = Math.ceil(N / kernel.workgroupSize(gpu.layout));
  const chunks = Math.ceil(R / ROWS_PER_CHUNK);
  const uniforms = { R, N, rowsPerChunk: ROWS_PER_CHUNK };
  // Only the pass that writes y adds to it.
  const last = { ACCUMULATE: accumulate ? 1 : 0 };
  if (chunks <= 1) {
    gpu.dispatch({ op, kernel, uniforms, constants: last, tensors: [x, y], workgroups: [groups, 1] });
    return;
  }
  const partial = scratch(gpu, 'colsum', [chunks, N]);
  const constants = { ACCUMULATE: 0 };
  gpu.dispatch({ op, kernel, uniforms, constants, tensors: [x, partial], workgroups: [groups, chunks] });
  const sum = { R: chunks, N, rowsPerChunk: chunks };
  gpu.dispatch({ op, kernel, uniforms: sum, constants: last, tensors: [partial, y], workgroups: [groups, 1] });
}
