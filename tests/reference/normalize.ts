// Float64 reference: RGBA8 pixels (R in the low byte of each u32) to normalised
// float images [B, 3, H, W].

export type Rgb = readonly [number, number, number];

/** pixels: [B, H, W] u32 words; returns [B, 3, H, W]. */
export function normalizeRef(
  pixels: ArrayLike<number>,
  B: number,
  H: number,
  W: number,
  mean: Rgb,
  std: Rgb,
): Float64Array {
  const HW = H * W;
  const out = new Float64Array(B * 3 * HW);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < HW; i++) {
      const word = pixels[b * HW + i];
      for (let c = 0; c < 3; c++) {
        const v = (word >>> (8 * c)) & 255;
        out[(b * 3 + c) * HW + i] = (v / 255 - mean[c]) / std[c];
      }
    }
  }
  return out;
}
