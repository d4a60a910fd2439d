// A decoding worker (one of the pool in decode-browser.ts): image file bytes in, a C×C RGBA square
// out. The browser decodes (PNG, JPEG, WebP, BMP, GIF's first frame; grayscale comes out as R=G=B,
// and a photo's EXIF orientation is applied); the square is the centre of the image scaled so its
// shorter side is C, the cached form that augmentation crops and flips later. An image that is
// enlarged (MNIST's 28 px to a cache of 32, say) is enlarged by resizeCover, as in Node, so the page
// and the command line train on the same pixels; a shrunk one by the canvas. The header is read
// first, so that an image too large to hold is refused before its pixels are allocated.
import { resizeCover } from './augment.ts';
import { imageFormat, NO_SIGNATURE } from './image-signature.ts';
import { errorMessage } from '../gpu/error-message.ts';

export interface DecodeRequest {
  id: number;
  blob: Blob;
  /** C: the side of the square. */
  size: number;
  maxPixels: number;
}

/** `pixels` is [C, C, 4] RGBA, row-major; `reason` says in words why the file cannot be used. */
export type DecodeReply = { id: number; pixels: Uint8Array } | { id: number; reason: string };

interface Header {
  format: string;
  width?: number;
  height?: number;
}

/** Enough of a file for every signature and fixed-offset header below, and for the JPEG segment
 *  headers that usually precede its frame header; kept small, as it is read for every image. */
const WINDOW = 4096;

const bytesAt = async (blob: Blob, offset: number, length: number) =>
  new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** The format from the file's signature, and its dimensions where the header states them. */
async function readHeader(blob: Blob): Promise<Header | undefined> {
  const b = await bytesAt(blob, 0, WINDOW);
  const format = imageFormat(b);
  if (!format) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const has = (n: number) => b.length >= n;
  switch (format) {
    case 'PNG':
      return has(24) && ascii(b, 12, 4) === 'IHDR'
        ? { format, width: v.getUint32(16), height: v.getUint32(20) }
        : { format };
    case 'JPEG':
      return { format, ...(await jpegSize(blob, b)) };
    case 'GIF':
      return has(10) ? { format, width: v.getUint16(6, true), height: v.getUint16(8, true) } : { format };
    case 'BMP':
      // A 12-byte OS/2 header holds 16-bit sizes; the others 32-bit, the height negative when top-down.
      if (!has(26)) return { format };
      return v.getUint32(14, true) === 12
        ? { format, width: v.getUint16(18, true), height: v.getUint16(20, true) }
        : { format, width: Math.abs(v.getInt32(18, true)), height: Math.abs(v.getInt32(22, true)) };
    case 'WebP':
      return { format, ...webpSize(b, v) };
  }
}

function webpSize(b: Uint8Array, v: DataView): { width: number; height: number } | undefined {
  if (b.length < 30) return undefined;
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X')
    return { width: 1 + (v.getUint32(24, true) & 0xffffff), height: 1 + (v.getUint32(27, true) & 0xffffff) };
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = v.getUint32(21, true);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return { width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
  }
  return undefined;
}

/** A JPEG's size is in its start-of-frame segment, after the APPn segments (EXIF, ICC profiles)
 *  whose lengths are walked; past the first window, the next is read where the walk lands, so the
 *  bodies of large segments are never read. */
async function jpegSize(blob: Blob, first: Uint8Array): Promise<{ width: number; height: number } | undefined> {
  let b = first;
  let start = 0;
  for (let at = 2; ;) {
    if (at + 9 > start + b.length) {
      if (at >= blob.size) return undefined;
      start = at;
      b = await bytesAt(blob, at, WINDOW);
      if (b.length < 9) return undefined;
    }
    const p = at - start;
    if (b[p] !== 0xff) return undefined;
    const marker = b[p + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (b[p + 5] << 8) | b[p + 6], width: (b[p + 7] << 8) | b[p + 8] };
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // image data before any frame header
    at += marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8) ? 2 : 2 + ((b[p + 2] << 8) | b[p + 3]);
  }
}

const amount = (n: number) => (n >= 1e6 ? `${Math.round(n / 1e5) / 10} megapixels` : `${n} pixels`);

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new Error(`${width} × ${height} pixels (${amount(width * height)}), over the limit of ${amount(maxPixels)}`);
  }
}

let canvas: OffscreenCanvas | undefined;
let context: OffscreenCanvasRenderingContext2D;

/** A 2D context of at least width × height, read back after every image (so kept in memory, not on a GPU). */
function canvasOf(width: number, height: number): OffscreenCanvasRenderingContext2D {
  if (!canvas || canvas.width < width || canvas.height < height) {
    canvas = new OffscreenCanvas(Math.max(width, canvas?.width ?? 0), Math.max(height, canvas?.height ?? 0));
    context = canvas.getContext('2d', { willReadFrequently: true })!;
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
  }
  context.clearRect(0, 0, width, height);
  return context;
}

/** The centre square of the bitmap, scaled to size × size, as RGBA bytes. */
function centreSquare(bitmap: ImageBitmap, size: number): Uint8Array {
  const { width, height } = bitmap;
  if (Math.min(width, height) <= size) {
    const c = canvasOf(width, height);
    c.drawImage(bitmap, 0, 0);
    return resizeCover(new Uint8Array(c.getImageData(0, 0, width, height).data.buffer), width, height, size);
  }
  const side = Math.min(width, height);
  const c = canvasOf(size, size);
  c.drawImage(bitmap, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
  return new Uint8Array(c.getImageData(0, 0, size, size).data.buffer);
}

async function decode({ blob, size, maxPixels }: DecodeRequest): Promise<Uint8Array> {
  const header = await readHeader(blob);
  if (header?.width !== undefined && header.height !== undefined) checkPixels(header.width, header.height, maxPixels);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch (e) {
    const detail = errorMessage(e);
    throw new Error(
      header
        ? `damaged or unsupported ${header.format} file (${detail})`
        : `not an image (${NO_SIGNATURE}, and the browser cannot decode it)`,
      { cause: e },
    );
  }
  try {
    // Also for headers that were not read or that understate the size.
    checkPixels(bitmap.width, bitmap.height, maxPixels);
    return centreSquare(bitmap, size);
  } finally {
    bitmap.close();
  }
}

addEventListener('message', async (event: MessageEvent<DecodeRequest>) => {
  const { id } = event.data;
  try {
    const pixels = await decode(event.data);
    postMessage({ id, pixels } satisfies DecodeReply, { transfer: [pixels.buffer] });
  } catch (e) {
    postMessage({ id, reason: errorMessage(e) } satisfies DecodeReply);
  }
});
