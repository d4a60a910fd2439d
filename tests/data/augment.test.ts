// Augmentation geometry against torchvision's rules (RandomResizedCrop.get_params, RandomCrop,
// CenterCrop, RandomHorizontalFlip) and the bilinear resample against a float64 reference of
// crop-then-resize (align_corners=False); plus the resample's speed, printed.
import { describe, expect, it } from 'vitest';
import {
  cacheSizeFor,
  DEFAULT_AUGMENT,
  evalView,
  randomResizedCrop,
  resample,
  resizeCover,
  trainView,
  type AugmentOptions,
  type View,
} from '../../src/data/augment.ts';
import { seededRng } from '../../src/nn/rng.ts';

/** An rng that returns the given values in turn. */
const scripted = (values: number[]) => {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error('the script ran out of values');
    return values[i++];
  };
};

/** A random width × height RGBA image (square by default), alpha 255 (cache images are opaque). */
function randomImage(C: number, seed: number, height = C): Uint8Array {
  const r = seededRng(seed);
  const img = new Uint8Array(C * height * 4);
  for (let i = 0; i < img.length; i++) img[i] = i % 4 === 3 ? 255 : Math.floor(r() * 256);
  return img;
}

/** torch.nn.functional.interpolate(mode='bilinear', align_corners=False) of the crop, in float64:
 *  source x = (o + 0.5)·in/out − 0.5, negative clamped to 0, the right tap clamped to the edge. */
function referenceResample(rgba: Uint8Array, C: number, v: View, S: number): Float64Array {
  const crop = (yy: number, xx: number, ch: number) => rgba[((v.y + yy) * C + v.x + xx) * 4 + ch];
  const taps = (o: number, n: number) => {
    const src = Math.max((o + 0.5) * (n / S) - 0.5, 0);
    const i0 = Math.floor(src);
    const i1 = i0 < n - 1 ? i0 + 1 : i0;
    const l1 = src - i0;
    return { i0, i1, l0: 1 - l1, l1 };
  };
  const out = new Float64Array(S * S * 4);
  for (let oy = 0; oy < S; oy++) {
    const ty = taps(oy, v.h);
    for (let ox = 0; ox < S; ox++) {
      const tx = taps(ox, v.w);
      const dst = (oy * S + (v.flip ? S - 1 - ox : ox)) * 4;
      for (let ch = 0; ch < 3; ch++) {
        out[dst + ch] =
          ty.l0 * (tx.l0 * crop(ty.i0, tx.i0, ch) + tx.l1 * crop(ty.i0, tx.i1, ch)) +
          ty.l1 * (tx.l0 * crop(ty.i1, tx.i0, ch) + tx.l1 * crop(ty.i1, tx.i1, ch));
      }
      out[dst + 3] = 255;
    }
  }
  return out;
}

/** torchvision's Resize(C) (shorter side to C, the longer to int(C·long/short), bilinear) then
 *  CenterCrop(C) (offset int(round((n − C) / 2))), in float64, on a width × height image. */
function referenceCover(rgba: Uint8Array, width: number, height: number, C: number): Float64Array {
  const pyRound = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
  const [W, H] = width <= height ? [C, Math.trunc((C * height) / width)] : [Math.trunc((C * width) / height), C];
  const [left, top] = [pyRound((W - C) / 2), pyRound((H - C) / 2)];
  const taps = (o: number, n: number, out: number) => {
    const src = Math.max((o + 0.5) * (n / out) - 0.5, 0);
    const i0 = Math.floor(src);
    return { i0, i1: i0 < n - 1 ? i0 + 1 : i0, l1: src - i0 };
  };
  const at = (y: number, x: number, ch: number) => rgba[(y * width + x) * 4 + ch];
  const out = new Float64Array(C * C * 4);
  for (let y = 0; y < C; y++) {
    const ty = taps(y + top, height, H);
    for (let x = 0; x < C; x++) {
      const tx = taps(x + left, width, W);
      for (let ch = 0; ch < 3; ch++) {
        const upper = (1 - tx.l1) * at(ty.i0, tx.i0, ch) + tx.l1 * at(ty.i0, tx.i1, ch);
        const lower = (1 - tx.l1) * at(ty.i1, tx.i0, ch) + tx.l1 * at(ty.i1, tx.i1, ch);
        out[(y * C + x) * 4 + ch] = (1 - ty.l1) * upper + ty.l1 * lower;
      }
      out[(y * C + x) * 4 + 3] = 255;
    }
  }
  return out;
}

