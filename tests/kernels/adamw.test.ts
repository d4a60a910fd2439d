// AdamW and gradNorm against a float64 torch.optim.AdamW / clip_grad_norm_ reference.
// The optimizer has no backward; instead it must drive a quadratic to its minimum.
import { describe, expect, it } from 'vitest';
import { expectClose, relError } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, uniform } from '../helpers/random.ts';
import { adamwRef, clipGradNormRef, l2Norm, type AdamwRefOptions, type AdamwRefState } from '../reference/adamw.ts';

// A large lr·wd, so the order of decay and update shows in the results.
const hyper: AdamwRefOptions = { lr: 0.05, weightDecay: 0.2, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** A parameter group: AdamW options over [offset, offset + count). */
interface Group extends AdamwRefOptions {
  offset?: number;
  count?: number;
}

interface Steps {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
  /** One gradient per step. */
  grads: Float64Array[];
  groups: Group[];
  maxNorm?: number;
}

/** Runs every step on the GPU (gradNorm first when clipping) and returns p, m, v and the last norm. */
async function gpuSteps(s: Steps): Promise<{ p: number[]; m: number[]; v: number[]; norm: number }> {
  const page = await harnessPage();
  return page.evaluate(
    async ({ p, m, v, grads, groups, maxNorm }) => {
      const { gpu, ops, up, empty, down } = window.stochca!;
      const n = p.length;
      const buffers = { params: up(p, [n]), grads: empty([n]), m: up(m, [n]), v: up(v, [n]) };
      const norm = empty([1]);
      for (let t = 1; t <= grads.length; t++) {
        gpu.write(buffers.grads, Float32Array.from(grads[t - 1]));
        if (maxNorm !== undefined) ops.gradNorm(gpu, buffers.grads, norm);
        for (const g of groups) {
          ops.adamw(gpu, buffers, { ...g, step: t, maxNorm, norm: maxNorm === undefined ? undefined : norm });
        }
      }
      return {
        p: await down(buffers.params),
        m: await down(buffers.m),
        v: await down(buffers.v),
        norm: (await down(norm))[0],
      };
    },
    { ...s, p: [...s.p], m: [...s.m], v: [...s.v], grads: s.grads.map((g) => [...g]) },
  );
}

/** The same steps in float64. */
function refSteps(s: Steps): AdamwRefState & { norm: number } {
  const state = { p: s.p.slice(), m: s.m.slice(), v: s.v.slice() };
  s.grads.forEach((g, i) => {
    const clipped = s.maxNorm === undefined ? g : clipGradNormRef(g, s.maxNorm);
    for (const group of s.groups) adamwRef(state, clipped, group, i + 1, group.offset, group.count);
  });
  return { ...state, norm: l2Norm(s.grads.at(-1)!) };
}

function expectSteps(s: Steps, out: Awaited<ReturnType<typeof gpuSteps>>, what: string): void {
  const ref = refSteps(s);
  expectClose(out.p, ref.p, 1e-5, `${what} params`);
  expectClose(out.m, ref.m, 1e-5, `${what} m`);
  expectClose(out.v, ref.v, 1e-5, `${what} v`);
}

/** Five steps on n = 1003 elements from zero moments; gradient scale varies by step. */
function fiveSteps(groups: Group[], maxNorm?: number): Steps {
  const n = 1003;
  const grads = [1, 3, 0.5, 2, 1].map((scale, k) => {
    const g = normal(n, 20 + k, scale);
    g[7 * k] = 0; // a zero gradient on a zero moment must not divide by zero
    return g;
  });
  return { p: normal(n, 10), m: new Float64Array(n), v: new Float64Array(n), grads, groups, maxNorm };
}

/** Float32 bits of x in base 64: a million values travel to the page far faster than as an array. */
function f32Base64(x: Float64Array): string {
  return Buffer.from(Float32Array.from(x).buffer).toString('base64');
}

describe('gradNorm', () => {
  for (const n of [1, 1000, 1_000_003]) {
    it(`n=${n}`, async () => {
      const page = await harnessPage();
      const g = normal(n, n, 0.01);
      const norm = await page.evaluate(
        async ({ bits, n }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const g = new Float32Array(Uint8Array.from(atob(bits), (c) => c.charCodeAt(0)).buffer);
          const norm = empty([1]);
          ops.gradNorm(gpu, up(g, [n]), norm);
          return (await down(norm))[0];
        },
        { bits: f32Base64(g), n },
      );
      expectClose([norm], [l2Norm(Float32Array.from(g))], 1e-5, `‖g‖ n=${n}`);
    });
  }
});

describe('adamw', () => {
  it('matches torch.optim.AdamW over five steps', async () => {
    const s = fiveSteps([hyper]);
    expectSteps(s, await gpuSteps(s), 'no clipping');
  });

  it('continues from non-zero moments', async () => {
    const s = fiveSteps([hyper]);
    s.m = normal(s.p.length, 30, 0.1);
    s.v = uniform(s.p.length, 31, 0, 0.01);
    expectSteps(s, await gpuSteps(s), 'warm moments');
  });

  it('clips to the global norm when it is exceeded', async () => {
    const s = fiveSteps([hyper]);
    const norms = s.grads.map(l2Norm);
    s.maxNorm = Math.min(...norms) / 2; // active at every step, by a different factor
    const out = await gpuSteps(s);
    expectClose([out.norm], [norms.at(-1)!], 1e-5, 'last gradient norm');
    expectSteps(s, out, 'active clipping');
    // Clipping changed the moments: the unclipped run differs.
    const unclipped = refSteps({ ...s, maxNorm: undefined });
    expect(relError(out.m, unclipped.m).err).toBeGreaterThan(0.1);
  });

  it('leaves gradients under the clipping norm as they are', async () => {
    const s = fiveSteps([hyper]);
    s.maxNorm = 2 * Math.max(...s.grads.map(l2Norm));
    const out = await gpuSteps(s);
    expectSteps(s, out, 'inactive clipping');
    expectSteps({ ...s, maxNorm: undefined }, out, 'inactive clipping vs none');
  });

  it('updates a sub-range and leaves the rest untouched', async () => {
    const s = fiveSteps([{ ...hyper, offset: 300, count: 437 }]);
    s.m = normal(s.p.length, 32, 0.1);
    s.v = uniform(s.p.length, 33, 0, 0.01);
    const out = await gpuSteps(s);
    expectSteps(s, out, 'sub-range');
    for (const [name, before, after] of [
      ['p', s.p, out.p],
      ['m', s.m, out.m],
      ['v', s.v, out.v],
    ] as const) {
      const outside = (x: ArrayLike<number>) => [...Array.from(x).slice(0, 300), ...Array.from(x).slice(737)];
      expect(outside(after), `${name} outside the range`).toEqual(outside(Float32Array.from(before)));
    }
  });

  it('gives parameter groups their own weight decay under one clipping norm', async () => {
    const s = fiveSteps([
      { ...hyper, offset: 0, count: 300 },
      { ...hyper, weightDecay: 0, offset: 300 },
    ]);
    s.maxNorm = 1.5 * l2Norm(s.grads[0]); // active at some steps only
    expectSteps(s, await gpuSteps(s), 'two groups');
  });

  it('folds a range of more than 65535 workgroups into the grid', async () => {
    // Zero buffers with random data at the head and the tail; the tail lies past the fold.
    const n = 65535 * 256 + 1000;
    const k = 1000;
    const head = { p: normal(k, 50), g: normal(k, 51) };
    const tail = { p: normal(k, 52), g: normal(k, 53) };
    const out = await (
      await harnessPage()
    ).evaluate(
      async ({ n, k, head, tail, hyper }) => {
        const { gpu, ops, empty, down } = window.stochca!;
        const b = { params: empty([n]), grads: empty([n]), m: empty([n]), v: empty([n]) };
        const slice = (t: typeof b.params, at: number) => ({ ...t, offset: t.offset + 4 * at, shape: [k] });
        gpu.write(slice(b.params, 0), Float32Array.from(head.p));
        gpu.write(slice(b.grads, 0), Float32Array.from(head.g));
        gpu.write(slice(b.params, n - k), Float32Array.from(tail.p));
        gpu.write(slice(b.grads, n - k), Float32Array.from(tail.g));
        ops.adamw(gpu, b, { ...hyper, step: 1 });
        return [await down(slice(b.params, 0)), await down(slice(b.params, n - k))];
      },
      { n, k, head: { p: [...head.p], g: [...head.g] }, tail: { p: [...tail.p], g: [...tail.g] }, hyper },
    );
    [head, tail].forEach((part, i) => {
      const ref = { p: part.p.slice(), m: new Float64Array(k), v: new Float64Array(k) };
      adamwRef(ref, part.g, hyper, 1);
      expectClose(out[i], ref.p, 1e-5, i === 0 ? 'head' : 'tail');
    });
  });

  it('drives a quadratic to its minimum', async () => {
    // f(p) = ½ Σ a_i (p_i − c_i)², gradient a_i (p_i − c_i); lr decays linearly to 0.
    const n = 50;
    const a = uniform(n, 40, 0.5, 5);
    const c = uniform(n, 41, -2, 2);
    const steps = 200;
    const p = await (
      await harnessPage()
    ).evaluate(
      async ({ a, c, steps, hyper }) => {
        const { gpu, ops, empty, down } = window.stochca!;
        const n = a.length;
        const b = { params: empty([n]), grads: empty([n]), m: empty([n]), v: empty([n]) };
        const norm = empty([1]);
        for (let t = 1; t <= steps; t++) {
          const p = await down(b.params);
          gpu.write(
            b.grads,
            Float32Array.from(p, (x, i) => a[i] * (x - c[i])),
          );
          ops.gradNorm(gpu, b.grads, norm);
          ops.adamw(gpu, b, { ...hyper, lr: 0.1 * (1 - (t - 1) / steps), weightDecay: 0, step: t, maxNorm: 10, norm });
        }
        return down(b.params);
      },
      { a: [...a], c: [...c], steps, hyper },
    );
    const f = (x: ArrayLike<number>) => Array.from(x).reduce((s, xi, i) => s + 0.5 * a[i] * (xi - c[i]) ** 2, 0);
    expect(f(p)).toBeLessThan(1e-6 * f(new Float64Array(n)));
    expectClose(p, c, 1e-3, 'minimum');
  });
});

describe('adamw checks', () => {
  it('refuses buffers of different lengths before dispatching', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      try {
        const b = {
          params: { ...empty([10]), label: 'p' },
          grads: { ...empty([11]), label: 'g' },
          m: empty([10]),
          v: empty([10]),
        };
        ops.adamw(gpu, b, { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe('ShapeError: adamw p[10]: grads must be [10], got g[11]');
  });

  it('refuses a range past the end and clipping without a norm', async () => {
    const page = await harnessPage();
    const messages = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      const b = { params: { ...empty([10]), label: 'p' }, grads: empty([10]), m: empty([10]), v: empty([10]) };
      const o = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 };
      return [{ offset: 4, count: 7 }, { maxNorm: 1 }, { step: 0 }].map((extra) => {
        try {
          ops.adamw(gpu, b, { ...o, ...extra });
          return 'no error';
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      });
    });
    expect(messages).toEqual([
      'ShapeError: adamw p[10]: the range of 7 elements from 4 does not fit in 10',
      'ShapeError: adamw p[10]: clipping needs both maxNorm and norm',
      'RangeError: adamw p[10]: step 0 must be an integer >= 1',
    ]);
  });
});
