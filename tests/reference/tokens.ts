// Float64 reference: class token and position embedding in front of the encoder,
// the class token taken out after it.

/** x: [B, P, D]; cls: [D]; pos: [P+1, D]; returns h [B, P+1, D]. */
export function embedTokensRef(
  x: Float64Array,
  cls: Float64Array,
  pos: Float64Array,
  B: number,
  P: number,
  D: number,
): Float64Array {
  const N = P + 1;
  const h = new Float64Array(B * N * D);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      for (let d = 0; d < D; d++) {
        const token = n === 0 ? cls[d] : x[(b * P + n - 1) * D + d];
        h[(b * N + n) * D + d] = token + pos[n * D + d];
      }
    }
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