const options = (o: Partial<AugmentOptions>): AugmentOptions => ({ ...DEFAULT_AUGMENT, ...o });

describe('cache size and evaluation view', () => {
  it('caches at round(S·8/7) and evaluates on the centre S×S window', () => {
    expect(cacheSizeFor(224)).toBe(256);
    expect(cacheSizeFor(448)).toBe(512);
    expect(cacheSizeFor(28)).toBe(32);
    expect(evalView(256, 224)).toEqual({ x: 16, y: 16, w: 224, h: 224, flip: false });
    // CenterCrop's int(round(2.5)) = 2.
    expect(evalView(9, 4)).toEqual({ x: 2, y: 2, w: 4, h: 4, flip: false });
    expect(() => evalView(8, 9)).toThrow(RangeError);
  });
});

describe('RandomResizedCrop geometry', () => {
  it('follows get_params draw by draw: area, log-ratio, then top, then left', () => {
    // target = 65536·(0.08 + 0.92·0.5), ratio exp(0) = 1: w = h = round(188.12) = 188.
    const v = randomResizedCrop(256, 256, [0.08, 1], [3 / 4, 4 / 3], scripted([0.5, 0.5, 0.25, 0.75]));
    expect(v).toEqual({ x: Math.floor(0.75 * 69), y: Math.floor(0.25 * 69), w: 188, h: 188 });
    // Python's round() takes halves to even: sqrt(6.25) = 2.5 → 2, not 3.
    expect(randomResizedCrop(10, 10, [0.0625, 0.0625], [1, 1], scripted([0, 0, 0, 0]))).toEqual({
      x: 0,
      y: 0,
      w: 2,
      h: 2,
    });
  });

  it('retries a window that does not fit, up to 10 times', () => {
    // Attempt 1: full area at ratio 4/3 is wider than the image; attempt 2 fits.
    const v = randomResizedCrop(256, 256, [0.5, 1], [3 / 4, 4 / 3], scripted([1, 1, 0, 0.5, 0, 0]));
    expect(v).toEqual({ x: 0, y: 0, w: 181, h: 181 });
  });

  it('falls back to the centre crop with the ratio clamped', () => {
    const never = () => 0.999;
    // A square image cannot hold a window of ratio ≥ 2 at full area: w = C, h = round(C / 2).
    expect(randomResizedCrop(256, 256, [1, 1], [2, 3], never)).toEqual({ x: 0, y: 64, w: 256, h: 128 });
    expect(randomResizedCrop(256, 256, [1, 1], [0.25, 0.5], never)).toEqual({ x: 64, y: 0, w: 128, h: 256 });
    // Ratio inside the bounds: the whole image.
    expect(randomResizedCrop(300, 100, [1, 1], [2, 4], never)).toEqual({ x: 0, y: 0, w: 300, h: 100 });
    // Wider than the bounds: h = 100, w = round(100·4/3) = 133, centred.
    expect(randomResizedCrop(300, 100, [1, 1], [3 / 4, 4 / 3], never)).toEqual({ x: 83, y: 0, w: 133, h: 100 });
    expect(trainView(256, 224, options({ scale: [1, 1], ratio: [2, 3], flip: false }), seededRng(1))).toEqual({
      x: 0,
      y: 64,
      w: 256,
      h: 128,
      flip: false,
    });
  });

  it('keeps area and ratio within bounds over many draws, and covers them', () => {
    const C = 256;
    for (const scale of [
      [0.7, 1],
      [0.08, 1],
    ] as [number, number][]) {
      const rng = seededRng(11);
      const o = options({ scale });
      let [minArea, maxArea, minRatio, maxRatio, maxX] = [Infinity, 0, Infinity, 0, 0];
      for (let i = 0; i < 5000; i++) {
        const v = trainView(C, 224, o, rng);
        expect(v.x >= 0 && v.y >= 0 && v.x + v.w <= C && v.y + v.h <= C).toBe(true);
        const area = (v.w * v.h) / (C * C);
        const ratio = v.w / v.h;
        // Rounding w and h to whole pixels moves each by at most 0.5.
        const slack = 0.5 / Math.min(v.w, v.h);
        expect(area).toBeGreaterThanOrEqual(scale[0] * (1 - 2 * slack) - 1e-12);
        expect(area).toBeLessThanOrEqual(1);
        expect(ratio).toBeGreaterThanOrEqual((3 / 4) * (1 - 2 * slack));
        expect(ratio).toBeLessThanOrEqual((4 / 3) * (1 + 2 * slack));
        [minArea, maxArea, minRatio, maxRatio, maxX] = [
          Math.min(minArea, area),
          Math.max(maxArea, area),
          Math.min(minRatio, ratio),
          Math.max(maxRatio, ratio),
          Math.max(maxX, v.x),
        ];
      }
      expect(minArea).toBeLessThan(scale[0] + 0.01);
      expect(maxArea).toBeGreaterThan(0.98);
      expect(minRatio).toBeLessThan(0.76);
      expect(maxRatio).toBeGreaterThan(1.32);
      expect(maxX).toBeGreaterThan(scale[0] < 0.5 ? 150 : 40);
    }
  });

  it('is the same for the same seed and differs for another', () => {
    const draw = (seed: number) => {
      const rng = seededRng(seed);
      return Array.from({ length: 20 }, () => trainView(256, 224, DEFAULT_AUGMENT, rng));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('refuses scale and ratio bounds that make no sense', () => {
    const rng = seededRng(1);
    expect(() => trainView(256, 224, options({ scale: [0, 1] }), rng)).toThrow(/crop scale/);
    expect(() => trainView(256, 224, options({ scale: [0.9, 0.5] }), rng)).toThrow(/crop scale/);
    expect(() => trainView(256, 224, options({ ratio: [-1, 2] }), rng)).toThrow(/crop ratio/);
  });
});

describe('random crop, no crop and flip', () => {
  it('draws every S×S window of the C×C image and nothing outside', () => {
    const rng = seededRng(3);
    const xs = new Set<number>();
    const ys = new Set<number>();
    let flips = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const v = trainView(256, 224, options({ crop: 'random' }), rng);
      expect([v.w, v.h]).toEqual([224, 224]);
      xs.add(v.x);
      ys.add(v.y);
      if (v.flip) flips++;
    }
    expect([Math.min(...xs), Math.max(...xs), xs.size]).toEqual([0, 32, 33]);
    expect([Math.min(...ys), Math.max(...ys), ys.size]).toEqual([0, 32, 33]);
    expect(Math.abs(flips / n - 0.5)).toBeLessThan(0.03);
  });

  it("'none' is the centre window, and flip off never mirrors", () => {
    const rng = seededRng(4);
    for (let i = 0; i < 50; i++) {
      expect(trainView(256, 224, options({ crop: 'none', flip: false }), rng)).toEqual(evalView(256, 224));
      expect(trainView(256, 224, options({ flip: false }), rng).flip).toBe(false);
    }
  });

  it('a flipped view is the exact mirror of the unflipped one', () => {
    const C = 17;
    const img = randomImage(C, 8);
    for (const [v, S] of [
      [{ x: 2, y: 3, w: 13, h: 11 }, 9],
      [{ x: 0, y: 0, w: 5, h: 6 }, 12],
      [{ x: 0, y: 0, w: 17, h: 17 }, 17],
    ] as const) {
      const plain = resample(img, C, { ...v, flip: false }, S);
      const mirrored = resample(img, C, { ...v, flip: true }, S);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const a = (y * S + x) * 4;
          const b = (y * S + S - 1 - x) * 4;
          expect([...mirrored.subarray(a, a + 4)]).toEqual([...plain.subarray(b, b + 4)]);
        }
      }
    }
  });
});

