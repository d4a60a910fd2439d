// Input normalisation of RGBA8 pixels against a float64 reference.
import { describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { rng } from '../helpers/random.ts';
import { normalizeRef, type Rgb } from '../reference/normalize.ts';

const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];

/** n random RGBA8 pixels as u32 words. */
function randomPixels(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.floor(r() * 2 ** 32));
}

interface Case {
  B: number;
  H: number;
  W: number;
  mean?: Rgb;
  std?: Rgb;
}

const cases: Case[] = [
  { B: 1, H: 1, W: 1 },
  { B: 2, H: 5, W: 7 },
  { B: 3, H: 33, W: 17 },
  { B: 2, H: 28, W: 29, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  { B: 1, H: 224, W: 160, mean: [0.1, 0.2, 0.3], std: [0.7, 0.8, 0.9] },
];

const name = (c: Case) => `[${c.B}x${c.H}x${c.W}]${c.mean ? ` mean ${c.mean} std ${c.std}` : ' ImageNet'}`;

describe('normalizeImages', () => {
  for (const c of cases) {
    it(name(c), async () => {
      const page = await harnessPage();
      const pixels = randomPixels(c.B * c.H * c.W, c.H * c.W);
      const out = await page.evaluate(
        async ({ pixels, c }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const x = empty([c.B, 3, c.H, c.W]);
          // Without mean and std the op uses its ImageNet defaults.
          const stats = c.mean ? [c.mean, c.std] : [];
          ops.normalizeImages(gpu, up(pixels, [c.B, c.H, c.W], 'u32'), x, ...stats);
          return down(x);
        },
        { pixels, c },
      );
      expectClose(
        out,
        normalizeRef(pixels, c.B, c.H, c.W, c.mean ?? IMAGENET_MEAN, c.std ?? IMAGENET_STD),
        1e-5,
        name(c),
      );
    });
  }

  it('reads ImageData bytes viewed as a Uint32Array in R, G, B order', async () => {
    const page = await harnessPage();
    const [H, W] = [3, 5];
    const r = rng(99);
    const bytes = Array.from({ length: H * W * 4 }, () => Math.floor(r() * 256));
    const out = await page.evaluate(
      async ({ bytes, H, W }) => {
        const { gpu, ops, empty, down } = window.stochca!;
        const image = new ImageData(Uint8ClampedArray.from(bytes), W, H);
        const x = empty([1, 3, H, W]);
        ops.normalizeImages(gpu, gpu.upload(new Uint32Array(image.data.buffer), [1, H, W]), x, [0, 0, 0], [1, 1, 1]);
        return down(x);
      },
      { bytes, H, W },
    );
    const want = Float64Array.from(
      { length: 3 * H * W },
      (_, i) => bytes[4 * (i % (H * W)) + Math.floor(i / (H * W))] / 255,
    );
    expectClose(out, want, 1e-6, 'ImageData');
  });
});

describe('normalizeImages checks', () => {
  const attempt = (pixelDType: 'f32' | 'u32', outShape: number[]) => async () => {
    const page = await harnessPage();
    return page.evaluate(
      ({ pixelDType, outShape }) => {
        const { gpu, ops, empty } = window.stochca!;
        try {
          ops.normalizeImages(
            gpu,
            { ...empty([2, 4, 6], pixelDType), label: 'pixels' },
            { ...empty(outShape), label: 'x' },
          );
          return 'no error';
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      },
      { pixelDType, outShape },
    );
  };

  it('refuses float pixels', async () => {
    expect(await attempt('f32', [2, 3, 4, 6])()).toBe(
      'ShapeError: normalizeImages pixels[2x4x6]: pixels must be u32, got f32',
    );
  });

  it('refuses an output of another shape', async () => {
    expect(await attempt('u32', [2, 3, 6, 4])()).toBe(
      'ShapeError: normalizeImages pixels[2x4x6]: out must be [2x3x4x6], got x[2x3x6x4]',
    );
  });
});
