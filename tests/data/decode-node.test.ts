// Decoding with sharp into C×C RGBA cache images: every accepted format from real files (BMP
// written byte by byte), the resize-and-centre-crop, grayscale and alpha, EXIF orientation, and
// the refusals: huge images from their header alone, truncated, empty, non-image and foreign formats.
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { BmpError, decodeBmp, readBmpHeader } from '../../src/data/bmp.ts';
import { decodeToCache, MAX_PIXELS, nodeDecoder } from '../../src/data/decode-node.ts';
import { DatasetError } from '../../src/data/entries.ts';
import { seededRng } from '../../src/nn/rng.ts';
import { memoryEntry } from './fixtures.ts';

type Rgb = [number, number, number];

/** An image file from raw pixels ([h, w, channels] uint8). */
async function encode(
  raw: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  to: (s: Sharp) => Sharp,
) {
  return new Uint8Array(await to(sharp(raw, { raw: { width, height, channels } })).toBuffer());
}

function solid(width: number, height: number, [r, g, b]: Rgb): Uint8Array {
  const raw = new Uint8Array(width * height * 3);
  for (let i = 0; i < raw.length; i += 3) raw.set([r, g, b], i);
  return raw;
}

/** Three equal bands across the longer side: red, green, blue. */
function bands(width: number, height: number): Uint8Array {
  const raw = new Uint8Array(width * height * 3);
  const colours: Rgb[] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const band = width >= height ? Math.floor((3 * x) / width) : Math.floor((3 * y) / height);
      raw.set(colours[band], (y * width + x) * 3);
    }
  }
  return raw;
}

const pixel = (rgba: Uint8Array, C: number, x: number, y: number) => [
  ...rgba.subarray((y * C + x) * 4, (y * C + x) * 4 + 4),
];

function expectAll(rgba: Uint8Array, [r, g, b]: Rgb, tolerance = 0) {
  for (let i = 0; i < rgba.length; i += 4) {
    const got = [rgba[i], rgba[i + 1], rgba[i + 2]];
    if (got.some((v, c) => Math.abs(v - [r, g, b][c]) > tolerance) || rgba[i + 3] !== 255) {
      throw new Error(`pixel ${i / 4} is [${[...rgba.subarray(i, i + 4)]}], expected about [${r},${g},${b},255]`);
    }
  }
}

/** A BMP file, byte by byte. rows: the unpadded bytes of each row, top row first; none gives
 *  the headers alone. */
function bmpFile(o: {
  width: number;
  height: number;
  bpp: number;
  rows: number[][];
  topDown?: boolean;
  core?: boolean;
  compression?: number;
  masks?: number[];
  palette?: Rgb[];
}): Uint8Array {
  const infoSize = o.core ? 12 : 40;
  const paletteBytes = (o.palette ?? []).flatMap(([r, g, b]) => (o.core ? [b, g, r] : [b, g, r, 0]));
  const maskBytes = (o.masks ?? []).flatMap((m) => [m & 255, (m >>> 8) & 255, (m >>> 16) & 255, m >>> 24]);
  const dataOffset = 14 + infoSize + maskBytes.length + paletteBytes.length;
  const stride = Math.ceil((o.width * o.bpp) / 32) * 4;
  const out = new Uint8Array(dataOffset + (o.rows.length > 0 ? stride * o.height : 0));
  const v = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  v.setUint32(2, out.length, true);
  v.setUint32(10, dataOffset, true);
  v.setUint32(14, infoSize, true);
  if (o.core) {
    v.setUint16(18, o.width, true);
    v.setUint16(20, o.height, true);
    v.setUint16(22, 1, true);
    v.setUint16(24, o.bpp, true);
  } else {
    v.setInt32(18, o.width, true);
    v.setInt32(22, o.topDown ? -o.height : o.height, true);
    v.setUint16(26, 1, true);
    v.setUint16(28, o.bpp, true);
    v.setUint32(30, o.compression ?? 0, true);
    v.setUint32(46, o.palette?.length ?? 0, true);
  }
  out.set(maskBytes, 14 + infoSize);
  out.set(paletteBytes, 14 + infoSize + maskBytes.length);
  o.rows.forEach((row, y) => out.set(row, dataOffset + stride * (o.topDown ? y : o.height - 1 - y)));
  return out;
}

