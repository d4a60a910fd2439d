// Float64 reference: Conv2d(C, D, kernel = stride = p) with or without bias, computed directly,
// tokens out[b, i, d] with patch i = gy·(W/p) + gx in row-major order of the patch grid.

export interface PatchEmbedDims {
  B: number;
  C: number;
  H: number;
  W: number;
  D: number;
  patch: number;
}

/** x: [B, C, H, W]; weight: [D, C, p, p]; bias: [D] or none; returns [B, P, D]. */
export function patchEmbedRef(
  x: Float64Array,
  weight: Float64Array,
  bias: Float64Array | undefined,
  s: PatchEmbedDims,
): Float64Array {
  const { B, C, H, W, D, patch: p } = s;
  const gh = H / p;
  const gw = W / p;
  const out = new Float64Array(B * gh * gw * D);
  for (let b = 0; b < B; b++) {
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        const token = (b * gh + gy) * gw + gx;
        for (let d = 0; d < D; d++) {
          let sum = bias ? bias[d] : 0;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < p; ky++) {
              for (let kx = 0; kx < p; kx++) {
                const xv = x[((b * C + c) * H + gy * p + ky) * W + gx * p + kx];
                sum += weight[((d * C + c) * p + ky) * p + kx] * xv;
              }
            }
          }
          out[token * D + d] = sum;
        }
      }
    }
  }
  return out;
}

/** The parameters' gradients of patchEmbedRef given dout [B, P, D]: dweight [D, C, p, p] = Σ dout·x over
 *  each patch, dbias [D] = Σ dout. */
export function patchEmbedParamGradsRef(
  x: Float64Array,
  dout: Float64Array,
  s: PatchEmbedDims,
): { dweight: Float64Array; dbias: Float64Array } {
  const { B, C, H, W, D, patch: p } = s;
  const [gh, gw] = [H / p, W / p];
  const [dweight, dbias] = [new Float64Array(D * C * p * p), new Float64Array(D)];
  for (let b = 0; b < B; b++) {
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        for (let d = 0; d < D; d++) {
          const g = dout[((b * gh + gy) * gw + gx) * D + d];
          dbias[d] += g;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < p; ky++) {
              for (let kx = 0; kx < p; kx++) {
                dweight[((d * C + c) * p + ky) * p + kx] += g * x[((b * C + c) * H + gy * p + ky) * W + gx * p + kx];
              }
            }
          }
        }
      }
    }
  }
  return { dweight, dbias };
}
