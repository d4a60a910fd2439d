// Augmentation on decoded images, in plain TypeScript so that Node and the browser crop alike.
// Every image is decoded once into a square C×C RGBA "cache image" (shorter side resized to C,
// centre-cropped: `resizeCover`), C = round(S·8/7) for model input S: 256 for 224, torchvision's
// Resize(256) + CenterCrop(224). A view is a window of that image; `resample` turns it into the
// S×S RGBA input, so a cached image still gives a fresh random crop every epoch.
//   training:   the window of RandomResizedCrop or RandomCrop, then RandomHorizontalFlip
//   evaluation: the centre S×S window (Resize(C) + CenterCrop(S))
// Pixels are handled as little-endian 32-bit words (R in the low byte), the layout of ImageData
// and of the GPU's input on every platform WebGPU runs on.
import type { Rng } from '../nn/rng.ts';

export interface AugmentOptions {
  /** 'random-resized': torchvision RandomResizedCrop(S, scale, ratio); 'random': RandomCrop(S)
   *  (no padding) of the C×C image; 'none': the centre S×S window. */
  crop: 'random-resized' | 'random' | 'none';
  /** Area of the window as a fraction of the image's, for 'random-resized'. The paper's DomainBed
   *  recipe uses [0.7, 1]; torchvision's default is [0.08, 1]. */
  scale: [number, number];
  /** Width / height of the window, drawn log-uniformly, for 'random-resized'. */
  ratio: [number, number];
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
}

export const DEFAULT_AUGMENT: AugmentOptions = {
  crop: 'random-resized',
  scale: [0.7, 1],
  ratio: [3 / 4, 4 / 3],
  flip: true,
};

/** A window of the cache image: columns x..x+w-1, rows y..y+h-1, mirrored when flip is set. */
export interface View {
  x: number;
  y: number;
  w: number;
  h: number;
  flip: boolean;
}

/** The square size images are decoded and cached at for model input S. */
export function cacheSizeFor(S: number): number {
  return Math.round((S * 8) / 7);
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const randint = (rng: Rng, n: number) => Math.floor(rng() * n); // uniform in [0, n)

/** torchvision's RandomResizedCrop.get_params on a width × height image: 10 attempts at a window
 *  of random area fraction and log-uniform aspect ratio that fits, then the centre crop of the
 *  whole image with its ratio clamped into `ratio`. */
export function randomResizedCrop(
  width: number,
  height: number,
  scale: [number, number],
  ratio: [number, number],
  rng: Rng,
): Omit<View, 'flip'> {
  const area = width * height;
  const [logLo, logHi] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng());
    const aspect = Math.exp(logLo + (logHi - logLo) * rng());
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const y = randint(rng, height - h + 1);
      const x = randint(rng, width - w + 1);
      return { x, y, w, h };
    }
  }
  const inRatio = width / height;
  const lo = Math.min(...ratio);
  const hi = Math.max(...ratio);
  let w = width;
  let h = height;
  if (inRatio < lo) h = roundHalfEven(w / lo);
  else if (inRatio > hi) w = roundHalfEven(h * hi);
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), w, h };
}

function checkSizes(C: number, S: number) {
  if (!Number.isInteger(C) || !Number.isInteger(S) || S < 1 || S > C) {
    throw new RangeError(`the model input (${S}) must be a whole number of pixels, 1 to the cache size (${C})`);
  }
}

function checkOptions(o: AugmentOptions) {
  const ordered = (r: [number, number]) => r.length === 2 && r.every(Number.isFinite) && r[0] <= r[1];
  if (!ordered(o.scale) || o.scale[0] <= 0 || o.scale[1] > 1) {
    throw new RangeError(`crop scale must be [lo, hi] with 0 < lo <= hi <= 1, got [${o.scale}]`);
  }
  if (!ordered(o.ratio) || o.ratio[0] <= 0)
    throw new RangeError(`crop ratio must be [lo, hi] with 0 < lo <= hi, got [${o.ratio}]`);
}

/** The centre S×S window of the C×C cache image: evaluation is Resize(C) + CenterCrop(S). */
export function evalView(C: number, S: number): View {
  checkSizes(C, S);
  // torchvision's CenterCrop: int(round((C - S) / 2.0)).
  const o = roundHalfEven((C - S) / 2);
  return { x: o, y: o, w: S, h: S, flip: false };
}

/** A training view of the C×C cache image, drawn with `rng`: the crop, then the flip. */
export function trainView(C: number, S: number, options: AugmentOptions, rng: Rng): View {
  checkSizes(C, S);
  checkOptions(options);
  let window: Omit<View, 'flip'>;
  if (options.crop === 'random-resized') window = randomResizedCrop(C, C, options.scale, options.ratio, rng);
  else if (options.crop === 'random') window = { x: randint(rng, C - S + 1), y: randint(rng, C - S + 1), w: S, h: S };
  else window = evalView(C, S);
  return { ...window, flip: options.flip && rng() < 0.5 };
}

/** Source index and weight of each output coordinate along one axis, for bilinear interpolation
 *  with half-pixel centres (align_corners=False): output o samples u = (o + offset + 0.5)·step − 0.5
 *  of the source span [start, start+n), clamped to that span's edges, as when a crop is resized
 *  on its own. */
