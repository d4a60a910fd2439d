// Float64 reference: C[b] = op(A[b])·op(B[b]) + bias, optionally through GELU (exact, or QuickGELU).
import type { Activation } from '../../src/nn/vit-arch.ts';
import { activationRef } from './gelu.ts';

export interface MatmulRefDims {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** B is shared across the batch. */
  sharedB?: boolean;
}

export function matmulRef(
  a: Float64Array,
  b: Float64Array,
  d: MatmulRefDims,
  bias?: Float64Array,
  withGelu = false,
  activation?: Activation,
): Float64Array {
  const { batch, M, N, K } = d;
  const act = activationRef(activation).f;
  const c = new Float64Array(batch * M * N);
  for (let bt = 0; bt < batch; bt++) {
    const ao = bt * M * K;
    const bo = d.sharedB ? 0 : bt * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias ? bias[n] : 0;
        for (let k = 0; k < K; k++) {
          const av = d.transA ? a[ao + k * M + m] : a[ao + m * K + k];
          const bv = d.transB ? b[bo + n * K + k] : b[bo + k * N + n];
          s += av * bv;
        }
        c[bt * M * N + m * N + n] = withGelu ? act(s) : s;
      }
    }
  }
  return c;
}

/** The gradients of Σ dC·matmulRef(a, b, d, bias), stored as a, b and bias are (db summed over the batch
 *  when B is shared): dA = dC·op(B)ᵀ, dB = op(A)ᵀ·dC and dbias = Σ_rows dC, each term by term. */
export function matmulGradsRef(
  a: Float64Array,
  b: Float64Array,
  dc: Float64Array,
  d: MatmulRefDims,
): { da: Float64Array; db: Float64Array; dbias: Float64Array } {
  const { batch, M, N, K } = d;
  const [da, db, dbias] = [new Float64Array(a.length), new Float64Array(b.length), new Float64Array(N)];
  for (let bt = 0; bt < batch; bt++) {
    const ao = bt * M * K;
    const bo = d.sharedB ? 0 : bt * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        const g = dc[(bt * M + m) * N + n];
        dbias[n] += g;
        for (let k = 0; k < K; k++) {
          const ai = d.transA ? ao + k * M + m : ao + m * K + k;
          const bi = d.transB ? bo + n * K + k : bo + k * N + n;
          da[ai] += g * b[bi];
          db[bi] += g * a[ai];
        }
      }
    }
  }
  return { da, db, dbias };
}
