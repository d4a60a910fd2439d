// Input normalisation (shaders/normalize.wgsl): uint8 RGBA pixels to normalised float images.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { check, checkDType, checkRank, checkShape, describe, type Tensor } from '../../gpu/tensor.ts';

export type Rgb = readonly [number, number, number];

/** The per-channel statistics torchvision's ImageNet weights were trained with. */
export const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];

export const normalizeKernel = new Kernel({
  shader: 'normalize',
  entry: 'normalize_images',
  workgroupSize: 256,
  uniforms: {
    count: 'u32',
    HW: 'u32',
    mean_r: 'f32',
    mean_g: 'f32',
    mean_b: 'f32',
    std_r: 'f32',
    std_g: 'f32',
    std_b: 'f32',
  },
});

/**
 * out[b, c, y, x] = (byte c of pixels[b, y, x] / 255 - mean[c]) / std[c], alpha dropped.
 *   pixels: [B, H, W] u32   one RGBA8 pixel per word, R in the low byte (ImageData bytes as a Uint32Array)
 *   out:    [B, 3, H, W] f32
 */
export function normalizeImages(
  gpu: Gpu,
  pixels: Tensor,
  out: Tensor,
  mean: Rgb = IMAGENET_MEAN,
  std: Rgb = IMAGENET_STD,
): void {
  const op = `normalizeImages ${describe(pixels)}`;
  checkRank(pixels, 3, op, 'pixels');
  checkDType(pixels, ['u32'], op, 'pixels');
  checkDType(out, ['f32'], op, 'out');
  const [B, H, W] = pixels.shape;
  checkShape(out, [B, 3, H, W], op, 'out');
  check(mean.length === 3 && std.length === 3, op, () => `mean and std need 3 values, got [${mean}] and [${std}]`);
  check(
    std.every((s) => s !== 0),
    op,
    () => `std must not be zero, got [${std}]`,
  );
  const count = B * H * W;
  gpu.dispatch({
    op,
    kernel: normalizeKernel,
    uniforms: {
      count,
      HW: H * W,
      mean_r: mean[0],
      mean_g: mean[1],
      mean_b: mean[2],
      std_r: std[0],
      std_g: std[1],
      std_b: std[2],
    },
    tensors: [pixels, out],
    workgroups: normalizeKernel.flatGrid(gpu.layout, count),
  });
}
