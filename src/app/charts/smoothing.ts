// Debiased exponential moving average, as TensorBoard smooths scalars: the running average starts
// at zero and is divided by 1 − w^k, so the first points are not pulled towards zero.

/** Smoothed values of `ys` with weight w in [0, 1): 0 returns them unchanged. Non-finite values pass through. */
export function smooth(ys: readonly number[], w: number): number[] {
  if (!(w > 0)) return [...ys];
  let avg = 0;
  let k = 0;
  return ys.map((y) => {
    if (!Number.isFinite(y)) return y;
    k++;
    avg = w * avg + (1 - w) * y;
    return avg / (1 - w ** k);
  });
}
