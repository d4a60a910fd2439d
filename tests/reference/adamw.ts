// Float64 reference: torch.optim.AdamW (amsgrad off) and torch.nn.utils.clip_grad_norm_.

export interface AdamwRefOptions {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** Parameters and moments, updated in place. */
export interface AdamwRefState {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

export function l2Norm(g: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** clip_grad_norm_: g scaled by min(1, maxNorm / (‖g‖ + 1e-6)). */
export function clipGradNormRef(g: Float64Array, maxNorm: number): Float64Array {
  const scale = Math.min(1, maxNorm / (l2Norm(g) + 1e-6));
  return g.map((x) => x * scale);
}

/** AdamW step number `step` (1 first) on elements [offset, offset + count). */
export function adamwRef(
  s: AdamwRefState,
  g: ArrayLike<number>,
  o: AdamwRefOptions,
  step: number,
  offset = 0,
  count = s.p.length - offset,
): void {
  const bc1 = 1 - o.beta1 ** step;
  const bc2 = 1 - o.beta2 ** step;
  for (let i = offset; i < offset + count; i++) {
    s.p[i] -= o.lr * o.weightDecay * s.p[i];
    s.m[i] = o.beta1 * s.m[i] + (1 - o.beta1) * g[i];
    s.v[i] = o.beta2 * s.v[i] + (1 - o.beta2) * g[i] * g[i];
    const mHat = s.m[i] / bc1;
    const vHat = s.v[i] / bc2;
    s.p[i] -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
  }
}
