// matmul forward against a float64 reference; backward against finite differences; both accumulating
// (C += the product, as a gradient over micro-batches) against the float64 value before plus the product.
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradClose, finiteDiff } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, sampleIndices } from '../helpers/random.ts';
import { matmulGradsRef, matmulRef, type MatmulRefDims } from '../reference/matmul.ts';
import type { Activation } from '../../src/nn/vit-arch.ts';

type Case = MatmulRefDims & { bias?: boolean; gelu?: boolean; activation?: Activation };

const forward: Case[] = [
  { batch: 1, M: 1, N: 1, K: 1 },
  { batch: 1, M: 7, N: 33, K: 5, bias: true },
  { batch: 1, M: 197, N: 65, K: 33, transB: true, bias: true },
  { batch: 3, M: 33, N: 17, K: 70, transA: true },
  { batch: 2, M: 65, N: 130, K: 64, transA: true, transB: true },
  { batch: 2, M: 785, N: 48, K: 19, sharedB: true, transB: true, bias: true, gelu: true },
  { batch: 1, M: 100, N: 257, K: 129, bias: true, gelu: true },
  { batch: 1, M: 70, N: 130, K: 33, transB: true, bias: true, gelu: true, activation: 'quick-gelu' },
  // Whole 64x64 tiles only (no edge), several per dimension.
  { batch: 2, M: 128, N: 192, K: 48, transA: true, bias: true },
];

const backward: Case[] = [
  { batch: 1, M: 7, N: 5, K: 3, bias: true },
  { batch: 1, M: 33, N: 70, K: 65, transB: true, bias: true },
  { batch: 2, M: 17, N: 9, K: 66, transA: true },
  { batch: 2, M: 9, N: 20, K: 13, transA: true, transB: true },
  { batch: 3, M: 197, N: 24, K: 16, transB: true, sharedB: true, bias: true },
];

function name(c: Case): string {
  return (
    `${c.batch}x[${c.M}x${c.K}]${c.transA ? 'ᵀ' : ''}·[${c.K}x${c.N}]${c.transB ? 'ᵀ' : ''}` +
    `${c.sharedB ? ' shared' : ''}${c.bias ? ' +bias' : ''}${c.gelu ? ` →${c.activation ?? 'gelu'}` : ''}`
  );
}

/** Stored shapes of A, B and C for a case. */
function shapes(c: Case) {
  const a = c.transA ? [c.K, c.M] : [c.M, c.K];
  const b = c.transB ? [c.N, c.K] : [c.K, c.N];
  return {
    a: c.batch > 1 ? [c.batch, ...a] : a,
    b: c.batch > 1 && !c.sharedB ? [c.batch, ...b] : b,
    c: c.batch > 1 ? [c.batch, c.M, c.N] : [c.M, c.N],
  };
}

describe('matmul forward', () => {
  for (const c of forward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const a = normal(c.batch * c.M * c.K, 1);
      const b = normal((c.sharedB ? 1 : c.batch) * c.K * c.N, 2);
      const bias = normal(c.N, 3);
      const out = await page.evaluate(
        async ({ a, b, bias, s, c }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const C = empty(s.c);
          const U = c.gelu ? empty(s.c) : undefined;
          ops.matmul(gpu, up(a, s.a), up(b, s.b), C, {
            transA: c.transA,
            transB: c.transB,
            bias: c.bias ? up(bias, [c.N]) : undefined,
            geluInput: U,
            activation: c.activation,
          });
          return { c: await down(C), u: U ? await down(U) : [] };
        },
        { a: [...a], b: [...b], bias: [...bias], s: shapes(c), c },
      );
      expectClose(out.c, matmulRef(a, b, c, c.bias ? bias : undefined, c.gelu, c.activation), 1e-5, name(c));
      if (c.gelu) expectClose(out.u, matmulRef(a, b, c, bias), 1e-5, `${name(c)} pre-activation`);
    });
  }
});

