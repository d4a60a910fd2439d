// AdamW over flat parameter buffers with optional global-norm gradient clipping
// (shaders/adamw.wgsl). Clipping reads the norm on the GPU: no host round trip.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { scratch } from '../../gpu/scratch.ts';
import { check, checkDType, checkRank, checkShape, describe, numel, type Tensor } from '../../gpu/tensor.ts';

/** Most workgroups of the first norm pass: enough to fill a GPU, few enough for one final workgroup. */
const NORM_GROUPS = 1024;

export const sumSquaresKernel = new Kernel({
  shader: 'adamw',
  entry: 'sum_squares',
  workgroupSize: (l) => l.reduceWorkgroup,
  variants: ['FINAL'],
  uniforms: { n: 'u32' },
});

export const adamwKernel = new Kernel({
  shader: 'adamw',
  entry: 'adamw',
  workgroupSize: (l) => l.reduceWorkgroup,
  variants: ['CLIP'],
  uniforms: {
    offset: 'u32',
    count: 'u32',
    lrWd: 'f32',
    beta1: 'f32',
    oneMinusBeta1: 'f32',
    beta2: 'f32',
    oneMinusBeta2: 'f32',
    stepSize: 'f32',
    bc2Sqrt: 'f32',
    eps: 'f32',
    maxNorm: 'f32',
  },
});

/** grads: [n] f32; norm: [1] f32 ← ‖grads‖₂ (float32 sums of squares in two passes). */
export function gradNorm(gpu: Gpu, grads: Tensor, norm: Tensor): void {
  const op = `gradNorm ${describe(grads)}`;
  checkRank(grads, 1, op, 'grads');
  checkDType(grads, ['f32'], op, 'grads');
  check(numel(norm.shape) === 1, op, () => `norm must have 1 element, got ${describe(norm)}`);
  checkDType(norm, ['f32'], op, 'norm');
  const n = grads.shape[0];
  const kernel = sumSquaresKernel;
  const groups = Math.max(1, Math.min(NORM_GROUPS, Math.ceil(n / kernel.workgroupSize(gpu.layout))));
  const partials = scratch(gpu, 'grad-norm', [groups]);
  gpu.dispatch({
    op,
    kernel,
    constants: { FINAL: 0 },
    uniforms: { n },
    tensors: [grads, partials],
    workgroups: [groups],
  });
  gpu.dispatch({
    op,
    kernel,
    constants: { FINAL: 1 },
    uniforms: { n: groups },
    tensors: [partials, norm],
    workgroups: [1],
  });
}

/** The flat buffers of the parameters being trained, all [n] f32. */
export interface AdamwBuffers {
  params: Tensor;
  /** Read only, also when clipped. */
  grads: Tensor;
  /** First moment, zero before step 1. */
  m: Tensor;
  /** Second moment, zero before step 1. */
  v: Tensor;
}

export interface AdamwOptions {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 on the first update. */
  step: number;
  /** Clip to this global norm: g · min(1, maxNorm / (norm + 1e-6)). Needs `norm`. */
  maxNorm?: number;
  /** [1] f32, the gradient norm from gradNorm (over all parameters, not only this range). */
  norm?: Tensor;
  /** First element of the range to update (a parameter group), default 0. */
  offset?: number;
  /** Elements to update from `offset`, default the rest of the buffers. */
  count?: number;
}

/** One torch.optim.AdamW step over elements [offset, offset + count) of the buffers, all [n] f32. */
export function adamw(gpu: Gpu, b: AdamwBuffers, o: AdamwOptions): void {
  const op = `adamw ${describe(b.params)}`;
  checkRank(b.params, 1, op, 'params');
  const n = b.params.shape[0];
  for (const [name, t] of Object.entries(b)) {
    checkShape(t, [n], op, name);
    checkDType(t, ['f32'], op, name);
  }
  const offset = o.offset ?? 0;
  const count = o.count ?? n - offset;
  check(
    Number.isInteger(offset) && Number.isInteger(count) && offset >= 0 && count >= 0 && offset + count <= n,
    op,
    () => `the range of ${count} elements from ${offset} does not fit in ${n}`,
  );
  check((o.maxNorm === undefined) === (o.norm === undefined), op, () => 'clipping needs both maxNorm and norm');
  if (o.norm) {
    check(numel(o.norm.shape) === 1, op, () => `norm must have 1 element, got ${describe(o.norm!)}`);
    checkDType(o.norm, ['f32'], op, 'norm');
  }
  checkHyperparameters(o, op);
  if (count === 0) return;
  gpu.dispatch({
    op,
    kernel: adamwKernel,
    constants: { CLIP: o.norm ? 1 : 0 },
    uniforms: {
      offset,
      count,
      lrWd: o.lr * o.weightDecay,
      beta1: o.beta1,
      oneMinusBeta1: 1 - o.beta1,
      beta2: o.beta2,
      oneMinusBeta2: 1 - o.beta2,
      stepSize: o.lr / (1 - o.beta1 ** o.step),
      bc2Sqrt: Math.sqrt(1 - o.beta2 ** o.step),
      eps: o.eps,
      maxNorm: o.maxNorm ?? 0,
    },
    tensors: [b.params, b.grads, b.m, b.v, o.norm ?? gpu.dummy(0)],
    workgroups: adamwKernel.flatGrid(gpu.layout, count),
  });
}

/** The ranges torch.optim.AdamW accepts, plus a positive clipping norm. */
function checkHyperparameters(o: AdamwOptions, op: string): void {
  const bad = (what: string) => {
    throw new RangeError(`${op}: ${what}`);
  };
  if (!(o.lr >= 0)) bad(`learning rate ${o.lr} must be >= 0`);
  if (!(o.weightDecay >= 0)) bad(`weight decay ${o.weightDecay} must be >= 0`);
  if (!(o.beta1 >= 0 && o.beta1 < 1)) bad(`beta1 ${o.beta1} must be in [0, 1)`);
  if (!(o.beta2 >= 0 && o.beta2 < 1)) bad(`beta2 ${o.beta2} must be in [0, 1)`);
  if (!(o.eps >= 0)) bad(`eps ${o.eps} must be >= 0`);
  if (!(Number.isInteger(o.step) && o.step >= 1)) bad(`step ${o.step} must be an integer >= 1`);
  if (o.maxNorm !== undefined && !(o.maxNorm > 0)) bad(`maxNorm ${o.maxNorm} must be > 0`);
}
