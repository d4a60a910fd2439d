// Multi-head attention softmax(Q·Kᵀ/√hd)·V (shaders/attention.wgsl) and its backward.
// Q comes from `q` and K, V from `kv`, both fused projections [B, N, 3D] (q | k | v thirds,
// head h at channels h·hd.. of each third): self-attention passes the same tensor twice,
// StochCA's cross-attention passes the frozen teacher's projection as `kv`.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { scratch } from '../../gpu/scratch.ts';
import { check, checkDType, checkRank, checkShape, describe, type Tensor } from '../../gpu/tensor.ts';

/** Largest head size: the kernels keep a few head-sized rows per invocation in private memory. */
const MAX_HEAD_SIZE = 128;

interface AttentionDims {
  B: number;
  N: number;
  H: number;
  hd: number;
}

/** Rows of a staged K/V (or Q/dO) tile: two tiles fill 16 KiB, WebGPU's guaranteed workgroup memory. */
function tileRows(hd: number): number {
  return Math.min(64, Math.floor(2048 / hd));
}

const attentionKernel = (entry: string) =>
  new Kernel({
    shader: 'attention',
    entry,
    workgroupSize: (l) => l.attentionRows, // rows per workgroup
    variants: ['HD', 'TK'], // head size, rows per staged tile
    uniforms: { N: 'u32', H: 'u32', scale: 'f32' },
  });

export const attentionKernels = {
  forward: attentionKernel('attention_forward'),
  backwardQ: attentionKernel('attention_backward_dq'),
  backwardKV: attentionKernel('attention_backward_dkv'),
  classToken: attentionKernel('attention_class_token'),
};

/** The variant and uniforms every attention kernel takes. */
function setup(d: AttentionDims) {
  return { constants: { HD: d.hd, TK: tileRows(d.hd) }, uniforms: { N: d.N, H: d.H, scale: 1 / Math.sqrt(d.hd) } };
}

/** Checks the two projections and the head count and returns their sizes. */
function projectionDims(q: Tensor, kv: Tensor, heads: number, op: string): AttentionDims {
  checkRank(q, 3, op, 'q');
  checkDType(q, ['f32'], op, 'q');
  checkShape(kv, q.shape, op, 'kv');
  checkDType(kv, ['f32'], op, 'kv');
  const [B, N, C] = q.shape;
  check(Number.isInteger(heads) && heads >= 1, op, () => `heads must be a positive integer, got ${heads}`);
  check(C % (3 * heads) === 0, op, () => `q's ${C} channels are not 3 × ${heads} heads × a head size`);
  const hd = C / (3 * heads);
  check(
    hd % 4 === 0 && hd <= MAX_HEAD_SIZE,
    op,
    () => `head size ${hd} (${C} channels / 3 / ${heads} heads) must be a multiple of 4 and at most ${MAX_HEAD_SIZE}`,
  );
  return { B, N, H: heads, hd };
}

/** A per-row statistic or probability [B, heads, N] (lse, the class token's probabilities). */
function checkRows(t: Tensor, d: AttentionDims, op: string, name: string): void {
  checkShape(t, [d.B, d.H, d.N], op, name);
  checkDType(t, ['f32'], op, name);
}

/** Checks the inputs shared by the forward and backward and returns their sizes. */
function attentionDims(q: Tensor, kv: Tensor, out: Tensor, lse: Tensor, heads: number, op: string): AttentionDims {
  const d = projectionDims(q, kv, heads, op);
  checkShape(out, [d.B, d.N, d.H * d.hd], op, 'out');
  checkDType(out, ['f32'], op, 'out');
  checkRows(lse, d, op, 'lse');
  return d;
}

/** A tensor the dispatch writes must not share a buffer with one it reads (WebGPU forbids it). */
function checkWritable(w: Tensor, reads: readonly Tensor[], op: string, name: string): void {
  for (const r of reads) {
    check(w.buffer !== r.buffer, op, () => `${name} ${describe(w)} shares a buffer with input ${describe(r)}`);
  }
}

function workgroups(gpu: Gpu, d: AttentionDims): [number, number, number] {
  return [Math.ceil(d.N / attentionKernels.forward.workgroupSize(gpu.layout)), d.H, d.B];
}

