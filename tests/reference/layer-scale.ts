// Float64 reference of LayerScale on a residual branch: out = x + γ ⊙ y, γ per channel.

/** x, y: [R, D]; gamma: [D]; returns out [R, D]. */
export function layerScaleAddRef(x: Float64Array, gamma: Float64Array, y: Float64Array): Float64Array {
  const D = gamma.length;
  return x.map((v, i) => v + gamma[i % D] * y[i]);
}
