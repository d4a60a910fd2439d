// layernorm forward (y, mean, rstd) against a float64 reference; backward against finite differences.
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradClose, finiteDiff } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, sampleIndices } from '../helpers/random.ts';
import { layernormParamGradsRef, layernormRef } from '../reference/layernorm.ts';

interface Case {
  shape: number[];
  eps: number;
  /** Added to every x: rows far from zero test the variance's numerical soundness. */
  offset?: number;
}

const forward: Case[] = [
  { shape: [3, 1], eps: 1e-6 },
  { shape: [1, 1, 7], eps: 1e-6 },
  { shape: [1, 7, 7], eps: 1e-12 },
  { shape: [2, 33, 1000], eps: 1e-12 },
  { shape: [2, 197, 192], eps: 1e-6 },
  { shape: [1, 785, 64], eps: 1e-6 },
  { shape: [1, 33, 768], eps: 1e-6 },
  { shape: [1, 33, 384], eps: 1e-6, offset: 1e4 },
  { shape: [70001, 3], eps: 1e-6 }, // more rows than workgroups in one grid dimension
];

const backward: Case[] = [
  { shape: [4, 1], eps: 1e-6 },
  { shape: [2, 7, 33], eps: 1e-6 },
  { shape: [1, 33, 70], eps: 1e-12 },
  { shape: [1, 197, 24], eps: 1e-6 }, // several chunks of rows for dγ, dβ
  { shape: [1, 785, 13], eps: 1e-6 },
];

const name = (c: Case): string => `[${c.shape}] eps ${c.eps}${c.offset ? ` offset ${c.offset}` : ''}`;

/** Random inputs of a case, rounded to f32 as the GPU sees them. */
function inputs(c: Case, seed: number) {
  const D = c.shape.at(-1)!;
  const n = c.shape.reduce((a, b) => a * b, 1);
  const f32 = (a: Float64Array): Float64Array => a.map(Math.fround);
  return {
    D,
    rows: n / D,
    x: f32(normal(n, seed).map((v) => v + (c.offset ?? 0))),
    gamma: f32(normal(D, seed + 1).map((v) => 1 + 0.5 * v)),
    beta: f32(normal(D, seed + 2, 0.5)),
  };
}

describe('layernorm forward', () => {
  for (const c of forward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { D, rows, x, gamma, beta } = inputs(c, 1);
      const out = await page.evaluate(
        async ({ x, gamma, beta, shape, D, rows, eps }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const [y, mean, rstd] = [empty(shape), empty([rows]), empty([rows])];
          ops.layernorm(gpu, up(x, shape), up(gamma, [D]), up(beta, [D]), y, mean, rstd, eps);
          return { y: await down(y), mean: await down(mean), rstd: await down(rstd) };
        },
        { x: [...x], gamma: [...gamma], beta: [...beta], shape: c.shape, D, rows, eps: c.eps },
      );
      const want = layernormRef(x, gamma, beta, D, c.eps);
      expectClose(out.y, want.y, 1e-5, `${name(c)} y`);
      expectClose(out.mean, want.mean, 1e-5, `${name(c)} mean`);
      expectClose(out.rstd, want.rstd, 1e-5, `${name(c)} rstd`);
    });
  }
});

describe('layernorm backward', () => {
  for (const c of backward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { D, rows, x, gamma, beta } = inputs(c, 2);
      const dy = normal(x.length, 9).map(Math.fround);
      const g = await page.evaluate(
        async ({ x, gamma, beta, dy, shape, D, rows, eps }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const [tx, tg] = [up(x, shape), up(gamma, [D])];
          const [y, mean, rstd] = [empty(shape), empty([rows]), empty([rows])];
          const [dx, dgamma, dbeta] = [empty(shape), empty([D]), empty([D])];
          ops.layernorm(gpu, tx, tg, up(beta, [D]), y, mean, rstd, eps);
          ops.layernormBackward(gpu, up(dy, shape), tx, tg, mean, rstd, dx, dgamma, dbeta);
          return [await down(dx), await down(dgamma), await down(dbeta)];
        },
        { x: [...x], gamma: [...gamma], beta: [...beta], dy: [...dy], shape: c.shape, D, rows, eps: c.eps },
      );
      const f = ([xs, gs, bs]: Float64Array[]) => layernormRef(xs, gs, bs, D, c.eps).y;
      const all = [x, gamma, beta];
      ['x', 'gamma', 'beta'].forEach((what, k) => {
        const idx = sampleIndices(all[k].length, 48, 20 + k);
        expectGradClose(g[k], finiteDiff(f, all, k, dy, idx), idx, 1e-4, `${name(c)} d${what}`);
      });
    });
  }
});

// dγ and dβ over micro-batches: they hold a previous micro-batch's and gain this one's; dx is written.
describe('layernorm backward accumulating', () => {
  for (const c of [backward[1], backward[3]]) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { D, rows, x, gamma, beta } = inputs(c, 31);
      const dy = normal(x.length, 34).map(Math.fround);
      const [dgBefore, dbBefore] = [normal(D, 35, 4), normal(D, 36, 4)];
      const g = await page.evaluate(
        async ({ x, gamma, beta, dy, dgBefore, dbBefore, shape, D, rows, eps }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const [tx, tg] = [up(x, shape), up(gamma, [D])];
          const [y, mean, rstd] = [empty(shape), empty([rows]), empty([rows])];
          const [dx, dgamma, dbeta] = [empty(shape), up(dgBefore, [D]), up(dbBefore, [D])];
          ops.layernorm(gpu, tx, tg, up(beta, [D]), y, mean, rstd, eps);
          ops.layernormBackward(gpu, up(dy, shape), tx, tg, mean, rstd, dx, dgamma, dbeta, true);
          return [await down(dx), await down(dgamma), await down(dbeta)];
        },
        {
          x: [...x],
          gamma: [...gamma],
          beta: [...beta],
          dy: [...dy],
          dgBefore: [...dgBefore],
          dbBefore: [...dbBefore],
          shape: c.shape,
          D,
          rows,
          eps: c.eps,
        },
      );
      const want = layernormParamGradsRef(x, dy, D, c.eps);
      expectClose(
        g[1],
        dgBefore.map((v, i) => v + want.dgamma[i]),
        1e-5,
        `${name(c)} dgamma`,
      );
      expectClose(
        g[2],
        dbBefore.map((v, i) => v + want.dbeta[i]),
        1e-5,
        `${name(c)} dbeta`,
      );
      const f = ([xs]: Float64Array[]) => layernormRef(xs, gamma, beta, D, c.eps).y;
      const idx = sampleIndices(x.length, 48, 37);
      expectGradClose(g[0], finiteDiff(f, [x], 0, dy, idx), idx, 1e-4, `${name(c)} dx`);
    });
  }
});

describe('layernorm shape checks', () => {
  it('refuses a gamma of the wrong width before dispatching', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      try {
        const x = { ...empty([2, 3, 4]), label: 'x' };
        ops.layernorm(
          gpu,
          x,
          { ...empty([5]), label: 'g' },
          empty([4]),
          empty([2, 3, 4]),
          empty([6]),
          empty([6]),
          1e-6,
        );
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe('ShapeError: layernorm x[2x3x4]: gamma must be [4], got g[5]');
  });
});
