// Learning rate: linear warmup from 0, then cosine decay towards 0 (the paper's transfer recipe).

/** Learning rate for 1-based `step` of `total`, peaking at `peak` from step `warmup` to the step after;
 *  the cosine runs over steps warmup+1 … total as progress 0 … (n−1)/n, so no step trains at 0. */
export function learningRate(step: number, total: number, peak: number, warmup: number): number {
  if (step <= warmup) return (peak * step) / Math.max(1, warmup);
  const progress = Math.min(1, (step - warmup - 1) / Math.max(1, total - warmup));
  return 0.5 * peak * (1 + Math.cos(Math.PI * progress));
}
