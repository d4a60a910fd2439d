// ViT forward pass, layer by layer (torchvision's vit_b_16 layout with CLIP's and DINOv2's optional
// features, docs/method.md). Shapes: B images, N = 1 + R + P tokens (class token, registers, patches),
// D channels, M MLP channels, C classes.
import type { Gpu } from '../gpu/gpu.ts';
import { view, type Tensor } from '../gpu/tensor.ts';
import { attention } from './ops/attention.ts';
import { crossEntropy } from './ops/cross-entropy.ts';
import { add } from './ops/elementwise.ts';
import { layernorm } from './ops/layernorm.ts';
import { layerScaleAdd } from './ops/layer-scale.ts';
import { matmul } from './ops/matmul.ts';
import { patchEmbed } from './ops/patch-embed.ts';
import { embedTokens, gatherClassToken } from './ops/tokens.ts';
import type { BlockParams } from './block-params.ts';
import type { BlockActs, StemActs } from './vit-buffers.ts';
import type { VitArch } from './vit-arch.ts';

/** [B, N, X] as the [B·N, X] matrix a Linear layer multiplies. */
export const rows = (t: Tensor): Tensor => view(t, [t.shape[0] * t.shape[1], t.shape[2]]);

/** A pre-norm's output [B, N, D] and its statistics [B·N]. */
export interface PreNormActs {
  y: Tensor;
  mean: Tensor;
  rstd: Tensor;
}

/** The student's pre-norm activations, when the architecture has a pre-norm. */
export const stemPreNorm = (s: StemActs): PreNormActs | undefined =>
  s.pre && s.preMean && s.preRstd ? { y: s.pre, mean: s.preMean, rstd: s.preRstd } : undefined;

/**
 * x: [B, C=3, S, S] images → h0: [B, N, D] (class token, registers, patch tokens; the position embedding added to
 * the class token and the patches), then with a pre-norm its LayerNorm into pre.y. Returns the first block's input.
 */
export function embedForward(
  gpu: Gpu,
  c: VitArch,
  at: Record<string, Tensor>,
  images: Tensor,
  patches: Tensor,
  tokens: Tensor,
  h0: Tensor,
  pre?: PreNormActs,
): Tensor {
  patchEmbed(gpu, images, at['patch.weight'], at['patch.bias'], patches, tokens, c.patchSize); // tokens: [B, P, D]
  embedTokens(gpu, tokens, at['cls'], at['pos'], h0, at['registers']);
  if (!c.preNorm) return h0;
  if (!pre) throw new Error('a ViT with a pre-norm needs buffers for it');
  layernorm(gpu, h0, at['preNorm.weight'], at['preNorm.bias'], pre.y, pre.mean, pre.rstd, c.layerNormEps);
  return pre.y;
}

/** out = x + branch, or x + γ ⊙ branch with LayerScale. */
function residual(gpu: Gpu, x: Tensor, branch: Tensor, out: Tensor, gamma?: Tensor): void {
  if (gamma) layerScaleAdd(gpu, x, gamma, branch, out);
  else add(gpu, x, branch, out);
}

/**
 * One pre-norm block: h1 = x + proj(attn(ln1(x))); out = h1 + fc2(gelu(fc1(ln2(h1)))), each branch scaled
 * by its LayerScale γ (ls1, ls2) where the architecture has them, gelu the architecture's activation.
 * `kv` is the [B, N, 3D] projection the attention takes K and V from: the block's own qkv
 * (self-attention) when undefined, the frozen teacher's for StochCA's cross-attention.
 * `branch` [B, N, D] is scratch; `acts` receives everything the backward needs. x may be acts.out.
 */
export function blockForward(
  gpu: Gpu,
  c: VitArch,
  p: BlockParams,
  x: Tensor,
  acts: BlockActs,
  branch: Tensor,
  kv?: Tensor,
): void {
  const eps = c.layerNormEps;
  layernorm(gpu, x, p.ln1w, p.ln1b, acts.a, acts.mean1, acts.rstd1, eps);
  matmul(gpu, rows(acts.a), p.qkvW, rows(acts.qkv), { transB: true, bias: p.qkvB }); // qkv: [B, N, 3D]
  attention(gpu, acts.qkv, kv ?? acts.qkv, acts.o, acts.lse, c.heads); // o: [B, N, D]
  matmul(gpu, rows(acts.o), p.projW, rows(branch), { transB: true, bias: p.projB });
  residual(gpu, x, branch, acts.h1, p.ls1);
  layernorm(gpu, acts.h1, p.ln2w, p.ln2b, acts.a2, acts.mean2, acts.rstd2, eps);
  const fc1 = { transB: true, bias: p.fc1B, geluInput: rows(acts.u), activation: c.activation };
  matmul(gpu, rows(acts.a2), p.fc1W, rows(acts.g), fc1); // g = gelu(u): [B, N, M]
  matmul(gpu, rows(acts.g), p.fc2W, rows(branch), { transB: true, bias: p.fc2B });
  residual(gpu, acts.h1, branch, acts.out, p.ls2);
}

/** Final LayerNorm of the class token and the classifier: last [B, N, D] → logits [B, C]. */
export function headForward(gpu: Gpu, c: VitArch, at: Record<string, Tensor>, last: Tensor, s: StemActs): void {
  // LayerNorm is per token, so normalising only the class token equals torchvision's LN-then-take-token-0.
  gatherClassToken(gpu, last, s.cls);
  layernorm(gpu, s.cls, at['norm.weight'], at['norm.bias'], s.clsNorm, s.headMean, s.headRstd, c.layerNormEps);
  matmul(gpu, s.clsNorm, at['head.weight'], s.logits, { transB: true, bias: at['head.bias'] });
}

/** Mean cross-entropy and correct count of the logits; dlogits when training, averaged over
 *  `gradRows` (the whole batch's rows when these are one micro-batch of it). */
export function lossForward(gpu: Gpu, s: StemActs, dlogits?: Tensor, gradRows?: number): void {
  crossEntropy(gpu, s.logits, s.labels, s.loss, s.correct, dlogits, gradRows);
}
