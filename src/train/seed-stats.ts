// What a handful of seeds can say: the mean, the sample standard deviation, and the paired difference of
// two methods run on the same seeds with its 95 % confidence interval (Student's t, n − 1 degrees of
// freedom). The page's Compare over seeds and the experiment grids' reports both read it.

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n − 1); undefined for fewer than two values. */
export function std(xs: readonly number[]): number | undefined {
  if (xs.length < 2) return undefined;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

// The 97.5 % quantile of Student's t for 1..30 degrees of freedom (the two-sided 95 % interval);
// above 30 the normal's 1.96 is within 2 %.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t such that mean ± t·std/√n is the two-sided 95 % interval of a mean of n values (n ≥ 2). */
export function t95(n: number): number {
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`an interval needs 2 or more values, got ${n}`);
  return T975[n - 2] ?? 1.96;
}

export interface PairedDifference {
  /** Seeds both methods have. */
  n: number;
  mean: number;
  /** Undefined with fewer than two pairs. */
  std?: number;
  /** The 95 % interval of the mean difference; undefined with fewer than two pairs. */
  low?: number;
  high?: number;
  /** Pairs whose difference is above 0. */
  above: number;
  /** True when the interval excludes 0: the only case called a difference. */
  differs: boolean;
}

/** a − b over the seeds both have (each a map seed → value). */
export function pairedDifference(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): PairedDifference {
  const diffs = [...a].filter(([seed]) => b.has(seed)).map(([seed, x]) => x - b.get(seed)!);
  if (diffs.length === 0) return { n: 0, mean: NaN, above: 0, differs: false };
  const m = mean(diffs);
  const s = std(diffs);
  const half = s === undefined ? undefined : (t95(diffs.length) * s) / Math.sqrt(diffs.length);
  const low = half === undefined ? undefined : m - half;
  const high = half === undefined ? undefined : m + half;
  return {
    n: diffs.length,
    mean: m,
    std: s,
    low,
    high,
    above: diffs.filter((d) => d > 0).length,
    differs: low !== undefined && high !== undefined && (low > 0 || high < 0),
  };
}