/** A PNG of width × height whose IHDR says so, with almost no pixel data behind it. */
function pngHeader(width: number, height: number): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    v.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 2], 8); // 8-bit RGB
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(new Uint8Array(64))),
    chunk('IEND', new Uint8Array()),
  ];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

async function refusal(bytes: Uint8Array, what = 'cats/x.png', C = 8): Promise<string> {
  const error = await decodeToCache(bytes, C, what).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatasetError);
  return (error as DatasetError).message;
}

describe('decodeToCache: formats', () => {
  it('PNG: resizes the shorter side to C and keeps the centre C×C, exactly when no scaling is needed', async () => {
    const wide = await encode(bands(60, 20), 60, 20, 3, (s) => s.png());
    expectAll(await decodeToCache(wide, 20, 'wide.png'), [0, 255, 0]);
    const tall = await encode(bands(20, 60), 20, 60, 3, (s) => s.png());
    expectAll(await decodeToCache(tall, 20, 'tall.png'), [0, 255, 0]);
    // Same size: the pixels themselves.
    const r = seededRng(3);
    const raw = Uint8Array.from({ length: 9 * 9 * 3 }, () => Math.floor(r() * 256));
    const got = await decodeToCache(await encode(raw, 9, 9, 3, (s) => s.png()), 9, 'noise.png');
    for (let i = 0; i < 81; i++)
      expect([...got.subarray(4 * i, 4 * i + 4)]).toEqual([...raw.subarray(3 * i, 3 * i + 3), 255]);
  });

  it('PNG: enlarges a small image and shrinks a large one', async () => {
    const small = await decodeToCache(await encode(bands(6, 2), 6, 2, 3, (s) => s.png()), 16, 'small.png');
    expect(small.length).toBe(16 * 16 * 4);
    expect(pixel(small, 16, 8, 8)).toEqual([0, 255, 0, 255]);
    const large = await decodeToCache(await encode(bands(600, 200), 600, 200, 3, (s) => s.png()), 32, 'large.png');
    expect(large.length).toBe(32 * 32 * 4);
    for (const [x, y] of [
      [16, 16],
      [2, 2],
      [29, 30],
    ])
      expect(pixel(large, 32, x, y)).toEqual([0, 255, 0, 255]);
    // A large JPEG, shrunk while it is decoded.
    const photo = await decodeToCache(
      await encode(solid(640, 480, [30, 140, 220]), 640, 480, 3, (s) => s.jpeg()),
      32,
      'photo.jpg',
    );
    expectAll(photo, [30, 140, 220], 3);
  });

  it('JPEG, WebP and the first frame of a GIF', async () => {
    const colour: Rgb = [200, 40, 90];
    expectAll(
      await decodeToCache(await encode(solid(12, 10, colour), 12, 10, 3, (s) => s.jpeg({ quality: 95 })), 8, 'a.jpg'),
      colour,
      3,
    );
    expectAll(
      await decodeToCache(
        await encode(solid(12, 10, colour), 12, 10, 3, (s) => s.webp({ lossless: true })),
        8,
        'a.webp',
      ),
      colour,
    );
    // Two frames of 6×4 stacked: red, then blue.
    const frames = new Uint8Array([...solid(6, 4, [200, 0, 0]), ...solid(6, 4, [0, 0, 200])]);
    const gif = new Uint8Array(
      await sharp(frames, { raw: { width: 6, height: 8, channels: 3, pageHeight: 4 } })
        .gif()
        .toBuffer(),
    );
    expect((await sharp(gif).metadata()).pages).toBe(2);
    expectAll(await decodeToCache(gif, 4, 'a.gif'), [200, 0, 0]);
  });

  it('grayscale to RGB, 16-bit to 8-bit, alpha to 255 with the colour kept', async () => {
    const grey = await encode(Uint8Array.from([0, 50, 100, 150]), 2, 2, 1, (s) => s.toColourspace('b-w').png());
    expect(grey[25]).toBe(0); // IHDR colour type 0: grayscale
    const g = await decodeToCache(grey, 2, 'grey.png');
    expect([...g]).toEqual([0, 0, 0, 255, 50, 50, 50, 255, 100, 100, 100, 255, 150, 150, 150, 255]);

    const deep = await encode(solid(3, 3, [10, 100, 250]), 3, 3, 3, (s) => s.toColourspace('rgb16').png());
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    expectAll(await decodeToCache(deep, 3, 'deep.png'), [10, 100, 250]);

    const rgba = Uint8Array.from([10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255, 1, 2, 3, 7]);
    const a = await decodeToCache(await encode(rgba, 2, 2, 4, (s) => s.png()), 2, 'alpha.png');
    expect([...a]).toEqual([10, 20, 30, 255, 40, 50, 60, 255, 70, 80, 90, 255, 1, 2, 3, 255]);
  });

  it('applies EXIF orientation, as browsers do', async () => {
    // 40×20, left half red, right half blue, stored with orientation 6 (shown turned 90° clockwise):
    // shown 20×40 with red on top, so the centre 20×20 is red above blue.
    const raw = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++)
      for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    const jpeg = await encode(raw, 40, 20, 3, (s) => s.jpeg({ quality: 95 }).withMetadata({ orientation: 6 }));
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const got = await decodeToCache(jpeg, 20, 'turned.jpg');
    const near = (p: number[], q: Rgb) => p.slice(0, 3).every((v, c) => Math.abs(v - q[c]) <= 8);
    expect(near(pixel(got, 20, 2, 2), [255, 0, 0]) && near(pixel(got, 20, 17, 2), [255, 0, 0])).toBe(true);
    expect(near(pixel(got, 20, 2, 17), [0, 0, 255]) && near(pixel(got, 20, 17, 17), [0, 0, 255])).toBe(true);
  });

  it('reads an entry through the Node decoder', async () => {
    const decode = nodeDecoder(8);
    const entry = memoryEntry('cats/a.png', await encode(solid(8, 8, [1, 2, 3]), 8, 8, 3, (s) => s.png()));
    expectAll(await decode(entry), [1, 2, 3]);
    await expect(decode(memoryEntry('cats/b.png', new TextEncoder().encode('nope')))).rejects.toThrow(
      "'cats/b.png': not a decodable image",
    );
  });
});