describe('bilinear resample', () => {
  it('is the identity for the whole image at S = C', () => {
    const C = 13;
    const img = randomImage(C, 2);
    expect(resample(img, C, { x: 0, y: 0, w: C, h: C, flip: false }, C)).toEqual(img);
  });

  it('matches crop-then-resize in float64 to rounding, shrinking and enlarging', () => {
    const C = 19;
    const img = randomImage(C, 9);
    const cases: [View, number][] = [
      [{ x: 0, y: 0, w: 19, h: 19, flip: false }, 16],
      [{ x: 3, y: 1, w: 14, h: 17, flip: true }, 11],
      [{ x: 5, y: 7, w: 4, h: 3, flip: false }, 10],
      [{ x: 0, y: 10, w: 19, h: 9, flip: true }, 7],
      [{ x: 18, y: 18, w: 1, h: 1, flip: false }, 3],
      [{ x: 2, y: 2, w: 15, h: 15, flip: false }, 15],
    ];
    for (const [view, S] of cases) {
      const got = resample(img, C, view, S);
      const want = referenceResample(img, C, view, S);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, JSON.stringify(view)).toBeLessThanOrEqual(0.5 + 1e-9);
    }
  });

  it('resizeCover is Resize(C) + CenterCrop(C) in float64 to rounding, wide, tall and square', () => {
    for (const [width, height, C] of [
      [5, 3, 8],
      [3, 7, 8],
      [2, 9, 5],
      [28, 28, 32],
      [7, 4, 9],
      [6, 6, 4],
      [1, 1, 3],
    ]) {
      const img = randomImage(width, width * 100 + height, height);
      const got = resizeCover(img, width, height, C);
      const want = referenceCover(img, width, height, C);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, `${width}×${height} → ${C}`).toBeLessThanOrEqual(0.5 + 1e-9);
    }
    const img = randomImage(6, 1, 6);
    expect(resizeCover(img, 6, 6, 6)).toEqual(img);
    expect(() => resizeCover(img, 5, 6, 6)).toThrow(/5×6 RGBA image has 120 bytes/);
  });

  it('writes into a slice of a batch and reads a cache image at an odd offset', () => {
    const C = 8;
    const img = randomImage(C, 4);
    const shifted = new Uint8Array(img.length + 1).subarray(1);
    shifted.set(img);
    const batch = new Uint8Array(3 * 5 * 5 * 4);
    const view = { x: 1, y: 1, w: 6, h: 5, flip: true };
    resample(shifted, C, view, 5, batch.subarray(100, 200));
    expect(batch.subarray(100, 200)).toEqual(resample(img, C, view, 5));
    expect(batch.subarray(0, 100).every((b) => b === 0)).toBe(true);
  });

  it('refuses views outside the image and wrong sizes', () => {
    const img = randomImage(8, 1);
    expect(() => resample(img, 8, { x: 4, y: 0, w: 5, h: 5, flip: false }, 4)).toThrow(/not inside the 8×8 image/);
    expect(() => resample(img, 9, { x: 0, y: 0, w: 5, h: 5, flip: false }, 4)).toThrow(/cache image has 256 bytes/);
    expect(() => resample(img, 8, { x: 0, y: 0, w: 5, h: 5, flip: false }, 4, new Uint8Array(10))).toThrow(
      /output must be 64 bytes/,
    );
  });

  it('measures images/s at C = 256, S = 224 (printed)', () => {
    const C = 256;
    const S = 224;
    const img = randomImage(C, 1);
    const out = new Uint8Array(S * S * 4);
    const rng = seededRng(2);
    const views = Array.from({ length: 64 }, () => trainView(C, S, DEFAULT_AUGMENT, rng));
    for (const v of views) resample(img, C, v, S, out); // warm-up
    const n = 1000;
    const start = performance.now();
    for (let i = 0; i < n; i++) resample(img, C, views[i % views.length], S, out);
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `resample ${C}×${C} → ${S}×${S} RGBA (random-resized crop + flip): ${Math.round(n / seconds)} images/s on one core`,
    );
  });
});
