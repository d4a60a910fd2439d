// Elementwise ops: GELU and QuickGELU forward against float64, their backward against finite differences,
// the accuracy of the shader's erf, and add/addInto (whose backward is the identity).
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradClose, finiteDiff } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, sampleIndices } from '../helpers/random.ts';
import { addRef, geluBackwardRef, geluRef } from '../reference/elementwise.ts';

/** Test data as the GPU sees it (f32 values), in float64. */
const asF32 = (a: Float64Array): Float64Array => a.map(Math.fround);

const shapes = [[1], [7, 33], [2, 197, 65], [785, 13]];
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

describe('gelu', () => {
  for (const s of shapes) {
    it(`forward [${s}]`, async () => {
      const page = await harnessPage();
      const x = asF32(normal(size(s), 1, 3));
      const y = await page.evaluate(
        async ({ x, s }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const y = empty(s);
          ops.gelu(gpu, up(x, s), y);
          return down(y);
        },
        { x: [...x], s },
      );
      expectClose(y, geluRef(x), 1e-5, `gelu [${s}]`);
    });
  }

  for (const s of [[1], [7, 33], [3, 197, 5]]) {
    it(`backward [${s}]`, async () => {
      const page = await harnessPage();
      const x = asF32(normal(size(s), 2, 2));
      const dy = asF32(normal(size(s), 3));
      const dx = await page.evaluate(
        async ({ x, dy, s }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const dx = empty(s);
          ops.geluBackward(gpu, up(x, s), up(dy, s), dx);
          return down(dx);
        },
        { x: [...x], dy: [...dy], s },
      );
      const idx = sampleIndices(x.length, 48, 4);
      expectGradClose(
        dx,
        finiteDiff(([v]) => geluRef(v), [x], 0, dy, idx),
        idx,
        1e-4,
        `gelu [${s}] dx`,
      );
    });
  }

  it('erf approximation: GELU and its derivative within 1e-6·max(1,|x|) over [-6, 6]', async () => {
    const page = await harnessPage();
    const x = asF32(Float64Array.from({ length: 12001 }, (_, i) => -6 + i / 1000));
    const out = await page.evaluate(
      async ({ x }) => {
        const { gpu, ops, up, empty, down } = window.stochca!;
        const t = up(x, [x.length]);
        const y = empty([x.length]);
        const dx = empty([x.length]);
        ops.gelu(gpu, t, y);
        ops.geluBackward(
          gpu,
          t,
          up(
            x.map(() => 1),
            [x.length],
          ),
          dx,
        );
        return { y: await down(y), d: await down(dx) };
      },
      { x: [...x] },
    );
    const want = {
      y: geluRef(x),
      d: geluBackwardRef(
        x,
        x.map(() => 1),
      ),
    };
    for (const k of ['y', 'd'] as const) {
      let worst = 0;
      let at = 0;
      x.forEach((v, i) => {
        const e = Math.abs(out[k][i] - want[k][i]) / Math.max(1, Math.abs(v));
        if (e > worst) [worst, at] = [e, i];
      });
      expect(
        worst,
        `${k === 'y' ? 'GELU' : "GELU'"} error ${worst.toExponential(2)} at x = ${x[at]}`,
      ).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('quick-gelu', () => {
  for (const s of [
    [7, 33],
    [2, 197, 65],
  ]) {
    it(`forward [${s}]`, async () => {
      const page = await harnessPage();
      const x = asF32(normal(size(s), 11, 3));
      const y = await page.evaluate(
        async ({ x, s }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const y = empty(s);
          ops.gelu(gpu, up(x, s), y, 'quick-gelu');
          return down(y);
        },
        { x: [...x], s },
      );
      expectClose(y, geluRef(x, 'quick-gelu'), 1e-5, `quick-gelu [${s}]`);
    });
  }

  for (const s of [[1], [3, 197, 5]]) {
    it(`backward [${s}]`, async () => {
      const page = await harnessPage();
      const x = asF32(normal(size(s), 12, 2));
      const dy = asF32(normal(size(s), 13));
      const dx = await page.evaluate(
        async ({ x, dy, s }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const dx = empty(s);
          ops.geluBackward(gpu, up(x, s), up(dy, s), dx, 'quick-gelu');
          return down(dx);
        },
        { x: [...x], dy: [...dy], s },
      );
      const idx = sampleIndices(x.length, 48, 14);
      expectGradClose(
        dx,
        finiteDiff(([v]) => geluRef(v, 'quick-gelu'), [x], 0, dy, idx),
        idx,
        1e-4,
        `quick-gelu [${s}] dx`,
      );
    });
  }
});

describe('add', () => {
  for (const s of shapes) {
    it(`add and addInto [${s}]`, async () => {
      const page = await harnessPage();
      const a = asF32(normal(size(s), 5));
      const b = asF32(normal(size(s), 6, 10));
      const out = await page.evaluate(
        async ({ a, b, s }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const out = empty(s);
          const acc = up(a, s);
          const tb = up(b, s);
          ops.add(gpu, up(a, s), tb, out);
          ops.addInto(gpu, acc, tb);
          ops.addInto(gpu, acc, tb);
          return { sum: await down(out), acc: await down(acc) };
        },
        { a: [...a], b: [...b], s },
      );
      expectClose(out.sum, addRef(a, b), 1e-6, `add [${s}]`);
      expectClose(out.acc, addRef(addRef(a, b), b), 1e-6, `addInto twice [${s}]`);
    });
  }

  it('covers every element of a range folded into two workgroup rows (70000·64 + 3)', async () => {
    const page = await harnessPage();
    const bad = await page.evaluate(async () => {
      const { gpu, ops, up, empty, down } = window.stochca!;
      const n = 70000 * 64 + 3;
      const a = Float32Array.from({ length: n }, (_, i) => (i % 1021) - 510);
      const b = Float32Array.from({ length: n }, (_, i) => (i % 7) * 0.25);
      const tb = up(b, [n]);
      const out = empty([n]);
      const acc = up(a, [n]);
      ops.add(gpu, up(a, [n]), tb, out);
      ops.addInto(gpu, acc, tb);
      const [sum, accumulated] = [await down(out), await down(acc)];
      const wrong: string[] = [];
      for (let i = 0; i < n && wrong.length < 5; i++) {
        if (sum[i] !== a[i] + b[i] || accumulated[i] !== a[i] + b[i]) wrong.push(`${i}: ${sum[i]}, ${accumulated[i]}`);
      }
      return wrong;
    });
    expect(bad).toEqual([]);
  });
});

describe('elementwise shape checks', () => {
  it('refuses mismatched shapes and an output that overlaps an input', async () => {
    const page = await harnessPage();
    const messages = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      const attempt = (f: () => void): string => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      };
      const a = { ...empty([4, 3]), label: 'a' };
      return [
        attempt(() => ops.add(gpu, a, { ...empty([3, 4]), label: 'b' }, empty([4, 3]))),
        attempt(() => ops.add(gpu, a, empty([4, 3]), a)),
      ];
    });
    expect(messages).toEqual([
      'ShapeError: add a[4x3]: b must be [4x3], got b[3x4]',
      'ShapeError: add a[4x3]: out a[4x3] overlaps a a[4x3] in memory',
    ]);
  });
});
