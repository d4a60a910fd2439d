// Decoding in Node with sharp (libvips): an image file's bytes to the square C×C RGBA cache image
// that augment.ts crops from. The shorter side is resized to C and the centre C×C kept, as
// torchvision's Resize(C) + CenterCrop(C): libvips shrinks (bilinear with antialiasing), resizeCover
// enlarges (plain bilinear). Grayscale becomes RGB and alpha becomes 255, as PIL's convert('RGB')
// does for torchvision. EXIF orientation is applied, as browsers do when they decode.
// PNG, JPEG, WebP and GIF (first frame) go through sharp, BMP through bmp.ts; anything else that
// sharp could read (TIFF, SVG, HEIF...) is refused, so Node and the browser take the same files.
import sharp, { type Metadata, type Sharp } from 'sharp';
import { resizeCover } from './augment.ts';
import { decodeBmp, isBmp, readBmpHeader } from './bmp.ts';
import { DatasetError, type DataEntry } from './entries.ts';
import { errorMessage } from '../gpu/error-message.ts';

/** Images above this many pixels are refused from their header, before any pixel is decoded. */
export const MAX_PIXELS = 100_000_000;

const SHARP_FORMATS: Record<string, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP', gif: 'GIF' };

const cleanMessage = (e: unknown) => errorMessage(e).replace(/[:\s]+$/, '');

function notDecodable(what: string, why: string): DatasetError {
  return new DatasetError(`'${what}': not a decodable image (${why})`);
}

function checkPixels(what: string, width: number, height: number, maxPixels: number) {
  if (width * height > maxPixels) {
    throw new DatasetError(`'${what}': ${width}×${height} pixels is over the ${maxPixels / 1e6}-megapixel limit`);
  }
}

/** An image whose header passed: format and size are checked before any pixel is decoded. A BMP
 *  is decoded here, to RGBA; the other formats stay bytes for sharp. */
interface Opened {
  width: number;
  height: number;
  input: { sharp: Sharp } | { rgba: Uint8Array };
}

async function open(bytes: Uint8Array, what: string, maxPixels: number): Promise<Opened> {
  if (bytes.length === 0) throw notDecodable(what, 'empty file');
  if (isBmp(bytes)) {
    try {
      const { width, height } = readBmpHeader(bytes);
      checkPixels(what, width, height, maxPixels);
      return { width, height, input: { rgba: decodeBmp(bytes).rgba } };
    } catch (e) {
      throw e instanceof DatasetError ? e : notDecodable(what, `BMP: ${cleanMessage(e)}`);
    }
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw notDecodable(what, cleanMessage(e));
  }
  const name = SHARP_FORMATS[meta.format ?? ''];
  if (!name)
    throw notDecodable(what, `${(meta.format ?? 'unknown').toUpperCase()} is not one of PNG, JPEG, WebP, GIF, BMP`);
  // For an animated GIF or WebP, `height` is that of one frame: only the first one is decoded.
  checkPixels(what, meta.width, meta.height, maxPixels);
  const image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning', autoOrient: true });
  return { width: meta.width, height: meta.height, input: { sharp: image } };
}

/** sharp's pixels as [height, width, 4] RGBA, alpha 255; shrunk to the C×C cache image on the
 *  way when `shrink` (libvips filters every source pixel, and shrinks JPEGs while decoding). */
async function sharpPixels(image: Sharp, shrink: boolean, C: number) {
  const resized = shrink
    ? image.removeAlpha().resize(C, C, { fit: 'cover', position: 'centre', kernel: 'linear' })
    : image.removeAlpha();
  const { data, info } = await resized
    .toColourspace('srgb')
    .ensureAlpha(1)
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (data.length !== info.width * info.height * 4)
    throw new Error(`decoded to ${data.length} bytes, not ${info.width}×${info.height} RGBA`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/**
 * An image file's bytes as its C×C cache image: [C, C, 4] RGBA uint8, alpha 255.
 * Throws DatasetError "'what': not a decodable image (…)" for corrupt, truncated, empty or
 * non-image bytes, and "'what': W×H pixels is over the N-megapixel limit" for huge images.
 * Images to be shrunk are resized by libvips; images to be enlarged (shorter side C or less:
 * MNIST's 28×28, say) are decoded as they are and enlarged by resizeCover, about twice as fast
 * as libvips here and the same bilinear as torchvision's.
 */
export async function decodeToCache(
  bytes: Uint8Array,
  C: number,
  what: string,
  maxPixels = MAX_PIXELS,
): Promise<Uint8Array> {
  if (!Number.isInteger(C) || C < 1) throw new RangeError(`the cache size must be a whole number of pixels, got ${C}`);
  const { width, height, input } = await open(bytes, what, maxPixels);
  const shrink = Math.min(width, height) > C;
  let pixels: { data: Uint8Array; width: number; height: number };
  try {
    if ('rgba' in input && !shrink) pixels = { data: input.rgba, width, height };
    else {
      const image = 'sharp' in input ? input.sharp : sharp(input.rgba, { raw: { width, height, channels: 4 } });
      pixels = await sharpPixels(image, shrink, C);
    }
  } catch (e) {
    throw notDecodable(what, cleanMessage(e));
  }
  if (!shrink) return resizeCover(pixels.data, pixels.width, pixels.height, C);
  if (pixels.width !== C || pixels.height !== C)
    throw notDecodable(what, `resized to ${pixels.width}×${pixels.height}, not ${C}×${C}`);
  // A copy of its own: a Buffer may sit at any offset of a shared pool.
  return pixels.data.slice();
}

/** The batcher's decode function for Node: reads the entry and decodes it at cache size C. */
export function nodeDecoder(C: number, maxPixels = MAX_PIXELS): (entry: DataEntry) => Promise<Uint8Array> {
  return async (entry) => decodeToCache(await entry.read(), C, entry.path, maxPixels);
}
