// Matrix products (shaders/matmul.wgsl) and their backward pass.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { check, checkDType, describe, numel, view, type Tensor } from '../../gpu/tensor.ts';
import type { Activation } from '../vit-arch.ts';
import { colsum } from './colsum.ts';

export interface MatmulOptions {
  /** A is stored [K, M] (op(A) = Aᵀ). */
  transA?: boolean;
  /** B is stored [N, K] (op(B) = Bᵀ), the layout of a Linear weight [out, in]. */
  transB?: boolean;
  /** [N], added to every row of C. */
  bias?: Tensor;
  /** With a bias: C = GELU(U), where U (shape of C) receives op(A)·op(B) + bias. */
  geluInput?: Tensor;
  /** Which GELU the geluInput epilogue applies (absent: the exact one). */
  activation?: Activation;
  /** C += the result instead of C = the result (a gradient summed over micro-batches). */
  accumulate?: boolean;
}

const EPILOGUE = { none: 0, bias: 1, gelu: 2, 'quick-gelu': 3 } as const;

export const matmulKernel = new Kernel({
  shader: 'matmul',
  entry: 'matmul',
  workgroupSize: (l) => l.matmul.wg, // threads per workgroup side
  constants: (l) => ({ RB: l.matmul.rb }), // 4x4 blocks per thread side
  uniforms: {
    M: 'u32',
    N: 'u32',
    K: 'u32',
    strideA: 'u32',
    strideB: 'u32',
    strideC: 'u32',
    transA: 'u32',
    transB: 'u32',
    epilogue: 'u32',
    accumulate: 'u32',
  },
});

interface Dims {
  batch: number;
  M: number;
  N: number;
  K: number;
  strideA: number;
  strideB: number;
}

/** The last two dims of a rank-2 or rank-3 tensor, and its batch (1 for rank 2). */
function mat(t: Tensor, op: string, name: string): [batch: number, rows: number, cols: number] {
  check(t.shape.length === 2 || t.shape.length === 3, op, () => `${name} must be rank 2 or 3, got ${describe(t)}`);
  checkDType(t, ['f32'], op, name);
  const [rows, cols] = t.shape.slice(-2);
  return [t.shape.length === 3 ? t.shape[0] : 1, rows, cols];
}

function dims(a: Tensor, b: Tensor, c: Tensor, o: MatmulOptions, op: string): Dims {
  const [ba, ra, ca] = mat(a, op, 'A');
  const [bb, rb, cb] = mat(b, op, 'B');
  const [bc, M, N] = mat(c, op, 'C');
  const [Ma, K] = o.transA ? [ca, ra] : [ra, ca];
  const [Kb, Nb] = o.transB ? [cb, rb] : [rb, cb];
  check(K === Kb, op, () => `inner dimensions differ: op(A) is [${Ma}x${K}], op(B) is [${Kb}x${Nb}]`);
  check(Ma === M && Nb === N, op, () => `C must be [${Ma}x${Nb}], got ${describe(c)}`);
  check(ba === bc, op, () => `A and C batch sizes differ (${ba} vs ${bc})`);
  check(bb === 1 || bb === ba, op, () => `B batch ${bb} must be 1 or ${ba}`);
  if (o.bias) check(numel(o.bias.shape) === N, op, () => `bias must have ${N} elements, got ${describe(o.bias!)}`);
  if (o.geluInput) {
    check(!!o.bias, op, () => 'the GELU epilogue needs a bias');
    check(
      numel(o.geluInput.shape) === numel(c.shape),
      op,
      () => `GELU input must be shaped like C, got ${describe(o.geluInput!)}`,
    );
  }
  return { batch: ba, M, N, K, strideA: M * K, strideB: bb === 1 ? 0 : K * N };
}

/** C = op(A)·op(B) (+ bias) (then GELU). A: [M,K] or [batch,M,K]; B: [K,N] or [batch,K,N] (or shared); C: [(batch,) M, N]. */
export function matmul(gpu: Gpu, a: Tensor, b: Tensor, c: Tensor, o: MatmulOptions = {}): void {
  const op = `matmul ${describe(a)}${o.transA ? 'ᵀ' : ''}·${describe(b)}${o.transB ? 'ᵀ' : ''}`;
  const d = dims(a, b, c, o, op);
  const { wg, rb } = gpu.layout.matmul;
  const tile = 4 * rb * wg;
  gpu.dispatch({
    op,
    kernel: matmulKernel,
    uniforms: {
      M: d.M,
      N: d.N,
      K: d.K,
      strideA: d.strideA,
      strideB: d.strideB,
      strideC: d.M * d.N,
      transA: o.transA ? 1 : 0,
      transB: o.transB ? 1 : 0,
      epilogue: EPILOGUE[o.geluInput ? (o.activation ?? 'gelu') : o.bias ? 'bias' : 'none'],
      accumulate: o.accumulate ? 1 : 0,
    },
    tensors: [a, b, o.bias ?? gpu.dummy(0), c, o.geluInput ?? gpu.dummy(1)],
    workgroups: [Math.ceil(d.N / tile), Math.ceil(d.M / tile), d.batch],
  });
}

export interface MatmulGrads {
  /** Gradient of A, stored like A. */
  da?: Tensor;
  /** Gradient of B, stored like B (summed over the batch when B is shared). */
  db?: Tensor;
  /** Gradient of the bias [N]. */
  dbias?: Tensor;
  /** Add db and dbias to what they hold (the parameters' gradients over micro-batches); da is written. */
  accumulate?: boolean;
}

/**
 * Backward of C = op(A)·op(B) + bias, given dC (shaped like C). Each gradient is
 * another product: d op(A) = dC·op(B)ᵀ and d op(B) = op(A)ᵀ·dC.
 */
export function matmulBackward(
  gpu: Gpu,
  a: Tensor,
  b: Tensor,
  dc: Tensor,
  g: MatmulGrads,
  o: MatmulOptions = {},
): void {
  const transA = !!o.transA;
  const transB = !!o.transB;
  if (g.da) {
    // !transA: dA = dC·op(B)ᵀ;   transA: dA = (dC·op(B)ᵀ)ᵀ = op(B)·dCᵀ
    if (!transA) matmul(gpu, dc, b, g.da, { transB: !transB });
    else matmul(gpu, b, dc, g.da, { transA: transB, transB: true });
  }
  if (g.db) {
    let [aa, dcc] = [a, dc];
    if (b.shape.length === 2 && a.shape.length === 3) {
      // A shared B sums its gradient over the batch: fold the batch into the rows.
      check(!transA, 'matmulBackward', () => 'a B shared across a batch needs A stored [batch, M, K]');
      aa = view(a, [a.shape[0] * a.shape[1], a.shape[2]]);
      dcc = view(dc, [dc.shape[0] * dc.shape[1], dc.shape[2]]);
    }
    // !transB: dB = op(A)ᵀ·dC;   transB: dB = (op(A)ᵀ·dC)ᵀ = dCᵀ·op(A)
    const accumulate = g.accumulate;
    if (!transB) matmul(gpu, aa, dcc, g.db, { transA: !transA, accumulate });
    else matmul(gpu, dcc, aa, g.db, { transA: true, transB: transA, accumulate });
  }
  if (g.dbias) colsum(gpu, dc, g.dbias, g.accumulate);
}
