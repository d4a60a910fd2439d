// Column sums Y[c] = Σ_r X[r, c] (shaders/reduce.wgsl), e.g. a bias gradient.
import type { Gpu } from '../../gpu/gpu.ts';
import { scratch } from '../../gpu/scratch.ts';
import { check, checkDType, describe, numel, type Tensor } from '../../gpu/tensor.ts';

const ROWS_PER_CHUNK = 256;

/** x: [..., N] viewed as [R, N]; y: [N]. */
export function colsum(gpu: Gpu, x: Tensor, y: Tensor): void {
  const N = x.shape.at(-1) ?? 1;
  const R = numel(x.shape) / N;
  check(numel(y.shape) === N, 'colsum', () => `output ${describe(y)} must have ${N} elements for input ${describe(x)}`);
  checkDType(x, ['f32'], 'colsum', 'x');
  const op = `colsum ${describe(x)}`;
  const kernel = { shader: 'reduce', entry: 'colsum' };
  const chunks = Math.ceil(R / ROWS_PER_CHUNK);
  if (chunks <= 1) {
    gpu.dispatch({ op, kernel, params: [R, N, ROWS_PER_CHUNK], tensors: [x, y], workgroups: [Math.ceil(N / 64), 1] });
    return;
  }
  const partial = scratch(gpu, 'colsum', [chunks, N]);
  gpu.dispatch({
    op,
    kernel,
    params: [R, N, ROWS_PER_CHUNK],
    tensors: [x, partial],
    workgroups: [Math.ceil(N / 64), chunks],
  });
  gpu.dispatch({ op, kernel, params: [chunks, N, chunks], tensors: [partial, y], workgroups: [Math.ceil(N / 64), 1] });
}
