// Float64 reference of LayerScale on a residual branch: out = x + γ ⊙ y, γ per channel.

/** x, y: [R, D]; gamma: [D]; returns out [R, D]. */
export function layerScaleAddRef(x: Float64Array, gamma: Float64Array, y: Float64Array): Float64Array {
  const D = gamma.length;
  return x.map((v, i) => v + gamma[i % D] * y[i]);
}

/** dγ of layerScaleAdd given dout: Σ_rows dout ⊙ y. dout, y: [R, D]; returns [D]. */
export function layerScaleGammaGradRef(dout: Float64Array, y: Float64Array, D: number): Float64Array {
  const dgamma = new Float64Array(D);
  dout.forEach((g, i) => (dgamma[i % D] += g * y[i]));
  return dgamma;
}
