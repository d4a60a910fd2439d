// A heat map over an image: each patch's value (scaled to the largest) in a dark-to-bright colour
// ramp, laid over the image's grey levels, pixel for pixel at the model's input size.

/** Colour stops of the ramp, from 0 to 1 (black, purple, red, orange, pale yellow). */
const RAMP = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

/** The ramp's colour of v in [0, 1]. */
export function rampColour(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const t = x - i;
  return [0, 1, 2].map((c) => Math.round(RAMP[i][c] + t * (RAMP[i + 1][c] - RAMP[i][c]))) as [number, number, number];
}

/**
 * rgba: the image [S, S, 4]; values: [grid, grid] row by row, one per patch (S / grid pixels a side).
 * Returns [S, S, 4]: 40 % the image's grey level, 60 % the patch's ramp colour.
 */
export function heatPixels(rgba: Uint8Array, S: number, values: Float32Array, grid: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(S * S * 4);
  const max = values.reduce((m, v) => Math.max(m, v), 0) || 1;
  const colours = Array.from(values, (v) => rampColour(v / max));
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const i = (y * S + x) * 4;
      const grey = 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
      const c = colours[Math.floor((y * grid) / S) * grid + Math.floor((x * grid) / S)];
      for (let k = 0; k < 3; k++) out[i + k] = 0.4 * grey + 0.6 * c[k];
      out[i + 3] = 255;
    }
  }
  return out;
}
