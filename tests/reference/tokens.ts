// Float64 reference: class token, register tokens and position embedding in front of the encoder,
// the class token taken out after it.

/**
 * x: [B, P, D]; cls: [D]; pos: [P+1, D]; registers: [R, D] (empty: none); returns h [B, 1+R+P, D]:
 * the class token and the patches with their position embedding, then the registers inserted between them
 * (DINOv2's order: the registers get none).
 */
export function embedTokensRef(
  x: Float64Array,
  cls: Float64Array,
  pos: Float64Array,
  B: number,
  P: number,
  D: number,
  registers: Float64Array = new Float64Array(0),
): Float64Array {
  const R = registers.length / D;
  const N = 1 + R + P;
  const h = new Float64Array(B * N * D);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n <= P; n++) {
      const at = n === 0 ? 0 : R + n; // the token's place once the registers are in
      for (let d = 0; d < D; d++) {
        const token = n === 0 ? cls[d] : x[(b * P + n - 1) * D + d];
        h[(b * N + at) * D + d] = token + pos[n * D + d];
      }
    }
    h.set(registers, (b * N + 1) * D);
  }
  return h;
}

/** h: [B, N, D]; returns y [B, D] = h[:, 0]. */
export function gatherClassTokenRef(h: Float64Array, B: number, N: number, D: number): Float64Array {
  const y = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < D; d++) y[b * D + d] = h[b * N * D + d];
  }
  return y;
}

/**
 * The parameters' gradients of embedTokensRef given dh [B, 1+R+P, D]: dcls [D] = Σ_b dh[b, 0];
 * dpos [1+P, D] = Σ_b dh[b] at the class token and the patches; dregisters [R, D] = Σ_b dh[b, 1:1+R].
 */
export function embedTokensParamGradsRef(
  dh: Float64Array,
  B: number,
  P: number,
  D: number,
  R = 0,
): { dcls: Float64Array; dpos: Float64Array; dregisters: Float64Array } {
  const N = 1 + R + P;
  const [dcls, dpos, dregisters] = [new Float64Array(D), new Float64Array((1 + P) * D), new Float64Array(R * D)];
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      for (let d = 0; d < D; d++) {
        const g = dh[(b * N + n) * D + d];
        if (n === 0) dcls[d] += g;
        if (n >= 1 && n <= R) dregisters[(n - 1) * D + d] += g;
        else dpos[(n === 0 ? 0 : n - R) * D + d] += g;
      }
    }
  }
  return { dcls, dpos, dregisters };
}
