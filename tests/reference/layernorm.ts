// Float64 reference: LayerNorm over the last dim D of x [R, D], biased variance.

export interface LayerNormRef {
  y: Float64Array;
  mean: Float64Array;
  rstd: Float64Array;
}

export function layernormRef(
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  D: number,
  eps: number,
): LayerNormRef {
  const R = x.length / D;
  const y = new Float64Array(x.length);
  const mean = new Float64Array(R);
  const rstd = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const row = x.subarray(r * D, (r + 1) * D);
    let m = 0;
    for (const v of row) m += v;
    m /= D;
    let v2 = 0;
    for (const v of row) v2 += (v - m) ** 2;
    const s = 1 / Math.sqrt(v2 / D + eps);
    for (let c = 0; c < D; c++) y[r * D + c] = (row[c] - m) * s * gamma[c] + beta[c];
    mean[r] = m;
    rstd[r] = s;
  }
  return { y, mean, rstd };
}

/** The parameters' gradients given dy [R, D]: dγ = Σ_rows dy·x̂, dβ = Σ_rows dy (γ and β do not enter). */
export function layernormParamGradsRef(
  x: Float64Array,
  dy: Float64Array,
  D: number,
  eps: number,
): { dgamma: Float64Array; dbeta: Float64Array } {
  const { mean, rstd } = layernormRef(x, new Float64Array(D), new Float64Array(D), D, eps);
  const [dgamma, dbeta] = [new Float64Array(D), new Float64Array(D)];
  dy.forEach((g, i) => {
    const r = Math.floor(i / D);
    dgamma[i % D] += g * (x[i] - mean[r]) * rstd[r];
    dbeta[i % D] += g;
  });
  return { dgamma, dbeta };
}
