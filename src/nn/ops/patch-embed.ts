// Patch embedding (shaders/patch-embed.wgsl): Conv2d(C, D, kernel = stride = p), with a bias or
// without (CLIP), as im2col followed by a matmul with the flattened conv weight.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { check, checkDType, checkRank, checkShape, describe, view, type Tensor } from '../../gpu/tensor.ts';
import { matmul, matmulBackward } from './matmul.ts';

/** One thread per element of the patches (side: the patch side p; gridW: patches per grid row). */
export const im2colKernel = new Kernel({
  shader: 'patch-embed',
  entry: 'im2col',
  workgroupSize: 256,
  uniforms: { count: 'u32', C: 'u32', H: 'u32', W: 'u32', side: 'u32', gridW: 'u32' },
});

/**
 * tokens = conv(x, weight, stride = patch) (+ bias), one token per patch in row-major (h, w) order.
 *   x:       [B, C, H, W]      images (H, W multiples of patch)
 *   weight:  [D, C, p, p]      torchvision conv_proj.weight
 *   bias:    [D]               undefined: none
 *   patches: [B·P, C·p·p]      receives the im2col rows, kept for the backward pass (P = H/p · W/p)
 *   out:     [B, P, D]
 */
export function patchEmbed(
  gpu: Gpu,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  patches: Tensor,
  out: Tensor,
  patch: number,
): void {
  const op = `patchEmbed ${describe(x)} ${describe(weight)} p=${patch}`;
  checkRank(x, 4, op, 'x');
  checkRank(weight, 4, op, 'weight');
  for (const [name, t] of Object.entries({ x, weight, patches, out, ...(bias && { bias }) }))
    checkDType(t, ['f32'], op, name);
  const [B, C, H, W] = x.shape;
  const D = weight.shape[0];
  check(
    Number.isInteger(patch) && patch > 0 && H % patch === 0 && W % patch === 0,
    op,
    () => `image size ${H}x${W} must be a multiple of the patch size ${patch}`,
  );
  checkShape(weight, [D, C, patch, patch], op, 'weight');
  if (bias) checkShape(bias, [D], op, 'bias');
  const P = (H / patch) * (W / patch);
  const cols = C * patch * patch;
  checkShape(patches, [B * P, cols], op, 'patches');
  checkShape(out, [B, P, D], op, 'out');
  const count = B * P * cols;
  gpu.dispatch({
    op,
    kernel: im2colKernel,
    uniforms: { count, C, H, W, side: patch, gridW: W / patch },
    tensors: [x, patches],
    workgroups: im2colKernel.flatGrid(gpu.layout, count),
  });
  matmul(gpu, patches, view(weight, [D, cols]), view(out, [B * P, D]), { transB: true, bias });
}

/**
 * Weight and bias gradients of patchEmbed from the saved patches (the images need none), written or with
 * `accumulate` added to what dweight and dbias hold (the parameters' gradients over micro-batches).
 *   patches: [B·P, C·p·p]   as written by patchEmbed
 *   dout:    [B, P, D]
 *   dweight: [D, C, p, p]
 *   dbias:   [D]            undefined: a patch embedding without bias
 */
export function patchEmbedBackward(
  gpu: Gpu,
  patches: Tensor,
  dout: Tensor,
  dweight: Tensor,
  dbias: Tensor | undefined,
  accumulate = false,
): void {
  const op = `patchEmbedBackward ${describe(patches)} ${describe(dout)}`;
  checkRank(patches, 2, op, 'patches');
  checkRank(dout, 3, op, 'dout');
  checkRank(dweight, 4, op, 'dweight');
  const [B, P, D] = dout.shape;
  const [C, patch] = dweight.shape.slice(1);
  checkShape(dweight, [D, C, patch, patch], op, 'dweight');
  checkShape(patches, [B * P, C * patch * patch], op, 'patches');
  if (dbias) checkShape(dbias, [D], op, 'dbias');
  for (const [name, t] of Object.entries({ patches, dout, dweight, ...(dbias && { dbias }) }))
    checkDType(t, ['f32'], op, name);
  const w2 = view(dweight, [D, C * patch * patch]);
  // matmulBackward reads B (the weight) only for the input gradient, which is not asked
  // for here, so the gradient's own view stands in for its shape.
  matmulBackward(gpu, patches, w2, view(dout, [B * P, D]), { db: w2, dbias, accumulate }, { transB: true });
}