describe('BMP', () => {
  const px: Rgb[][] = [
    [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ],
    [
      [10, 20, 30],
      [40, 50, 60],
      [70, 80, 90],
    ],
  ];
  const expected = px.flat().flatMap((p) => [...p, 255]);
  const bgr = (row: Rgb[]) => row.flatMap(([r, g, b]) => [b, g, r]);

  it('24-bit bottom-up with padded rows, 32-bit top-down, OS/2 core header', () => {
    const b24 = bmpFile({ width: 3, height: 2, bpp: 24, rows: px.map(bgr) });
    expect(readBmpHeader(b24)).toEqual({ width: 3, height: 2, bitsPerPixel: 24 });
    expect([...decodeBmp(b24).rgba]).toEqual(expected);
    const b32 = bmpFile({
      width: 3,
      height: 2,
      bpp: 32,
      topDown: true,
      rows: px.map((row) => row.flatMap(([r, g, b]) => [b, g, r, 0])),
    });
    expect([...decodeBmp(b32).rgba]).toEqual(expected);
    const core = bmpFile({ width: 3, height: 2, bpp: 24, core: true, rows: px.map(bgr) });
    expect([...decodeBmp(core).rgba]).toEqual(expected);
  });

  it('32-bit and 16-bit bit-field masks, 8-bit and 1-bit palettes', () => {
    // 32-bit with the channels in an unusual order: R in the low byte.
    const b32 = bmpFile({
      width: 3,
      height: 2,
      bpp: 32,
      compression: 3,
      masks: [0x000000ff, 0x0000ff00, 0x00ff0000],
      rows: px.map((row) => row.flatMap(([r, g, b]) => [r, g, b, 0])),
    });
    expect([...decodeBmp(b32).rgba]).toEqual(expected);
    // 16-bit 5-6-5: full-scale values only, which map exactly to 0 and 255.
    const rgb565 = (r: number, g: number, b: number) => ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3);
    const word = (v: number) => [v & 255, v >> 8];
    const b16 = bmpFile({
      width: 2,
      height: 1,
      bpp: 16,
      compression: 3,
      masks: [0xf800, 0x07e0, 0x001f],
      rows: [[...word(rgb565(255, 0, 255)), ...word(rgb565(0, 255, 0))]],
    });
    expect([...decodeBmp(b16).rgba]).toEqual([255, 0, 255, 255, 0, 255, 0, 255]);
    const palette: Rgb[] = [
      [0, 0, 0],
      [9, 99, 199],
      [255, 255, 255],
    ];
    const b8 = bmpFile({ width: 3, height: 1, bpp: 8, palette, rows: [[2, 1, 0]] });
    expect([...decodeBmp(b8).rgba]).toEqual([255, 255, 255, 255, 9, 99, 199, 255, 0, 0, 0, 255]);
    const b1 = bmpFile({
      width: 10,
      height: 1,
      bpp: 1,
      palette: [
        [0, 0, 0],
        [255, 255, 255],
      ],
      rows: [[0b10100000, 0b01000000]],
    });
    expect([...decodeBmp(b1).rgba].filter((_, i) => i % 4 === 0)).toEqual([255, 0, 255, 0, 0, 0, 0, 0, 0, 255]);
  });

  it('through decodeToCache, like any other format', async () => {
    const b24 = bmpFile({ width: 3, height: 2, bpp: 24, rows: px.map(bgr) });
    const got = await decodeToCache(b24, 2, 'a.bmp');
    expect(got.length).toBe(16);
    expect(got.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
    const square = bmpFile({ width: 2, height: 2, bpp: 24, rows: [bgr(px[0].slice(0, 2)), bgr(px[1].slice(0, 2))] });
    expect([...(await decodeToCache(square, 2, 'b.bmp'))]).toEqual([
      255, 0, 0, 255, 0, 255, 0, 255, 10, 20, 30, 255, 40, 50, 60, 255,
    ]);
  });

  it('a BMP larger than the cache size is shrunk by sharp', async () => {
    const rows = Array.from({ length: 20 }, () =>
      Array.from(
        { length: 60 },
        (_, x) =>
          [
            [0, 0, 255],
            [0, 255, 0],
            [255, 0, 0],
          ][Math.floor(x / 20)],
      ).flat(),
    );
    const wide = bmpFile({ width: 60, height: 20, bpp: 24, rows });
    const got = await decodeToCache(wide, 10, 'wide.bmp');
    expect(got.length).toBe(400);
    for (const [x, y] of [
      [2, 2],
      [7, 7],
      [5, 0],
    ])
      expect(pixel(got, 10, x, y)).toEqual([0, 255, 0, 255]);
  });

  it('refuses RLE, truncated pixel data and nonsense headers', async () => {
    const rle = bmpFile({
      width: 2,
      height: 2,
      bpp: 8,
      compression: 1,
      palette: [[0, 0, 0]],
      rows: [
        [0, 0],
        [0, 0],
      ],
    });
    expect(() => decodeBmp(rle)).toThrow(new BmpError('RLE8 BMPs are not supported, only uncompressed ones'));
    expect(await refusal(rle, 'a.bmp')).toBe(
      "'a.bmp': not a decodable image (BMP: RLE8 BMPs are not supported, only uncompressed ones)",
    );
    const b24 = bmpFile({ width: 3, height: 2, bpp: 24, rows: px.map(bgr) });
    expect(await refusal(b24.subarray(0, b24.length - 5), 'a.bmp')).toBe(
      "'a.bmp': not a decodable image (BMP: truncated: 3×2 pixels need 78 bytes, the file has 73)",
    );
    expect(await refusal(b24.subarray(0, 20), 'a.bmp')).toMatch(
      /^'a.bmp': not a decodable image \(BMP: truncated header/,
    );
  });
});

describe('decodeToCache: refusals', () => {
  it('refuses a 20,000 × 20,000 PNG from its header, without decoding', async () => {
    const header = pngHeader(20000, 20000);
    expect(header.length).toBeLessThan(200);
    expect((await sharp(header, { limitInputPixels: false }).metadata()).width).toBe(20000);
    const start = performance.now();
    expect(await refusal(header, 'big.png')).toBe("'big.png': 20000×20000 pixels is over the 100-megapixel limit");
    console.log(`20,000×20,000 PNG header refused in ${(performance.now() - start).toFixed(1)} ms`);
    expect(MAX_PIXELS).toBe(100_000_000);
  });

  it('refuses a huge BMP from its header, and honours a lower limit', async () => {
    const header = bmpFile({ width: 20000, height: 20000, bpp: 24, rows: [] });
    expect(await refusal(header, 'big.bmp')).toBe("'big.bmp': 20000×20000 pixels is over the 100-megapixel limit");
    const png = await encode(solid(64, 64, [1, 2, 3]), 64, 64, 3, (s) => s.png());
    await expect(decodeToCache(png, 8, 'x.png', 1000)).rejects.toThrow(
      new DatasetError("'x.png': 64×64 pixels is over the 0.001-megapixel limit"),
    );
  });

  it('refuses truncated, empty and non-image bytes, naming the file', async () => {
    const r = seededRng(5);
    const noise = Uint8Array.from({ length: 64 * 64 * 3 }, () => Math.floor(r() * 256));
    const png = await encode(noise, 64, 64, 3, (s) => s.png());
    const jpeg = await encode(noise, 64, 64, 3, (s) => s.jpeg());
    const undecodable = /^'cats\/x.png': not a decodable image \(.+\)$/;
    expect(await refusal(png.subarray(0, png.length - 20))).toMatch(undecodable);
    expect(await refusal(png.subarray(0, png.length >> 1))).toMatch(undecodable);
    expect(await refusal(png.subarray(0, 30))).toMatch(undecodable);
    expect(await refusal(jpeg.subarray(0, jpeg.length >> 1))).toMatch(undecodable);
    expect(await refusal(new Uint8Array())).toBe("'cats/x.png': not a decodable image (empty file)");
    expect(await refusal(new TextEncoder().encode('hello, this is text'))).toBe(
      "'cats/x.png': not a decodable image (Input buffer contains unsupported image format)",
    );
  });

  it('refuses formats that sharp reads but the browser does not (TIFF, SVG)', async () => {
    const tiff = await encode(solid(4, 4, [1, 2, 3]), 4, 4, 3, (s) => s.tiff());
    expect(await refusal(tiff)).toBe(
      "'cats/x.png': not a decodable image (TIFF is not one of PNG, JPEG, WebP, GIF, BMP)",
    );
    const svg = new TextEncoder().encode(
      '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>',
    );
    expect(await refusal(svg)).toBe(
      "'cats/x.png': not a decodable image (SVG is not one of PNG, JPEG, WebP, GIF, BMP)",
    );
  });
});
