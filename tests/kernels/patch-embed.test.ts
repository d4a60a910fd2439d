// Patch embedding (im2col + matmul) against a direct float64 convolution; weight and
// bias gradients against finite differences; a patch embedding without bias (CLIP's) at patch 14 (DINOv2's).
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradClose, finiteDiff } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, sampleIndices } from '../helpers/random.ts';
import { patchEmbedParamGradsRef, patchEmbedRef, type PatchEmbedDims } from '../reference/patch-embed.ts';

const forward: PatchEmbedDims[] = [
  { B: 1, C: 3, H: 8, W: 8, D: 5, patch: 4 },
  { B: 2, C: 3, H: 28, W: 28, D: 33, patch: 7 },
  { B: 3, C: 3, H: 32, W: 32, D: 19, patch: 16 },
  { B: 2, C: 3, H: 28, W: 28, D: 7, patch: 1 }, // 784 patches of 3 values
  { B: 1, C: 3, H: 224, W: 224, D: 17, patch: 16 }, // vit_b_16's grid: 196 patches
  { B: 2, C: 3, H: 16, W: 24, D: 10, patch: 8 }, // a non-square image
];

const backward: PatchEmbedDims[] = [
  { B: 2, C: 3, H: 8, W: 8, D: 5, patch: 4 },
  { B: 1, C: 3, H: 28, W: 28, D: 33, patch: 7 },
  { B: 3, C: 3, H: 32, W: 32, D: 9, patch: 16 },
];

function name(s: PatchEmbedDims): string {
  return `x[${s.B}x${s.C}x${s.H}x${s.W}] p=${s.patch} D=${s.D}`;
}

function shapes(s: PatchEmbedDims) {
  const P = (s.H / s.patch) * (s.W / s.patch);
  return {
    x: [s.B, s.C, s.H, s.W],
    weight: [s.D, s.C, s.patch, s.patch],
    patches: [s.B * P, s.C * s.patch * s.patch],
    out: [s.B, P, s.D],
  };
}

function inputs(s: PatchEmbedDims, seed: number) {
  const k = s.C * s.patch * s.patch;
  return {
    x: normal(s.B * s.C * s.H * s.W, seed),
    weight: normal(s.D * k, seed + 1, 1 / Math.sqrt(k)),
    bias: normal(s.D, seed + 2),
  };
}

describe('patchEmbed forward', () => {
  for (const s of forward) {
    it(name(s), async () => {
      const page = await harnessPage();
      const { x, weight, bias } = inputs(s, 1);
      const out = await page.evaluate(
        async ({ x, weight, bias, t, patch }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const out = empty(t.out);
          ops.patchEmbed(gpu, up(x, t.x), up(weight, t.weight), up(bias, [t.weight[0]]), empty(t.patches), out, patch);
          return down(out);
        },
        { x: [...x], weight: [...weight], bias: [...bias], t: shapes(s), patch: s.patch },
      );
      expectClose(out, patchEmbedRef(x, weight, bias, s), 1e-5, name(s));
    });
  }
});

describe('patchEmbed backward', () => {
  for (const s of backward) {
    it(name(s), async () => {
      const page = await harnessPage();
      const { x, weight, bias } = inputs(s, 4);
      const t = shapes(s);
      const dout = normal(
        t.out.reduce((a, b) => a * b),
        7,
      );
      const g = await page.evaluate(
        async ({ x, weight, bias, dout, t, patch }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const patches = empty(t.patches);
          ops.patchEmbed(gpu, up(x, t.x), up(weight, t.weight), up(bias, [t.weight[0]]), patches, empty(t.out), patch);
          const dweight = empty(t.weight);
          const dbias = empty([t.weight[0]]);
          ops.patchEmbedBackward(gpu, patches, up(dout, t.out), dweight, dbias);
          return [await down(dweight), await down(dbias)];
        },
        { x: [...x], weight: [...weight], bias: [...bias], dout: [...dout], t, patch: s.patch },
      );
      const f = ([w, b]: Float64Array[]) => patchEmbedRef(x, w, b, s);
      const params = [weight, bias];
      ['weight', 'bias'].forEach((what, k) => {
        const idx = sampleIndices(params[k].length, 48, 10 + k);
        expectGradClose(g[k], finiteDiff(f, params, k, dout, idx), idx, 1e-4, `${name(s)} d${what}`);
      });
    });
  }
});

