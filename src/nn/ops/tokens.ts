// The class token, register tokens and position embedding (shaders/tokens.wgsl): prepended and added
// before the encoder, the class token taken out after it. N = 1 + R + P tokens: the class token,
// R registers (none in a plain ViT), the P patches.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { check, checkDType, checkRank, checkShape, describe, type Tensor } from '../../gpu/tensor.ts';

const tokensKernel = (entry: string) =>
  new Kernel({ shader: 'tokens', entry, workgroupSize: 256, uniforms: { B: 'u32', N: 'u32', D: 'u32' } });
const embedUniforms = { B: 'u32', N: 'u32', D: 'u32', R: 'u32' } as const;

export const tokensKernels = {
  embed: new Kernel({ shader: 'tokens', entry: 'embed_tokens', workgroupSize: 256, uniforms: embedUniforms }),
  /** ACCUMULATE adds to the parameters' gradients (dcls, dpos, dregisters); dx is written. CLASS_POS
   *  false leaves dpos[0] zero. */
  embedBackward: new Kernel({
    shader: 'tokens',
    entry: 'embed_tokens_backward',
    workgroupSize: 256,
    variants: ['ACCUMULATE', 'CLASS_POS'],
    uniforms: embedUniforms,
  }),
  gatherClassToken: tokensKernel('gather_class_token'),
  gatherClassTokenBackward: tokensKernel('gather_class_token_backward'),
};

/**
 * h[b, 0] = cls + pos[0];  h[b, 1+r] = registers[r];  h[b, 1+R+i] = x[b, i] + pos[1+i].
 *   x:         [B, P, D]       patch tokens (P may be 0)
 *   cls:       [D]             torchvision class_token [1, 1, D] flattened
 *   pos:       [1+P, D]        encoder.pos_embedding [1, 1+P, D] flattened
 *   h:         [B, 1+R+P, D]
 *   registers: [R, D]          DINOv2's register tokens (none: R = 0)
 */
export function embedTokens(gpu: Gpu, x: Tensor, cls: Tensor, pos: Tensor, h: Tensor, registers?: Tensor): void {
  const op = `embedTokens ${describe(x)}`;
  checkRank(x, 3, op, 'x');
  const [B, P, D] = x.shape;
  const R = registers?.shape[0] ?? 0;
  if (registers) checkShape(registers, [R, D], op, 'registers');
  checkShape(cls, [D], op, 'cls');
  checkShape(pos, [P + 1, D], op, 'pos');
  checkShape(h, [B, 1 + R + P, D], op, 'h');
  for (const [name, t] of Object.entries({ x, cls, pos, h, ...(registers && { registers }) }))
    checkDType(t, ['f32'], op, name);
  const kernel = tokensKernels.embed;
  gpu.dispatch({
    op,
    kernel,
    uniforms: { B, N: 1 + R + P, D, R },
    // A buffer binding cannot be empty: with no patches (registers) gpu.dummy stands in for x (registers).
    tensors: [P > 0 ? x : gpu.dummy(0), cls, pos, h, R > 0 ? registers! : gpu.dummy(1)],
    workgroups: kernel.flatGrid(gpu.layout, B * (1 + R + P) * D),
  });
}

/**
 * Gradients of embedTokens: dx = dh[:, 1+R:], dcls = Σ_b dh[b, 0], dregisters = Σ_b dh[:, 1:1+R],
 * dpos = Σ_b dh[b] over the class token and the patches. With `accumulate` the parameters' gradients
 * (dcls, dpos, dregisters) are added to what they hold, as over micro-batches; dx is written. Without
 * `classPosition` (VitArch.classPosition false) dpos[0] is zero: pos[0] stays as it is.
 *   dh:         [B, 1+R+P, D]
 *   dx:         [B, P, D]
 *   dcls:       [D]
 *   dpos:       [1+P, D]
 *   dregisters: [R, D]     (none: R = 0)
 */
export function embedTokensBackward(
  gpu: Gpu,
  dh: Tensor,
  dx: Tensor,
  dcls: Tensor,
  dpos: Tensor,
  dregisters?: Tensor,
  accumulate = false,
  classPosition = true,
): void {
  const op = `embedTokensBackward ${describe(dh)}`;
  checkRank(dh, 3, op, 'dh');
  const [B, N, D] = dh.shape;
  const R = dregisters?.shape[0] ?? 0;
  const P = N - 1 - R;
  check(P >= 0, op, () => `dh has ${N} tokens, fewer than the class token and ${R} registers`);
  if (dregisters) checkShape(dregisters, [R, D], op, 'dregisters');
  checkShape(dx, [B, P, D], op, 'dx');
  checkShape(dcls, [D], op, 'dcls');
  checkShape(dpos, [1 + P, D], op, 'dpos');
  for (const [name, t] of Object.entries({ dh, dx, dcls, dpos, ...(dregisters && { dregisters }) }))
    checkDType(t, ['f32'], op, name);
  const kernel = tokensKernels.embedBackward;
  gpu.dispatch({
    op,
    kernel,
    uniforms: { B, N, D, R },
    constants: { ACCUMULATE: accumulate ? 1 : 0, CLASS_POS: classPosition ? 1 : 0 },
    tensors: [dh, P > 0 ? dx : gpu.dummy(0), dcls, dpos, R > 0 ? dregisters! : gpu.dummy(1)],
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
