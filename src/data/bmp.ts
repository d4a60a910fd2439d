// Windows BMP files, which sharp does not read: uncompressed 24- and 32-bit pixels (BI_RGB, or
// BI_BITFIELDS masks, 16-bit too) and 1/4/8-bit palettes, bottom-up or top-down rows, each row
// padded to 4 bytes. RLE-compressed and embedded JPEG/PNG BMPs are refused. Plain TypeScript.
//   file header (14 bytes): 'BM', file size, reserved, offset of the pixels
//   info header: its size (12: OS/2 core; 40, 52, 56, 108, 124: Windows), width, height
//   (negative: top-down), planes, bits per pixel, compression, ..., colours used

export class BmpError extends Error {
  override name = 'BmpError';
}

export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
}

interface Layout extends BmpHeader {
  topDown: boolean;
  dataOffset: number;
  /** Channel masks (R, G, B) for 16/24/32-bit pixels. */
  masks: [number, number, number];
  /** BGR(x) entries of 1/4/8-bit images. */
  palette: Uint8Array;
  paletteStride: number;
  paletteCount: number;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG' };

/** Whether the bytes start like a BMP file. */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d; // 'BM'
}

function layout(bytes: Uint8Array): Layout {
  if (!isBmp(bytes)) throw new BmpError("not a BMP file (no 'BM' signature)");
  if (bytes.length < 26) throw new BmpError(`truncated header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const infoSize = view.getUint32(14, true);
  const core = infoSize === 12;
  if (!core && infoSize < 40) throw new BmpError(`unknown info header of ${infoSize} bytes`);
  if (bytes.length < 14 + infoSize) throw new BmpError(`truncated header (${bytes.length} bytes)`);
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getUint16(20, true) : view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(core ? 24 : 28, true);
  const compression = core ? BI_RGB : view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  if (width <= 0 || height <= 0) throw new BmpError(`${width}×${rawHeight} pixels`);

  let masks: [number, number, number];
  let afterMasks = 14 + infoSize;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (![16, 32].includes(bitsPerPixel)) throw new BmpError(`bit-field masks on ${bitsPerPixel}-bit pixels`);
    // Version 1 headers keep the masks after the header; later versions inside it, at the same place.
    if (infoSize === 40) afterMasks += compression === BI_ALPHABITFIELDS ? 16 : 12;
    if (bytes.length < 66) throw new BmpError(`truncated header (${bytes.length} bytes)`);
    masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)];
  } else if (compression === BI_RGB) {
    masks = bitsPerPixel === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff];
  } else {
    throw new BmpError(
      `${COMPRESSION_NAMES[compression] ?? `compression ${compression}`} BMPs are not supported, only uncompressed ones`,
    );
  }
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel))
    throw new BmpError(`${bitsPerPixel} bits per pixel is not supported`);

  const paletteStride = core ? 3 : 4;
  let paletteCount = 0;
  if (bitsPerPixel <= 8) {
    const used = core ? 0 : view.getUint32(46, true);
    paletteCount = used > 0 && used <= 1 << bitsPerPixel ? used : 1 << bitsPerPixel;
    // Some writers declare more colours than fit before the pixels: keep those that do.
    paletteCount = Math.min(paletteCount, Math.floor((dataOffset - afterMasks) / paletteStride));
    if (paletteCount <= 0) throw new BmpError('the palette is missing');
  }
  const palette = bytes.subarray(afterMasks, afterMasks + paletteCount * paletteStride);
  return {
    width,
    height,
    bitsPerPixel,
    topDown: rawHeight < 0,
    dataOffset,
    masks,
    palette,
    paletteStride,
    paletteCount,
  };
}

/** Size and depth from the header alone, so a huge image can be refused before any pixel is read. */
export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  const { width, height, bitsPerPixel } = layout(bytes);
  return { width, height, bitsPerPixel };
}

/** A channel of a packed pixel scaled to 0..255, for any contiguous mask. */
function channelReader(mask: number): (pixel: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return max === 255 ? (p) => (p >>> shift) & 255 : (p) => Math.round((((p & mask) >>> shift) * 255) / max);
}

/** The pixels as [height, width, 4] RGBA, top row first, alpha 255. */
export function decodeBmp(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const l = layout(bytes);
  const { width, height, bitsPerPixel: bpp } = l;
  const stride = Math.ceil((width * bpp) / 32) * 4;
  const need = l.dataOffset + stride * height;
  if (bytes.length < need)
    throw new BmpError(`truncated: ${width}×${height} pixels need ${need} bytes, the file has ${bytes.length}`);
  const [red, green, blue] = l.masks.map(channelReader);
  const rgba = new Uint8Array(width * height * 4);
  for (let row = 0; row < height; row++) {
    const src = l.dataOffset + stride * (l.topDown ? row : height - 1 - row);
    let o = row * width * 4;
    for (let x = 0; x < width; x++, o += 4) {
      if (bpp <= 8) {
        const bit = x * bpp;
        const index = (bytes[src + (bit >>> 3)] >>> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const p = Math.min(index, l.paletteCount - 1) * l.paletteStride;
        rgba[o] = l.palette[p + 2];
        rgba[o + 1] = l.palette[p + 1];
        rgba[o + 2] = l.palette[p];
      } else {
        const at = src + x * (bpp >>> 3);
        let pixel = bytes[at] | (bytes[at + 1] << 8);
        if (bpp >= 24) pixel |= bytes[at + 2] << 16;
        if (bpp === 32) pixel |= bytes[at + 3] << 24;
        rgba[o] = red(pixel);
        rgba[o + 1] = green(pixel);
        rgba[o + 2] = blue(pixel);
      }
      rgba[o + 3] = 255;
    }
  }
  return { width, height, rgba };
}
