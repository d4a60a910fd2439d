// The class token and position embedding (shaders/tokens.wgsl): prepended and added
// before the encoder, the class token taken out after it. N = P + 1 tokens, token 0 the class token.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { checkDType, checkRank, checkShape, describe, type Tensor } from '../../gpu/tensor.ts';

const tokensKernel = (entry: string) =>
  new Kernel({ shader: 'tokens', entry, workgroupSize: 256, uniforms: { B: 'u32', N: 'u32', D: 'u32' } });

export const tokensKernels = {
  embed: tokensKernel('embed_tokens'),
  embedBackward: tokensKernel('embed_tokens_backward'),
  gatherClassToken: tokensKernel('gather_class_token'),
  gatherClassTokenBackward: tokensKernel('gather_class_token_backward'),
};

/**
 * h[b, 0] = cls + pos[0];  h[b, 1+i] = x[b, i] + pos[1+i].
 *   x:   [B, P, D]     patch tokens (P may be 0)
 *   cls: [D]           torchvision class_token [1, 1, D] flattened
 *   pos: [P+1, D]      encoder.pos_embedding [1, P+1, D] flattened
 *   h:   [B, P+1, D]
 */
export function embedTokens(gpu: Gpu, x: Tensor, cls: Tensor, pos: Tensor, h: Tensor): void {
  const op = `embedTokens ${describe(x)}`;
  checkRank(x, 3, op, 'x');
  const [B, P, D] = x.shape;
  checkShape(cls, [D], op, 'cls');
  checkShape(pos, [P + 1, D], op, 'pos');
  checkShape(h, [B, P + 1, D], op, 'h');
  for (const [name, t] of Object.entries({ x, cls, pos, h })) checkDType(t, ['f32'], op, name);
  const kernel = tokensKernels.embed;
  gpu.dispatch({
    op,
    kernel,
    uniforms: { B, N: P + 1, D },
    // A buffer binding cannot be empty: with no patches gpu.dummy stands in for x.
    tensors: [P > 0 ? x : gpu.dummy(0), cls, pos, h],
    workgroups: kernel.flatGrid(gpu.layout, B * (P + 1) * D),
  });
}

/**
 * Gradients of embedTokens: dx = dh[:, 1:], dcls = Σ_b dh[b, 0], dpos = Σ_b dh[b].
 *   dh:   [B, P+1, D]
 *   dx:   [B, P, D]
 *   dcls: [D]
 *   dpos: [P+1, D]
 */
export function embedTokensBackward(gpu: Gpu, dh: Tensor, dx: Tensor, dcls: Tensor, dpos: Tensor): void {
  const op = `embedTokensBackward ${describe(dh)}`;
  checkRank(dh, 3, op, 'dh');
  const [B, N, D] = dh.shape;
  checkShape(dx, [B, N - 1, D], op, 'dx');
  checkShape(dcls, [D], op, 'dcls');
  checkShape(dpos, [N, D], op, 'dpos');
  for (const [name, t] of Object.entries({ dh, dx, dcls, dpos })) checkDType(t, ['f32'], op, name);
  const kernel = tokensKernels.embedBackward;
  gpu.dispatch({
    op,
    kernel,
    uniforms: { B, N, D },
    tensors: [dh, N > 1 ? dx : gpu.dummy(0), dcls, dpos],
    workgroups: kernel.flatGrid(gpu.layout, N * D),
  });
}

/**
 * y[b] = h[b, 0], the class token of every image.
 *   h: [B, N, D]
 *   y: [B, D]
 */
export function gatherClassToken(gpu: Gpu, h: Tensor, y: Tensor): void {
  const op = `gatherClassToken ${describe(h)}`;
  checkRank(h, 3, op, 'h');
  const [B, N, D] = h.shape;
  checkShape(y, [B, D], op, 'y');
  for (const [name, t] of Object.entries({ h, y })) checkDType(t, ['f32'], op, name);
  const kernel = tokensKernels.gatherClassToken;
  gpu.dispatch({
    op,
    kernel,
    uniforms: { B, N, D },
    tensors: [h, y],
    workgroups: kernel.flatGrid(gpu.layout, B * D),
  });
}

/**
 * Gradient of gatherClassToken: dh[b, 0] = dy[b], zero for every other token.
 *   dy: [B, D]
 *   dh: [B, N, D]
 */
export function gatherClassTokenBackward(gpu: Gpu, dy: Tensor, dh: Tensor): void {
  const op = `gatherClassTokenBackward ${describe(dh)}`;
  checkRank(dh, 3, op, 'dh');
  const [B, N, D] = dh.shape;
  checkShape(dy, [B, D], op, 'dy');
  for (const [name, t] of Object.entries({ dy, dh })) checkDType(t, ['f32'], op, name);
  const kernel = tokensKernels.gatherClassTokenBackward;
  gpu.dispatch({
    op,
    kernel,
    uniforms: { B, N, D },
    tensors: [dy, dh],
    workgroups: kernel.flatGrid(gpu.layout, B * N * D),
  });
}