function axisTaps(start: number, n: number, size: number, step: number, offset: number, mirror: boolean) {
  const lo = new Int32Array(size);
  const hi = new Int32Array(size);
  const t = new Float64Array(size);
  for (let o = 0; o < size; o++) {
    const u = Math.min(Math.max((o + offset + 0.5) * step - 0.5, 0), n - 1);
    const i0 = Math.floor(u);
    const k = mirror ? size - 1 - o : o;
    lo[k] = start + i0;
    hi[k] = start + Math.min(i0 + 1, n - 1);
    t[k] = u - i0;
  }
  return { lo, hi, t };
}
type Taps = ReturnType<typeof axisTaps>;

function checkOut(out: Uint8Array, S: number) {
  if (out.length !== S * S * 4 || out.byteOffset % 4 !== 0) {
    throw new RangeError(
      `the output must be ${S * S * 4} bytes (a ${S}×${S} RGBA image) at a 4-byte-aligned offset, got ${out.length} at ${out.byteOffset}`,
    );
  }
}

/** out[oy, ox] = the bilinear sample of src at (cols[ox], rows[oy]); alpha 255.
 *   src: [height, width, 4] uint8   out: [rows, cols, 4] uint8 */
function bilinear(rgba: Uint8Array, width: number, cols: Taps, rows: Taps, out: Uint8Array): Uint8Array {
  // Whole pixels as little-endian words: R in the low byte, as the GPU reads them. A word view
  // needs a 4-byte-aligned start (a Node Buffer from a pool may not have one).
  const aligned = rgba.byteOffset % 4 === 0 ? rgba : rgba.slice();
  const src = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4);
  const W = cols.t.length;
  const H = rows.t.length;
  const dst = new Uint32Array(out.buffer, out.byteOffset, W * H);
  for (let oy = 0; oy < H; oy++) {
    const r0 = rows.lo[oy] * width;
    const r1 = rows.hi[oy] * width;
    const ty = rows.t[oy];
    const base = oy * W;
    for (let ox = 0; ox < W; ox++) {
      const c0 = cols.lo[ox];
      const c1 = cols.hi[ox];
      const tx = cols.t[ox];
      const a = src[r0 + c0];
      const b = src[r0 + c1];
      const c = src[r1 + c0];
      const d = src[r1 + c1];
      // The three colour bytes, unrolled: rows interpolated along x, then along y, rounded.
      let top = (a & 255) + ((b & 255) - (a & 255)) * tx;
      let bottom = (c & 255) + ((d & 255) - (c & 255)) * tx;
      const red = (top + (bottom - top) * ty + 0.5) | 0;
      top = ((a >>> 8) & 255) + (((b >>> 8) & 255) - ((a >>> 8) & 255)) * tx;
      bottom = ((c >>> 8) & 255) + (((d >>> 8) & 255) - ((c >>> 8) & 255)) * tx;
      const green = (top + (bottom - top) * ty + 0.5) | 0;
      top = ((a >>> 16) & 255) + (((b >>> 16) & 255) - ((a >>> 16) & 255)) * tx;
      bottom = ((c >>> 16) & 255) + (((d >>> 16) & 255) - ((c >>> 16) & 255)) * tx;
      const blue = (top + (bottom - top) * ty + 0.5) | 0;
      dst[base + ox] = 0xff000000 | (blue << 16) | (green << 8) | red;
    }
  }
  return out;
}

/**
 * The view of a C×C RGBA image resized to S×S RGBA, bilinear, mirrored when view.flip.
 *   rgba: [C, C, 4] uint8    out: [S, S, 4] uint8 (a new array, or a slice of a batch)
 * Alpha is written as 255: the cache images are opaque.
 */
export function resample(
  rgba: Uint8Array,
  C: number,
  view: View,
  S: number,
  out: Uint8Array = new Uint8Array(S * S * 4),
): Uint8Array {
  const { x, y, w, h, flip } = view;
  if (rgba.length !== C * C * 4)
    throw new RangeError(`the cache image has ${rgba.length} bytes, a ${C}×${C} RGBA image has ${C * C * 4}`);
  checkOut(out, S);
  if (!(w >= 1 && h >= 1 && x >= 0 && y >= 0 && x + w <= C && y + h <= C) || ![x, y, w, h].every(Number.isInteger)) {
    throw new RangeError(`view (x ${x}, y ${y}, ${w}×${h}) is not inside the ${C}×${C} image`);
  }
  return bilinear(rgba, C, axisTaps(x, w, S, w / S, 0, flip), axisTaps(y, h, S, h / S, 0, false), out);
}

/**
 * torchvision's Resize(C) + CenterCrop(C) of a width × height RGBA image: the shorter side
 * resized to C (the longer to int(C·long/short)), bilinear, and the centre C×C kept.
 *   rgba: [height, width, 4] uint8    out: [C, C, 4] uint8, alpha 255
 * Bilinear without antialiasing: exact for enlarging; shrinking by much needs a filter that
 * looks at every source pixel (the decoders shrink before they call this).
 */
export function resizeCover(
  rgba: Uint8Array,
  width: number,
  height: number,
  C: number,
  out: Uint8Array = new Uint8Array(C * C * 4),
): Uint8Array {
  if (!(width >= 1 && height >= 1) || rgba.length !== width * height * 4) {
    throw new RangeError(`a ${width}×${height} RGBA image has ${width * height * 4} bytes, got ${rgba.length}`);
  }
  checkOut(out, C);
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const resizedLong = Math.floor((C * long) / short);
  const [W, H] = width <= height ? [C, resizedLong] : [resizedLong, C];
  const cols = axisTaps(0, width, C, width / W, roundHalfEven((W - C) / 2), false);
  const rows = axisTaps(0, height, C, height / H, roundHalfEven((H - C) / 2), false);
  return bilinear(rgba, width, cols, rows, out);
}
