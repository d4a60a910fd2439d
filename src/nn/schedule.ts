// Learning rate: linear warmup from 0, then cosine decay to 0 (the paper's transfer recipe).

/** Learning rate for 1-based `step` of `total`, peaking at `peak` after `warmup` steps. */
export function learningRate(step: number, total: number, peak: number, warmup: number): number {
  if (step <= warmup) return (peak * step) / Math.max(1, warmup);
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return 0.5 * peak * (1 + Math.cos(Math.PI * progress));
}