describe('matmul backward', () => {
  for (const c of backward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const a = normal(c.batch * c.M * c.K, 4);
      const b = normal((c.sharedB ? 1 : c.batch) * c.K * c.N, 5);
      const bias = normal(c.N, 6);
      const dc = normal(c.batch * c.M * c.N, 7);
      const g = await page.evaluate(
        async ({ a, b, dc, s, c }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const da = empty(s.a);
          const db = empty(s.b);
          const dbias = empty([c.N]);
          ops.matmulBackward(
            gpu,
            up(a, s.a),
            up(b, s.b),
            up(dc, s.c),
            { da, db, dbias },
            { transA: c.transA, transB: c.transB },
          );
          return [await down(da), await down(db), await down(dbias)];
        },
        { a: [...a], b: [...b], dc: [...dc], s: shapes(c), c },
      );
      const f = ([x, y, z]: Float64Array[]) => matmulRef(x, y, c, z);
      const inputs = [a, b, bias];
      ['A', 'B', 'bias'].forEach((what, k) => {
        const idx = sampleIndices(inputs[k].length, 48, 10 + k);
        expectGradClose(g[k], finiteDiff(f, inputs, k, dc, idx), idx, 1e-4, `${name(c)} d${what}`);
      });
    });
  }
});

// A gradient summed over micro-batches: C, db and dbias hold a previous micro-batch's and gain this one's.
const accumulating: Case[] = [
  { batch: 2, M: 65, N: 130, K: 64, transA: true, transB: true },
  { batch: 1, M: 33, N: 70, K: 65, transB: true, bias: true },
  { batch: 3, M: 197, N: 24, K: 16, transB: true, sharedB: true, bias: true }, // 591 rows: colsum in two passes
];

const add = (x: Float64Array, y: Float64Array): Float64Array => x.map((v, i) => v + y[i]);

describe('matmul accumulating', () => {
  for (const c of accumulating) {
    it(`C += ${name(c)}`, async () => {
      const page = await harnessPage();
      const a = normal(c.batch * c.M * c.K, 21);
      const b = normal((c.sharedB ? 1 : c.batch) * c.K * c.N, 22);
      const bias = normal(c.N, 23);
      const before = normal(c.batch * c.M * c.N, 24, 4);
      const out = await page.evaluate(
        async ({ a, b, bias, before, s, c }) => {
          const { gpu, ops, up, down } = window.stochca!;
          const C = up(before, s.c);
          const o = { transA: c.transA, transB: c.transB, bias: c.bias ? up(bias, [c.N]) : undefined };
          ops.matmul(gpu, up(a, s.a), up(b, s.b), C, { ...o, accumulate: true });
          return down(C);
        },
        { a: [...a], b: [...b], bias: [...bias], before: [...before], s: shapes(c), c },
      );
      expectClose(out, add(before, matmulRef(a, b, c, c.bias ? bias : undefined)), 1e-5, name(c));
    });

    it(`backward ${name(c)}: db, dbias added to, da written`, async () => {
      const page = await harnessPage();
      const a = normal(c.batch * c.M * c.K, 25);
      const b = normal((c.sharedB ? 1 : c.batch) * c.K * c.N, 26);
      const dc = normal(c.batch * c.M * c.N, 27);
      const [dbBefore, dbiasBefore] = [normal(b.length, 28, 4), normal(c.N, 29, 4)];
      const g = await page.evaluate(
        async ({ a, b, dc, dbBefore, dbiasBefore, s, c }) => {
          const { gpu, ops, up, down } = window.stochca!;
          const da = up(new Array(a.length).fill(1e3), s.a);
          const [db, dbias] = [up(dbBefore, s.b), up(dbiasBefore, [c.N])];
          const grads = { da, db, dbias, accumulate: true };
          ops.matmulBackward(gpu, up(a, s.a), up(b, s.b), up(dc, s.c), grads, { transA: c.transA, transB: c.transB });
          return [await down(da), await down(db), await down(dbias)];
        },
        { a: [...a], b: [...b], dc: [...dc], dbBefore: [...dbBefore], dbiasBefore: [...dbiasBefore], s: shapes(c), c },
      );
      const want = matmulGradsRef(a, b, dc, c);
      expectClose(g[0], want.da, 1e-5, `${name(c)} dA`);
      expectClose(g[1], add(dbBefore, want.db), 1e-5, `${name(c)} dB`);
      expectClose(g[2], add(dbiasBefore, want.dbias), 1e-5, `${name(c)} dbias`);
    });
  }
});

describe('matmul shape checks', () => {
  it('refuses mismatched inner dimensions before dispatching', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      try {
        ops.matmul(gpu, { ...empty([4, 3]), label: 'x' }, { ...empty([5, 2]), label: 'w' }, empty([4, 2]));
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe('ShapeError: matmul x[4x3]·w[5x2]: inner dimensions differ: op(A) is [4x3], op(B) is [5x2]');
  });
});
