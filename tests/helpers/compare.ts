// Comparisons against float64 references and finite differences.
import { expect } from 'vitest';

/**
 * Largest |actual - expected| divided by the largest |expected| (a scale-free
 * error for a whole tensor), with the worst index for the failure message.
 */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): { err: number; at: number } {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let err = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (!(e <= err)) {
      err = e;
      at = i;
    }
  }
  return { err: err / Math.max(scale, 1e-30), at };
}

/** Fails with the worst element unless relError(actual, expected) <= tol. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = ''): void {
  const { err, at } = relError(actual, expected);
  const msg = `${what} max error ${err.toExponential(2)} (tol ${tol}) at ${at}: got ${actual[at]}, want ${expected[at]}`;
  expect(err, msg).toBeLessThanOrEqual(tol);
}

/**
 * Central finite differences in float64 of L = Σ w·f(inputs) with respect to
 * inputs[which][i] for each i in `indices`.
 */
export function finiteDiff(
  f: (inputs: Float64Array[]) => Float64Array,
  inputs: Float64Array[],
  which: number,
  w: Float64Array,
  indices: readonly number[],
  h = 1e-6,
): Float64Array {
  const loss = (): number => {
    const y = f(inputs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += w[i] * y[i];
    return s;
  };
  const x = inputs[which];
  return Float64Array.from(indices, (i) => {
    const keep = x[i];
    x[i] = keep + h;
    const up = loss();
    x[i] = keep - h;
    const down = loss();
    x[i] = keep;
    return (up - down) / (2 * h);
  });
}

/** Checks a GPU gradient against finite differences at the sampled indices. */
export function expectGradClose(
  gpuGrad: ArrayLike<number>,
  fd: Float64Array,
  indices: readonly number[],
  tol: number,
  what: string,
): void {
  expectClose(
    Float64Array.from(indices, (i) => gpuGrad[i]),
    fd,
    tol,
    `${what} gradient vs finite differences:`,
  );
}