describe('patchEmbed without bias, patch 14', () => {
  const s: PatchEmbedDims = { B: 2, C: 3, H: 28, W: 42, D: 11, patch: 14 };
  it(name(s), async () => {
    const page = await harnessPage();
    const { x, weight } = inputs(s, 12);
    const t = shapes(s);
    const dout = normal(
      t.out.reduce((a, b) => a * b),
      15,
    );
    const r = await page.evaluate(
      async ({ x, weight, dout, t, patch }) => {
        const { gpu, ops, up, empty, down } = window.stochca!;
        const [patches, out, dweight] = [empty(t.patches), empty(t.out), empty(t.weight)];
        ops.patchEmbed(gpu, up(x, t.x), up(weight, t.weight), undefined, patches, out, patch);
        ops.patchEmbedBackward(gpu, patches, up(dout, t.out), dweight, undefined);
        return { out: await down(out), dweight: await down(dweight) };
      },
      { x: [...x], weight: [...weight], dout: [...dout], t, patch: s.patch },
    );
    expectClose(r.out, patchEmbedRef(x, weight, undefined, s), 1e-5, name(s));
    const idx = sampleIndices(weight.length, 48, 16);
    const f = ([w]: Float64Array[]) => patchEmbedRef(x, w, undefined, s);
    expectGradClose(r.dweight, finiteDiff(f, [weight], 0, dout, idx), idx, 1e-4, `${name(s)} dweight`);
  });
});

// The weight's and bias's gradients over micro-batches: they hold a previous micro-batch's and gain this one's.
describe('patchEmbed backward accumulating', () => {
  for (const [s, withBias] of [
    [backward[1], true],
    [{ B: 2, C: 3, H: 28, W: 42, D: 11, patch: 14 }, false],
  ] as const) {
    it(`${name(s)}${withBias ? '' : ' without bias'}`, async () => {
      const page = await harnessPage();
      const { x, weight, bias } = inputs(s, 51);
      const t = shapes(s);
      const dout = normal(
        t.out.reduce((a, b) => a * b),
        54,
      );
      const [dwBefore, dbBefore] = [normal(weight.length, 55, 4), normal(s.D, 56, 4)];
      const g = await page.evaluate(
        async ({ x, weight, bias, dout, dwBefore, dbBefore, t, patch, withBias }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const patches = empty(t.patches);
          const b = withBias ? up(bias, [t.weight[0]]) : undefined;
          ops.patchEmbed(gpu, up(x, t.x), up(weight, t.weight), b, patches, empty(t.out), patch);
          const [dweight, dbias] = [up(dwBefore, t.weight), up(dbBefore, [t.weight[0]])];
          ops.patchEmbedBackward(gpu, patches, up(dout, t.out), dweight, withBias ? dbias : undefined, true);
          return [await down(dweight), await down(dbias)];
        },
        {
          x: [...x],
          weight: [...weight],
          bias: [...bias],
          dout: [...dout],
          dwBefore: [...dwBefore],
          dbBefore: [...dbBefore],
          t,
          patch: s.patch,
          withBias,
        },
      );
      const want = patchEmbedParamGradsRef(x, dout, s);
      expectClose(
        g[0],
        dwBefore.map((v, i) => v + want.dweight[i]),
        1e-5,
        `${name(s)} dweight`,
      );
      if (withBias)
        expectClose(
          g[1],
          dbBefore.map((v, i) => v + want.dbias[i]),
          1e-5,
          `${name(s)} dbias`,
        );
    });
  }
});

describe('patchEmbed shape checks', () => {
  it('refuses an image size that is not a multiple of the patch size', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      try {
        ops.patchEmbed(
          gpu,
          { ...empty([1, 3, 30, 30]), label: 'x' },
          { ...empty([8, 3, 16, 16]), label: 'w' },
          empty([8]),
          empty([4, 768]),
          empty([1, 4, 8]),
          16,
        );
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe(
      'ShapeError: patchEmbed x[1x3x30x30] w[8x3x16x16] p=16: image size 30x30 must be a multiple of the patch size 16',
    );
  });

  it('refuses a weight whose channels differ from the image', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      try {
        ops.patchEmbed(
          gpu,
          { ...empty([1, 3, 8, 8]), label: 'x' },
          { ...empty([5, 1, 4, 4]), label: 'w' },
          empty([5]),
          empty([4, 48]),
          empty([1, 4, 5]),
          4,
        );
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe('ShapeError: patchEmbed x[1x3x8x8] w[5x1x4x4] p=4: weight must be [5x3x4x4], got w[5x1x4x4]');
  });
});
