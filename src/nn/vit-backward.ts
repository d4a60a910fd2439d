// ViT backward pass, the mirror of vit-forward.ts. `dh` [B, N, D] is the running
// gradient of the residual stream, updated in place from the head down to the embedding.
// Each parameter is used once per pass, so its gradient is written; `accumulate` adds it to what the
// gradient buffer holds instead, the sum over a step's micro-batches after the first.
import type { Gpu } from '../gpu/gpu.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { attentionBackward } from './ops/attention.ts';
import { addInto, geluBackward } from './ops/elementwise.ts';
import { layerScaleBackward } from './ops/layer-scale.ts';
import { layernormBackward } from './ops/layernorm.ts';
import { matmul, matmulBackward } from './ops/matmul.ts';
import { patchEmbedBackward } from './ops/patch-embed.ts';
import { embedTokensBackward, gatherClassTokenBackward } from './ops/tokens.ts';
import type { BlockParams } from './block-params.ts';
import type { BackwardActs, BlockActs, StemActs } from './vit-buffers.ts';
import { rows } from './vit-forward.ts';
import type { VitArch } from './vit-arch.ts';

const T = { transB: true } as const;

/** The classifier's weight and bias gradients from dlogits [B, C]; with `dclsNorm` [B, D], its input's too. */
export function classifierBackward(
  gpu: Gpu,
  at: Record<string, Tensor>,
  g: Record<string, Tensor>,
  s: StemActs,
  dlogits: Tensor,
  accumulate: boolean,
  dclsNorm?: Tensor,
): void {
  matmulBackward(
    gpu,
    s.clsNorm,
    at['head.weight'],
    dlogits,
    { da: dclsNorm, db: g['head.weight'], dbias: g['head.bias'], accumulate },
    T,
  );
}

/** From dlogits [B, C] to dh [B, N, D] (zero except the class token), with the head's and final norm's gradients. */
export function headBackward(
  gpu: Gpu,
  at: Record<string, Tensor>,
  g: Record<string, Tensor>,
  s: StemActs,
  dlogits: Tensor,
  d: BackwardActs,
  accumulate: boolean,
): void {
  classifierBackward(gpu, at, g, s, dlogits, accumulate, d.dclsNorm);
  layernormBackward(
    gpu,
    d.dclsNorm,
    s.cls,
    at['norm.weight'],
    s.headMean,
    s.headRstd,
    d.dcls,
    g['norm.weight'],
    g['norm.bias'],
    accumulate,
  );
  gatherClassTokenBackward(gpu, d.dcls, d.dh);
}

/**
 * The gradient at a residual branch's output y, given d.dh = ∂L/∂(x + γ ⊙ y): d.dh itself, or with LayerScale
 * γ ⊙ d.dh in d.dx, dγ written. y = a·Wᵀ + bias, the branch's last Linear, is recomputed into d.dbranch for dγ
 * rather than kept by the forward: a LayerScale model saves no more activations than a plain one.
 */
function branchGrad(
  gpu: Gpu,
  d: BackwardActs,
  accumulate: boolean,
  a: Tensor,
  w: Tensor,
  bias: Tensor,
  gamma?: Tensor,
  dgamma?: Tensor,
): Tensor {
  if (!gamma || !dgamma) return d.dh;
  matmul(gpu, rows(a), w, rows(d.dbranch), { transB: true, bias });
  layerScaleBackward(gpu, d.dh, gamma, d.dbranch, d.dx, dgamma, accumulate);
  return d.dx;
}

/**
 * Backward of blockForward: on entry d.dh = ∂L/∂out, on exit ∂L/∂x. `kv` is the teacher's
 * projection in a cross-attending block: no gradient flows into it, and the block's own k, v
 * (unused) get zero gradient.
 */
export function blockBackward(
  gpu: Gpu,
  c: VitArch,
  p: BlockParams,
  g: BlockParams,
  x: Tensor,
  acts: BlockActs,
  d: BackwardActs,
  accumulate: boolean,
  kv?: Tensor,
): void {
  const grads = (da: Tensor, db: Tensor, dbias: Tensor) => ({ da: rows(da), db, dbias, accumulate });
  // MLP branch: out = h1 + γ2 ⊙ fc2(gelu(u)), u = fc1(ln2(h1))
  const dy2 = branchGrad(gpu, d, accumulate, acts.g, p.fc2W, p.fc2B, p.ls2, g.ls2);
  matmulBackward(gpu, rows(acts.g), p.fc2W, rows(dy2), grads(d.dg, g.fc2W, g.fc2B), T);
  geluBackward(gpu, acts.u, d.dg, d.du, c.activation);
  matmulBackward(gpu, rows(acts.a2), p.fc1W, rows(d.du), grads(d.dbranch, g.fc1W, g.fc1B), T);
  layernormBackward(gpu, d.dbranch, acts.h1, p.ln2w, acts.mean2, acts.rstd2, d.dx, g.ln2w, g.ln2b, accumulate);
  addInto(gpu, d.dh, d.dx); // dh = ∂L/∂h1
  // Attention branch: h1 = x + γ1 ⊙ proj(attn(qkv, kv)), qkv = Wqkv·ln1(x)
  const dy1 = branchGrad(gpu, d, accumulate, acts.o, p.projW, p.projB, p.ls1, g.ls1);
  matmulBackward(gpu, rows(acts.o), p.projW, rows(dy1), grads(d.dbranch, g.projW, g.projB), T);
  if (kv) {
    gpu.zero(d.dqkv);
    attentionBackward(gpu, acts.qkv, kv, acts.o, acts.lse, d.dbranch, d.dqkv, undefined, c.heads);
  } else {
    attentionBackward(gpu, acts.qkv, acts.qkv, acts.o, acts.lse, d.dbranch, d.dqkv, d.dqkv, c.heads);
  }
  matmulBackward(gpu, rows(acts.a), p.qkvW, rows(d.dqkv), grads(d.dbranch, g.qkvW, g.qkvB), T);
  layernormBackward(gpu, d.dbranch, x, p.ln1w, acts.mean1, acts.rstd1, d.dx, g.ln1w, g.ln1b, accumulate);
  addInto(gpu, d.dh, d.dx); // dh = ∂L/∂x
}

/** From dh = ∂L/∂(the first block's input) to the gradients of the pre-norm, if any, and of the patch
 *  embedding, class token, registers and position embedding. */
export function embedBackward(
  gpu: Gpu,
  c: VitArch,
  at: Record<string, Tensor>,
  g: Record<string, Tensor>,
  s: StemActs,
  d: BackwardActs,
  accumulate: boolean,
): void {
  let dh0 = d.dh; // ∂L/∂h0
  if (s.pre && s.preMean && s.preRstd) {
    const [w, dw, db] = [at['preNorm.weight'], g['preNorm.weight'], g['preNorm.bias']];
    layernormBackward(gpu, d.dh, s.h0, w, s.preMean, s.preRstd, d.dx, dw, db, accumulate);
    dh0 = d.dx;
  }
  const classPosition = c.classPosition ?? true;
  embedTokensBackward(gpu, dh0, d.dtokens, g['cls'], g['pos'], g['registers'], accumulate, classPosition);
  patchEmbedBackward(gpu, s.patches, d.dtokens, g['patch.weight'], g['patch.bias'], accumulate);
}
