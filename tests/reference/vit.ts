// Float64 reference ViT with StochCA's cross-attention, composed from the per-op
// references: the loss of a batch for given student and teacher weights and mask, and the class
// token's attention in each block. CLIP's and DINOv2's features (pre-norm, QuickGELU, no patch bias,
// LayerScale, registers) where the config has them.
import { attentionRef } from './attention.ts';
import { crossEntropyRef } from './cross-entropy.ts';
import { activationRef } from './gelu.ts';
import { layerScaleAddRef } from './layer-scale.ts';
import { layernormRef } from './layernorm.ts';
import { matmulRef } from './matmul.ts';
import { patchEmbedRef } from './patch-embed.ts';
import { embedTokensRef } from './tokens.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';

export type VitRefConfig = VitArch;

/** The smallest ViT with every CLIP and DINOv2 feature (N = 1 + 4 registers + 4 patches): the tests of the
 *  features in the engine, the reference and the exported script share it. */
export const EVERY_FEATURE_PLAIN: VitArch = {
  imageSize: 28,
  patchSize: 14,
  dim: 16,
  depth: 2,
  heads: 2,
  mlpDim: 32,
  numClasses: 3,
  layerNormEps: 1e-6,
};
export const FEATURES = {
  preNorm: true,
  activation: 'quick-gelu',
  patchBias: false,
  layerScale: true,
  registers: 4,
} as const;
export const EVERY_FEATURE: VitArch = { ...EVERY_FEATURE_PLAIN, ...FEATURES };

export type Weights = Record<string, Float64Array>;

/** y [R, out] = x [R, in] · Wᵀ + b, W: [out, in]. */
function linear(
  x: Float64Array,
  w: Float64Array,
  b: Float64Array,
  R: number,
  inDim: number,
  outDim: number,
): Float64Array {
  return matmulRef(x, w, { batch: 1, M: R, N: outDim, K: inDim, transB: true }, b);
}

const addRef = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]);

interface Dims {
  B: number;
  N: number;
  D: number;
  H: number;
  M: number;
}

const dims = (c: VitRefConfig, B: number): Dims => ({
  B,
  N: 1 + (c.registers ?? 0) + (c.imageSize / c.patchSize) ** 2,
  D: c.dim,
  H: c.heads,
  M: c.mlpDim,
});

/** One block; returns its output, its qkv [B, N, 3D] and the class token's attention [B, H, N]. */
function blockRef(w: Weights, i: number, x: Float64Array, d: Dims, c: VitRefConfig, kv?: Float64Array) {
  const p = (n: string) => w[`blocks.${i}.${n}`];
  const eps = c.layerNormEps;
  // x + branch, or x + γ ⊙ branch with LayerScale.
  const residual = (x: Float64Array, y: Float64Array, gamma?: Float64Array) =>
    c.layerScale ? layerScaleAddRef(x, gamma!, y) : addRef(x, y);
  const R = d.B * d.N;
  const a = layernormRef(x, p('ln1.weight'), p('ln1.bias'), d.D, eps).y;
  const qkv = linear(a, p('qkv.weight'), p('qkv.bias'), R, d.D, 3 * d.D);
  const { o, cls } = attentionRef(qkv, kv ?? qkv, { B: d.B, N: d.N, H: d.H, hd: d.D / d.H });
  const h1 = residual(x, linear(o, p('proj.weight'), p('proj.bias'), R, d.D, d.D), p('ls1'));
  const a2 = layernormRef(h1, p('ln2.weight'), p('ln2.bias'), d.D, eps).y;
  const g = linear(a2, p('fc1.weight'), p('fc1.bias'), R, d.D, d.M).map(activationRef(c.activation).f);
  return { out: residual(h1, linear(g, p('fc2.weight'), p('fc2.bias'), R, d.M, d.D), p('ls2')), qkv, cls };
}

/** The first block's input: tokens (class token, registers, patches) and, with a pre-norm, its LayerNorm. */
function embedRef(w: Weights, images: Float64Array, c: VitRefConfig, B: number): Float64Array {
  const P = (c.imageSize / c.patchSize) ** 2;
  const tokens = patchEmbedRef(images, w['patch.weight'], c.patchBias === false ? undefined : w['patch.bias'], {
    B,
    C: 3,
    H: c.imageSize,
    W: c.imageSize,
    D: c.dim,
    patch: c.patchSize,
  });
  const h0 = embedTokensRef(tokens, w['cls'], w['pos'], B, P, c.dim, w['registers']);
  return c.preNorm ? layernormRef(h0, w['preNorm.weight'], w['preNorm.bias'], c.dim, c.layerNormEps).y : h0;
}

/** Logits [B, C] of the student; block i attends to the teacher's K/V where mask[i] (none: self-attention). */
export function vitLogitsRef(
  c: VitRefConfig,
  student: Weights,
  teacher: Weights | undefined,
  images: Float64Array,
  B: number,
  mask: readonly boolean[] = [],
): Float64Array {
  const d = dims(c, B);
  const teacherKv: (Float64Array | undefined)[] = [];
  if (mask.includes(true)) {
    if (!teacher) throw new Error('cross-attention needs a teacher');
    let t = embedRef(teacher, images, c, B);
    for (let i = 0; i <= mask.lastIndexOf(true); i++) {
      const r = blockRef(teacher, i, t, d, c);
      teacherKv[i] = mask[i] ? r.qkv : undefined;
      t = r.out;
    }
  }
  let h = embedRef(student, images, c, B);
  for (let i = 0; i < c.depth; i++) h = blockRef(student, i, h, d, c, teacherKv[i]).out;
  const cls = new Float64Array(B * c.dim);
  for (let b = 0; b < B; b++) cls.set(h.subarray(b * d.N * c.dim, b * d.N * c.dim + c.dim), b * c.dim);
  const normed = layernormRef(cls, student['norm.weight'], student['norm.bias'], c.dim, c.layerNormEps).y;
  return linear(normed, student['head.weight'], student['head.bias'], B, c.dim, c.numClasses);
}

/** Mean cross-entropy of the student on the batch, with StochCA's mask. */
export function vitLossRef(
  c: VitRefConfig,
  student: Weights,
  teacher: Weights,
  images: Float64Array,
  labels: ArrayLike<number>,
  mask: readonly boolean[],
): number {
  const B = labels.length;
  return crossEntropyRef(vitLogitsRef(c, student, teacher, images, B, mask), labels, B, c.numClasses).loss;
}

/** The class token's attention probabilities [B, depth, H, N] in each block (self-attention everywhere, as at evaluation). */
export function vitClassAttentionRef(c: VitRefConfig, w: Weights, images: Float64Array, B: number): Float64Array {
  const d = dims(c, B);
  const map = d.H * d.N;
  const out = new Float64Array(B * c.depth * map);
  let h = embedRef(w, images, c, B);
  for (let i = 0; i < c.depth; i++) {
    const r = blockRef(w, i, h, d, c);
    for (let b = 0; b < B; b++) out.set(r.cls.subarray(b * map, (b + 1) * map), (b * c.depth + i) * map);
    h = r.out;
  }
  return out;
}