/**
 * out = softmax(Q·Kᵀ/√hd)·V with heads merged, and lse = log Σ_j exp(q_i·k_j/√hd) per query
 * row for the backward. q, kv: [B, N, 3D]; out: [B, N, D]; lse: [B, heads, N]; D = heads·hd.
 */
export function attention(gpu: Gpu, q: Tensor, kv: Tensor, out: Tensor, lse: Tensor, heads: number): void {
  const op = `attention ${describe(q)}·${describe(kv)} heads=${heads}`;
  const d = attentionDims(q, kv, out, lse, heads, op);
  checkWritable(out, [q, kv], op, 'out');
  checkWritable(lse, [q, kv], op, 'lse');
  gpu.dispatch({
    op,
    kernel: attentionKernels.forward,
    ...setup(d),
    tensors: [q, kv, out, lse],
    workgroups: workgroups(gpu, d),
  });
}

/**
 * Backward of `attention`, given dout = ∂L/∂out [B, N, D] and the forward's out and lse.
 * Writes (does not add) dQ into the q channels of dq [B, N, 3D] and, when dkv is given,
 * dK and dV into the k and v channels of dkv [B, N, 3D]; all other channels are left as
 * they are (a caller that feeds the whole tensor onwards zeroes them first). dq and dkv may
 * be the same tensor: the student's self-attention gradient. Leave dkv out when K and V are
 * the frozen teacher's.
 */
export function attentionBackward(
  gpu: Gpu,
  q: Tensor,
  kv: Tensor,
  out: Tensor,
  lse: Tensor,
  dout: Tensor,
  dq: Tensor,
  dkv: Tensor | undefined,
  heads: number,
): void {
  const what = `${describe(q)}·${describe(kv)} heads=${heads}`;
  const op = `attentionBackward ${what}`;
  const d = attentionDims(q, kv, out, lse, heads, op);
  checkShape(dout, out.shape, op, 'dout');
  checkDType(dout, ['f32'], op, 'dout');
  checkShape(dq, q.shape, op, 'dq');
  checkDType(dq, ['f32'], op, 'dq');
  checkWritable(dq, [q, kv, out, lse, dout], op, 'dq');
  if (dkv) {
    checkShape(dkv, q.shape, op, 'dkv');
    checkDType(dkv, ['f32'], op, 'dkv');
    checkWritable(dkv, [q, kv, lse, dout], op, 'dkv');
  }
  // δ_i = dO_i·O_i per query row [B, heads, N], written by the dQ kernel for the dK/dV kernel.
  const delta = scratch(gpu, 'attention-delta', [d.B, d.H, d.N]);
  gpu.dispatch({
    op: `attentionBackwardQ ${what}`,
    kernel: attentionKernels.backwardQ,
    ...setup(d),
    tensors: [q, kv, dout, lse, dq, delta, out],
    workgroups: workgroups(gpu, d),
  });
  if (!dkv) return;
  gpu.dispatch({
    op: `attentionBackwardKV ${what}`,
    kernel: attentionKernels.backwardKV,
    ...setup(d),
    tensors: [q, kv, dout, lse, dkv, delta],
    workgroups: workgroups(gpu, d),
  });
}

/**
 * The class token's attention probabilities softmax_j(q_0·k_j/√hd) over all N keys, per batch
 * element and head: probs [B, heads, N], from the q, kv [B, N, 3D] and the lse [B, heads, N] that
 * `attention` was given and wrote (row 0 of lse is the class token's normaliser).
 */
export function classTokenAttention(gpu: Gpu, q: Tensor, kv: Tensor, lse: Tensor, probs: Tensor, heads: number): void {
  const op = `classTokenAttention ${describe(q)}·${describe(kv)} heads=${heads}`;
  const d = projectionDims(q, kv, heads, op);
  checkRows(lse, d, op, 'lse');
  checkRows(probs, d, op, 'probs');
  checkWritable(probs, [q, kv, lse], op, 'probs');
  gpu.dispatch({
    op,
    kernel: attentionKernels.classToken,
    ...setup(d),
    tensors: [q, kv, probs, lse],
    workgroups: workgroups(gpu, d), // (ceil(N/WG), H, B): one invocation per key
  });
}
