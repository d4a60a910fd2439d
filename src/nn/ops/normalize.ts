// Input normalisation (shaders/normalize.wgsl): uint8 RGBA pixels to normalised float images.
import type { Gpu } from '../../gpu/gpu.ts';
import { grid1d } from '../../gpu/grid.ts';
import { f32 } from '../../gpu/params.ts';
import { check, checkDType, checkRank, checkShape, describe, type Tensor } from '../../gpu/tensor.ts';

export type Rgb = readonly [number, number, number];

/** The per-channel statistics torchvision's ImageNet weights were trained with. */
export const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];

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
    kernel: { shader: 'normalize', entry: 'normalize_images' },
    params: [count, H * W, ...mean.map(f32), ...std.map(f32)],
    tensors: [pixels, out],
    workgroups: grid1d(count, 256),
  });
}
