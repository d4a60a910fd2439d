// Dataset sources and decoding in headless Chromium: a generated folder tree picked with a folder
// picker, its zip dropped through CDP drag events, the folder walk of a drop on a synthetic entry tree
// (a folder dropped through CDP arrives empty in headless Chromium), and the decoding workers on
// every format, on bad files and on 20,000 images streamed through the batcher with the page's
// memory measured.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatcherStats } from '../../src/data/batcher.ts';
import { makeFolder, makeZip, removeTempDirs, tempDir, type Files } from '../data/fixtures.ts';
import { openPage } from '../helpers/browser.ts';

afterAll(removeTempDirs);

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A width × height RGB image, pixel (x, y) coloured by `colour`. */
function raw(width: number, height: number, colour: (x: number, y: number) => [number, number, number]) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * 3);
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/** Vertical thirds red | green | blue (horizontal thirds when taller than wide). */
const thirds = (width: number, height: number) =>
  raw(width, height, (x, y) => {
    const t = width >= height ? Math.floor((3 * x) / width) : Math.floor((3 * y) / height);
    return [t === 0 ? 255 : 0, t === 1 ? 255 : 0, t === 2 ? 255 : 0];
  });

/** An uncompressed 24-bit BMP (sharp writes none), rows bottom-up and padded to 4 bytes. */
async function bmp(image: ReturnType<typeof sharp>): Promise<Uint8Array> {
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  const stride = Math.ceil((info.width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * info.height);
  out.write('BM', 0, 'ascii');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(info.width, 18);
  out.writeInt32LE(info.height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(stride * info.height, 34);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const src = (y * info.width + x) * 3;
      const dst = 54 + (info.height - 1 - y) * stride + x * 3;
      [out[dst], out[dst + 1], out[dst + 2]] = [data[src + 2], data[src + 1], data[src]];
    }
  }
  return new Uint8Array(out);
}

/** A real, valid 1-bit grayscale PNG of any size, all black: a few hundred kB however large. */
function blackPng(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // 1 bit, grayscale, deflate, no filter, no interlace
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8))); // filter byte 0 and zero bits
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(
    Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]),
  );
}

/** A JPEG whose frame header claims width × height, after `padding` bytes of APP15 segments (so that
 *  the header walk has to read past its first window), cut right after that header: no
 *  decoder can make pixels of it, so only a refusal on the header gives the pixel-limit message. */
async function jpegHeaderClaiming(width: number, height: number, padding: number): Promise<Uint8Array> {
  const jpeg = await raw(16, 16, () => [90, 90, 90])
    .jpeg()
    .toBuffer();
  const segments: Buffer[] = [];
  for (let left = padding; left > 0; left -= 60_000) {
    const segment = Buffer.alloc(4 + Math.min(left, 60_000));
    segment.writeUInt16BE(0xffef, 0);
    segment.writeUInt16BE(segment.length - 2, 2);
    segments.push(segment);
  }
  const out = Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
  const sof = out.indexOf(Buffer.from([0xff, 0xc0]));
  out.writeUInt16BE(height, sof + 5);
  out.writeUInt16BE(width, sof + 7);
  return new Uint8Array(out.subarray(0, sof + 2 + out.readUInt16BE(sof + 2)));
}

/** The headers of a lossless WebP, a GIF and a top-down BMP claiming more than 100 megapixels,
 *  and nothing after them. */
async function headersOnly(): Promise<{ name: string; bytes: Uint8Array }[]> {
  const webp = Buffer.from(
    await raw(8, 8, () => [1, 2, 3])
      .webp({ lossless: true })
      .toBuffer(),
  ).subarray(0, 30);
  webp.writeUInt32LE((webp.readUInt32LE(21) & ~0xfffffff) | 16383 | (16383 << 14), 21);
  const gif = Buffer.from('GIF89a\0\0\0\0\0\0\0', 'latin1');
  gif.writeUInt16LE(40_000, 6);
  gif.writeUInt16LE(3_000, 8);
  const bmp = Buffer.alloc(54);
  bmp.write('BM', 0, 'ascii');
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(20_000, 18);
  bmp.writeInt32LE(-20_000, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  return [
    { name: 'header-only.webp', bytes: new Uint8Array(webp) },
    { name: 'header-only.gif', bytes: new Uint8Array(gif) },
    { name: 'header-only.bmp', bytes: new Uint8Array(bmp) },
  ];
}

/** The dataset of the drop and picker tests: 3 classes × 5 images, PNG and JPEG, with the usual
 *  clutter, below one top folder. */
async function dataset(): Promise<Files> {
  const files: Files = {};
  const classes = ['apple', 'banana', '猫'];
  for (const [c, name] of classes.entries()) {
    for (let i = 0; i < 5; i++) {
      const image = raw(24 + i, 20, (x, y) => [(x * 9 + c * 80) % 256, (y * 11) % 256, i * 50]);
      files[`mydata/${name}/${i}.${i % 2 ? 'jpg' : 'png'}`] = new Uint8Array(
        await (i % 2 ? image.jpeg() : image.png()).toBuffer(),
      );
    }
  }
  files['mydata/.DS_Store'] = 'Bud1';
  files['mydata/__MACOSX/apple/._0.png'] = 'resource fork';
  files['mydata/banana/empty.png'] = new Uint8Array(0);
  files['mydata/apple/notes.txt'] = 'picked in the orchard';
  return files;
}

const EXPECTED_CLASSES = ['apple', 'banana', '猫'];
const EXPECTED_COUNTS = { apple: 5, banana: 5, 猫: 5 };

/** What the page read from a drop or a pick that `act` makes. */
async function readSource(act: () => Promise<void>) {
  await page.evaluate(() => (window.stochcaData.last = undefined));
  await act();
  await page.waitForFunction(() => window.stochcaData.last !== undefined, null, { timeout: 30_000 });
  return page.evaluate(() => window.stochcaData.last!);
}

let page: Page;
let files: Files;

beforeAll(async () => {
  [page, files] = await Promise.all([openPage('/tests/browser/data.html'), dataset()]);
  await page.waitForFunction(() => window.stochcaData !== undefined, null, { timeout: 60_000 });
});

describe('dataset sources in the page', () => {
  it('reads a folder picked with <input webkitdirectory>', async () => {
    const root = join(await makeFolder(files), 'mydata');
    const summary = await readSource(() => page.setInputFiles('#folder', root));
    if ('error' in summary) throw new Error(summary.error);
    expect(summary.classes).toEqual(EXPECTED_CLASSES);
    expect(summary.counts).toEqual(EXPECTED_COUNTS);
    expect(summary.paths).toContain('猫/3.jpg');
    expect(Object.fromEntries(summary.leftOut.map((l) => [l.path, l.reason]))).toEqual({
      '.DS_Store': 'hidden file',
      '__MACOSX/': 'macOS metadata (__MACOSX)',
      'apple/notes.txt': 'not an image (.txt)',
      'banana/empty.png': 'empty file (0 bytes)',
    });
    // The entries read the picked files.
    const size = await page.evaluate(async () => (await window.stochcaData.dataset!.train[0].entry.read()).length);
    expect(size).toBe((files['mydata/apple/0.png'] as Uint8Array).length);
  });

  it('reads a zip dropped on the page (CDP drag events with a real file), or picked', async () => {
    const zipPath = join(await tempDir(), 'mydata.zip');
    await writeFile(zipPath, new Uint8Array(await (await makeZip(files)).arrayBuffer()));
    const box = (await page.locator('#drop').boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const summary = await readSource(async () => {
      const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      const data = { items: [], files: [zipPath], dragOperationsMask: 1 };
      for (const type of ['dragEnter', 'dragOver', 'drop'] as const)
        await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
    });
    if ('error' in summary) throw new Error(summary.error);
    expect(summary.classes).toEqual(EXPECTED_CLASSES);
    expect(summary.counts).toEqual(EXPECTED_COUNTS);
    expect(Object.fromEntries(summary.leftOut.map((l) => [l.path, l.reason]))).toEqual({
      'mydata/.DS_Store': 'hidden file',
      'mydata/__MACOSX/apple/._0.png': 'macOS metadata (__MACOSX)',
      'mydata/apple/notes.txt': 'not an image (.txt)',
      'mydata/banana/empty.png': 'empty file (0 bytes)',
    });
    expect(await readSource(() => page.setInputFiles('#file', zipPath))).toEqual(summary);
    // An image of the zip through the decoding workers, at the cache size of a 224 model.
    const pixels = await page.evaluate(async () => {
      const { dataset, decoder } = window.stochcaData;
      return (await decoder.decode(dataset!.train[0].entry, 256)).length;
    });
    expect(pixels).toBe(256 * 256 * 4);
  });
});

describe('the folder walk of a drop, on a synthetic entry tree', () => {
  it('walks every folder, reading each until an empty batch, and leaves out what it cannot read', async () => {
    const zip = b64(new Uint8Array(await (await makeZip({ 'a/1.png': 'x', 'b/2.png': 'y' })).arrayBuffer()));
    const result = await page.evaluate(async (zip) => {
      const { sources, file: fileOf } = window.stochcaData;
      type Entry = import('../../src/data/browser-sources.ts').DropEntry;
      // Entries shaped like Chrome's: readEntries hands over at most 100 at a time, asynchronously.
      const reads: Record<string, number> = {};
      const file = (name: string, bytes = 'x'): Entry =>
        ({
          name,
          isFile: true,
          isDirectory: false,
          file: (ok: (f: File) => void) => setTimeout(() => ok(new File([bytes], name))),
        }) as Entry;
      const lost = (name: string): Entry =>
        ({
          name,
          isFile: true,
          isDirectory: false,
          file: (_: unknown, fail: (e: DOMException) => void) =>
            fail(new DOMException('A requested file could not be found', 'NotFoundError')),
        }) as Entry;
      const dir = (name: string, children: Entry[], broken = false): Entry =>
        ({
          name,
          isFile: false,
          isDirectory: true,
          createReader() {
            let at = 0;
            return {
              readEntries(ok: (entries: Entry[]) => void, fail: (e: DOMException) => void) {
                reads[name] = (reads[name] ?? 0) + 1;
                if (broken) return fail(new DOMException('The folder is gone', 'NotReadableError'));
                setTimeout(() => ok(children.slice(at, (at += 100))));
              },
            };
          },
        }) as Entry;
      const many = Array.from({ length: 250 }, (_, i) => file(`${String(i).padStart(3, '0')}.png`));
      const root = dir('photos', [
        dir('big', many),
        dir('small', [file('a.png'), file('b.jpg'), dir('deep', [file('c.png'), file('d.png')])]),
        dir('empty', []),
        dir('.git', [file('HEAD')]),
        dir('__MACOSX', [file('._a.png')]),
        dir('broken', [], true),
        file('.DS_Store'),
        lost('gone.png'),
      ]);

      let progress = 0;
      const tree = await sources.treeFromEntries([root], { onProgress: (n) => (progress = n) });
      const walkReads = { ...reads };
      const several = await sources.walkEntries([root, file('loose.png')]);
      // A drop of one zip opens the zip; items that are not files are ignored.
      const drop = {
        items: [
          { kind: 'string', webkitGetAsEntry: () => null, getAsFile: () => null },
          { kind: 'file', webkitGetAsEntry: () => null, getAsFile: () => fileOf(zip, 'data.zip') },
        ],
      } as unknown as DataTransfer;
      const zipped = await sources.treeFromDrop(drop);
      const nothing = await sources
        .treeFromDrop({ items: [] } as unknown as DataTransfer)
        .catch((e: Error) => e.message);
      const summary = window.stochcaData.summarize(tree);
      return {
        files: tree.files.map((f) => f.path).sort(),
        bytes: new TextDecoder().decode(await tree.files.find((f) => f.path === 'small/a.png')!.read()),
        folders: tree.folders.sort(),
        leftOut: Object.fromEntries(tree.leftOut.map((l) => [l.path, l.reason])),
        reads: walkReads,
        progress,
        several: several.files
          .map((f) => f.path)
          .filter((p) => !p.includes('big/'))
          .sort(),
        zipped: zipped.files.map((f) => f.path),
        nothing,
        classes: summary.classes,
        counts: summary.counts,
        problems: summary.problems,
      };
    }, zip);

    const big = Array.from({ length: 250 }, (_, i) => `big/${String(i).padStart(3, '0')}.png`);
    expect(result.files).toEqual(
      [...big, '.DS_Store', 'small/a.png', 'small/b.jpg', 'small/deep/c.png', 'small/deep/d.png'].sort(),
    );
    expect(result.bytes).toBe('x');
    expect(result.folders).toEqual(['big', 'broken', 'empty', 'small', 'small/deep']);
    expect(result.leftOut).toEqual({
      '.git/': 'hidden folder',
      '__MACOSX/': 'macOS metadata (__MACOSX)',
      'broken/': 'cannot read the folder (NotReadableError: The folder is gone)',
      'gone.png': 'cannot read the file (NotFoundError: A requested file could not be found)',
    });
    // 100 + 100 + 50 + the empty batch that ends it; hidden folders are never opened.
    expect(result.reads).toMatchObject({ photos: 2, big: 4, small: 2, deep: 2, empty: 1, broken: 1 });
    expect(result.reads).not.toHaveProperty('.git');
    expect(result.reads).not.toHaveProperty('__MACOSX');
    expect(result.progress).toBe(255);
    expect(result.several).toEqual([
      'loose.png',
      'photos/.DS_Store',
      'photos/small/a.png',
      'photos/small/b.jpg',
      'photos/small/deep/c.png',
      'photos/small/deep/d.png',
    ]);
    expect(result.zipped).toEqual(['a/1.png', 'b/2.png']);
    expect(result.nothing).toMatch(/nothing that could be read was dropped/);
    expect(result.classes).toEqual(['big', 'small']);
    expect(result.counts).toEqual({ big: 250, small: 4 });
    expect(result.problems).toEqual([
      "class folder 'broken' holds no images: left out",
      "class folder 'empty' holds no images: left out",
    ]);
  });
});

/** Decodes files (base64) in the page's pool; each gives its pixels or its error message. */
function decodeInPage(
  images: { name: string; bytes: Uint8Array }[],
  size: number,
  options?: { maxPixels: number },
): Promise<{ name: string; pixels?: number[]; error?: string }[]> {
  return page.evaluate(
    async ({ images, size, options }) => {
      const { decoder: shared, BrowserDecoder, file } = window.stochcaData;
      const decoder = options ? new BrowserDecoder(options) : shared;
      const out = await Promise.all(
        images.map(({ name, bytes }) =>
          decoder.decode(file(bytes, name), size).then(
            (pixels) => ({
              name,
              pixels: Array.from(pixels) as number[] | undefined,
              error: undefined as string | undefined,
            }),
            (e: Error) => ({ name, pixels: undefined, error: `${e.name}: ${e.message}` }),
          ),
        ),
      );
      if (decoder !== shared) decoder.close();
      return out;
    },
    { images: images.map(({ name, bytes }) => ({ name, bytes: b64(bytes) })), size, options },
  );
}

const rgba = (pixels: number[], size: number, x: number, y: number) =>
  pixels.slice((y * size + x) * 4, (y * size + x) * 4 + 4);

describe('decoding workers', () => {
  it('decodes PNG, JPEG, WebP, BMP and GIF to the centre square, scaled to C × C', async () => {
    const wide = thirds(240, 120);
    const tall = thirds(120, 240);
    const images = [
      { name: 'wide.png', bytes: await wide.clone().png().toBuffer() },
      { name: 'wide.jpg', bytes: await wide.clone().jpeg({ quality: 95 }).toBuffer() },
      { name: 'wide.webp', bytes: await wide.clone().webp({ lossless: true }).toBuffer() },
      { name: 'wide-lossy.webp', bytes: await wide.clone().webp({ quality: 90 }).toBuffer() },
      { name: 'wide.gif', bytes: await wide.clone().gif().toBuffer() },
      { name: 'wide.bmp', bytes: await bmp(wide.clone()) },
      { name: 'tall.png', bytes: await tall.clone().png().toBuffer() },
    ].map(({ name, bytes }) => ({ name, bytes: new Uint8Array(bytes) }));
    const C = 16;
    const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]) <= 48);
    for (const { name, pixels, error } of await decodeInPage(images, C)) {
      expect(error, name).toBeUndefined();
      expect(pixels!.length, name).toBe(C * C * 4);
      // The centre square of red | green | blue thirds holds the inner sixth of red and of blue.
      const [first, middle, last] = name.startsWith('tall')
        ? [rgba(pixels!, C, 8, 0), rgba(pixels!, C, 8, 8), rgba(pixels!, C, 8, C - 1)]
        : [rgba(pixels!, C, 0, 8), rgba(pixels!, C, 8, 8), rgba(pixels!, C, C - 1, 8)];
      expect({
        name,
        first,
        middle,
        last,
        fits: near(first, [255, 0, 0, 255]) && near(middle, [0, 255, 0, 255]) && near(last, [0, 0, 255, 255]),
      }).toMatchObject({ fits: true });
      // Red reaches a sixth of the square (C/6 ≈ 2.7 columns) and no further.
      const red = (i: number) => (name.startsWith('tall') ? rgba(pixels!, C, 8, i) : rgba(pixels!, C, i, 8))[0] > 128;
      expect([red(1), red(4)], name).toEqual([true, false]);
    }
  });

  it('expands grayscale to R = G = B', async () => {
    const gradient = raw(64, 48, (x, y) => [x * 4, x * 4, y * 5]).toColourspace('b-w');
    const images = [
      { name: 'gray.png', bytes: new Uint8Array(await gradient.clone().png().toBuffer()) },
      { name: 'gray.jpg', bytes: new Uint8Array(await gradient.clone().jpeg().toBuffer()) },
    ];
    expect((await sharp(images[0].bytes).metadata()).channels).toBe(1);
    for (const { name, pixels, error } of await decodeInPage(images, 32)) {
      expect(error, name).toBeUndefined();
      const values = new Set<number>();
      for (let i = 0; i < pixels!.length; i += 4) {
        expect([pixels![i + 1], pixels![i + 2]], `${name} pixel ${i / 4}`).toEqual([pixels![i], pixels![i]]);
        values.add(pixels![i]);
      }
      expect(values.size, name).toBeGreaterThan(10);
    }
  });

  it('refuses corrupt files and images over the pixel limit, naming the file', async () => {
    const png = new Uint8Array(await thirds(60, 40).png().toBuffer());
    const noise = new Uint8Array(3000).map((_, i) => (i * 7919 + 13) % 251);
    const damaged = png.slice();
    damaged.fill(0x55, 60); // a valid header, then garbage in place of the image data
    const huge = blackPng(20_000, 20_000);
    const images = [
      { name: 'noise.png', bytes: noise },
      { name: 'damaged.png', bytes: damaged },
      { name: 'huge.png', bytes: huge },
      // Signature and IHDR only: the pixel-limit message can only come from the header.
      { name: 'header-only.png', bytes: huge.subarray(0, 33) },
      { name: 'huge.jpg', bytes: await jpegHeaderClaiming(20_000, 20_000, 150_000) },
      { name: 'wide.jpg', bytes: await jpegHeaderClaiming(30_000, 4_000, 0) },
      ...(await headersOnly()),
    ];
    const t0 = performance.now();
    const results = Object.fromEntries((await decodeInPage(images, 16)).map((r) => [r.name, r.error]));
    console.log(
      `bad files refused in ${Math.round(performance.now() - t0)} ms (the 20,000 × 20,000 PNG is ${huge.length} bytes)`,
    );
    expect(results).toEqual({
      'noise.png':
        "ImageDecodeError: cannot use 'noise.png': not an image (it starts with no PNG, JPEG, WebP, BMP or GIF signature, and the browser cannot decode it)",
      'damaged.png': expect.stringMatching(
        /^ImageDecodeError: cannot use 'damaged.png': damaged or unsupported PNG file \(.+\)$/,
      ),
      'huge.png':
        "ImageDecodeError: cannot use 'huge.png': 20000 × 20000 pixels (400 megapixels), over the limit of 100 megapixels",
      'header-only.png':
        "ImageDecodeError: cannot use 'header-only.png': 20000 × 20000 pixels (400 megapixels), over the limit of 100 megapixels",
      'huge.jpg':
        "ImageDecodeError: cannot use 'huge.jpg': 20000 × 20000 pixels (400 megapixels), over the limit of 100 megapixels",
      'wide.jpg':
        "ImageDecodeError: cannot use 'wide.jpg': 30000 × 4000 pixels (120 megapixels), over the limit of 100 megapixels",
      'header-only.webp':
        "ImageDecodeError: cannot use 'header-only.webp': 16384 × 16384 pixels (268.4 megapixels), over the limit of 100 megapixels",
      'header-only.gif':
        "ImageDecodeError: cannot use 'header-only.gif': 40000 × 3000 pixels (120 megapixels), over the limit of 100 megapixels",
      'header-only.bmp':
        "ImageDecodeError: cannot use 'header-only.bmp': 20000 × 20000 pixels (400 megapixels), over the limit of 100 megapixels",
    });
  });

  it('checks the decoded size too, for formats whose header is not read (AVIF)', async () => {
    const avif = new Uint8Array(await thirds(64, 48).heif({ compression: 'av1' }).toBuffer());
    const png = new Uint8Array(await thirds(64, 48).png().toBuffer());
    const results = await decodeInPage(
      [
        { name: 'small.avif', bytes: avif },
        { name: 'small.png', bytes: png },
      ],
      16,
      { maxPixels: 3000 },
    );
    expect(results.map((r) => r.error)).toEqual([
      "ImageDecodeError: cannot use 'small.avif': 64 × 48 pixels (3072 pixels), over the limit of 3000 pixels",
      "ImageDecodeError: cannot use 'small.png': 64 × 48 pixels (3072 pixels), over the limit of 3000 pixels",
    ]);
  });

  it('rejects a bad size and what is queued when it is closed', async () => {
    const result = await page.evaluate(
      async (png) => {
        const { BrowserDecoder, file } = window.stochcaData;
        const decoder = new BrowserDecoder({ workers: 1 });
        const image = file(png, 'a.png');
        const badSize = await decoder.decode(image, 0).catch((e: Error) => e.message);
        const queued = [decoder.decode(image, 8), decoder.decode(image, 8), decoder.decode(image, 8)];
        decoder.close();
        return {
          badSize,
          queued: await Promise.all(
            queued.map((p) =>
              p.then(
                () => 'decoded',
                (e: Error) => e.message,
              ),
            ),
          ),
        };
      },
      b64(new Uint8Array(await thirds(30, 20).png().toBuffer())),
    );
    expect(result.badSize).toBe('image size must be an integer in 1..4096, got 0');
    expect(result.queued).toEqual(['the decoder was closed', 'the decoder was closed', 'the decoder was closed']);
  });
});

type Cdp = Awaited<ReturnType<ReturnType<Page['context']>['newCDPSession']>>;

/** The page's dedicated workers as CDP sessions, messages routed through the page's session. */
async function workerSessions(cdp: Cdp) {
  const sessions: string[] = [];
  const replies = new Map<number, (result: unknown) => void>();
  let lastId = 0;
  cdp.on('Target.attachedToTarget', (e) => e.targetInfo.type === 'worker' && sessions.push(e.sessionId));
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const message = JSON.parse(e.message) as { id?: number; result?: unknown };
    if (message.id !== undefined) replies.get(message.id)?.(message.result);
  });
  // Attaches to the workers that exist now; they stay running.
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await expect.poll(() => sessions.length).toBeGreaterThan(0);
  const send = <T>(sessionId: string, method: string) =>
    new Promise<T>((resolve) => {
      const id = ++lastId;
      replies.set(id, resolve as (result: unknown) => void);
      void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
    });
  return { sessions, send };
}

interface HeapUsage {
  usedSize: number;
  embedderHeapUsedSize?: number;
  backingStorageSize?: number;
}

/** JS objects, the browser's objects they hold (Blobs, ImageData) and array buffers. */
const heapBytes = (u: HeapUsage) => u.usedSize + (u.embedderHeapUsedSize ?? 0) + (u.backingStorageSize ?? 0);

/** The state of a stream run in the page, read from Node while it runs. */
interface StreamRun {
  images: number;
  /** Images whose centre pixel is not their class's colour. */
  wrong: number;
  ms: number;
  finished: boolean;
  error?: string;
  stats?: BatcherStats;
  skipped: number;
}

describe('memory', () => {
  it('stays bounded while 20,000 small images stream through the decoding workers and the batcher', async () => {
    // One 12 × 12 BMP per class, one colour each; every sample reads a copy with its index written
    // into its corner pixel, so the 20,000 files differ and each is read and decoded on its own.
    const CLASSES = 10;
    const COUNT = 20_000;
    const S = 16;
    const C = 18; // round(S · 8/7), the batcher's default
    const CACHE_BYTES = 256 * 1024; // 202 cache images of 18 × 18, of the 20,000
    const colours = Array.from({ length: CLASSES }, (_, c): [number, number, number] => [
      (c * 25) % 256,
      250 - c * 20,
      (c * 97) % 256,
    ]);
    const templates = await Promise.all(colours.map(async (rgb) => b64(await bmp(raw(12, 12, () => rgb)))));

    /** Lists `count` samples and makes their batcher; `go` starts the stream. */
    const prepare = (count: number) =>
      page.evaluate(
        ({ templates, colours, count, S, C, CACHE_BYTES }) => {
          const { Batcher, decoder } = window.stochcaData;
          const bytes = templates.map((t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0)));
          const PIXELS = 54; // the first pixel of the bottom row (B, G, R)
          const samples = Array.from({ length: count }, (_, i) => {
            const label = i % bytes.length;
            const read = async () => {
              const file = bytes[label].slice();
              file.set([i & 255, (i >> 8) & 255, (i >> 16) & 255], PIXELS);
              return file;
            };
            return { entry: { path: `${label}/${i}.bmp`, size: bytes[label].length, read }, label };
          });
          const batcher = new Batcher({
            samples,
            decode: (entry) => decoder.decode(entry, C),
            imageSize: S,
            cacheSize: C,
            batchSize: 64,
            seed: 1,
            augment: {},
            cacheBytes: CACHE_BYTES,
            decodes: 8,
          });
          const state: StreamRun = { images: 0, wrong: 0, ms: 0, finished: false, skipped: 0 };
          const go = () => {
            const t0 = performance.now();
            void (async () => {
              // The training stream, one epoch of it: random crops and flips of every image.
              for await (const batch of batcher) {
                for (let k = 0; k < batch.count; k++) {
                  const centre = batch.pixels[k * S * S + (S / 2) * S + S / 2];
                  const want = colours[batch.labels[k]];
                  if (
                    [centre & 255, (centre >> 8) & 255, (centre >> 16) & 255].some((v, j) => Math.abs(v - want[j]) > 2)
                  )
                    state.wrong++;
                }
                state.images += batch.count;
                if (state.images >= count) break;
              }
            })()
              .catch((e: unknown) => (state.error = String(e)))
              .finally(() => {
                Object.assign(state, {
                  ms: performance.now() - t0,
                  stats: batcher.stats,
                  skipped: batcher.skipped.length,
                  finished: true,
                });
              });
          };
          Object.assign(window, { streamRun: state, streamGo: go });
        },
        { templates, colours, count, S, C, CACHE_BYTES },
      );
    const go = () => page.evaluate(() => (window as unknown as { streamGo: () => void }).streamGo());
    const state = () => page.evaluate(() => (window as unknown as { streamRun: StreamRun }).streamRun);

    const cdp = await page.context().newCDPSession(page);
    const browserCdp = await page.context().browser()!.newBrowserCDPSession();
    await cdp.send('Performance.enable');
    // The renderer process of this page, where its workers run too: the one whose CPU time is the
    // page's own ProcessTime metric.
    const { metrics } = await cdp.send('Performance.getMetrics');
    const cpu = metrics.find((m) => m.name === 'ProcessTime')!.value;
    const renderers = (await browserCdp.send('SystemInfo.getProcessInfo')).processInfo.filter(
      (p) => p.type === 'renderer',
    );
    const pid = renderers.reduce((a, b) => (Math.abs(b.cpuTime - cpu) < Math.abs(a.cpuTime - cpu) ? b : a)).id;

    // A warm-up run, so that the workers, their canvases and the compiled code exist before the start.
    await prepare(1000);
    await go();
    await expect.poll(async () => (await state()).finished, { timeout: 60_000, interval: 200 }).toBe(true);
    const workers = await workerSessions(cdp);

    /** Heaps of the page and of the workers after a full collection in each, and the renderer's
     *  resident memory where /proc tells it. */
    const measure = async () => {
      const live = heapBytes(await cdp.send('Runtime.getHeapUsage'));
      await cdp.send('HeapProfiler.collectGarbage');
      const page = heapBytes(await cdp.send('Runtime.getHeapUsage'));
      let inWorkers = 0;
      for (const session of workers.sessions) {
        await workers.send(session, 'HeapProfiler.collectGarbage');
        inWorkers += heapBytes(await workers.send<HeapUsage>(session, 'Runtime.getHeapUsage'));
      }
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const rss = /VmRSS:\s+(\d+) kB/.exec(status);
      return { live, page, workers: inWorkers, rss: rss ? Number(rss[1]) * 1024 : NaN, images: (await state()).images };
    };

    // The start includes the 20,000 samples listed, as a dataset's listing is held while it trains.
    await prepare(COUNT);
    const start = await measure();
    await go();
    const samples: Awaited<ReturnType<typeof measure>>[] = [];
    while (!(await state()).finished) {
      await new Promise((r) => setTimeout(r, 4000));
      samples.push(await measure());
    }
    const end = await measure();
    const result = await state();
    await Promise.all([cdp.detach(), browserCdp.detach()]);

    const MiB = (n: number) => (n / 2 ** 20).toFixed(1);
    const peak = (key: 'page' | 'workers' | 'rss') => Math.max(...[...samples, end].map((m) => m[key]));
    const figures = (key: 'page' | 'workers' | 'rss') =>
      `start ${MiB(start[key])}, peak ${MiB(peak(key))}, end ${MiB(end[key])} MiB (growth ${MiB(peak(key) - start[key])} MiB)`;
    console.log(
      [
        `streamed ${result.images} images (12 × 12 BMP, ${CLASSES} classes) through ${workers.sessions.length} decoding workers and the batcher ` +
          `(S = ${S}, cache ${CACHE_BYTES / 1024} KiB) in ${(result.ms / 1000).toFixed(1)} s, ${Math.round((result.images * 1000) / result.ms)} images/s; ` +
          `memory sampled ${samples.length} times; the batcher held at most ${result.stats!.cachedImages} cache images ` +
          `(${MiB(result.stats!.cachedBytes)} MiB), ${result.stats!.maxQueued} batches queued and ${result.stats!.maxInFlight} decodes in flight`,
        `page heap after GC (JS + browser objects + array buffers): ${figures('page')}; before GC at most ${MiB(Math.max(...samples.map((m) => m.live)))} MiB`,
        `decoding workers' heaps after GC, together: ${figures('workers')}`,
        `renderer process ${pid} resident memory: ${figures('rss')}`,
      ].join('\n'),
    );
    expect(result.error).toBeUndefined();
    expect(result.images).toBeGreaterThanOrEqual(COUNT);
    expect([result.wrong, result.skipped]).toEqual([0, 0]);
    expect(result.stats!.cachedBytes).toBeLessThanOrEqual(CACHE_BYTES);
    // 6 MiB over 20,000 images: a leak of 315 bytes per image (two thirds of one 486-byte file, a
    // quarter of one 18 × 18 cache image) would pass it; keeping every image would take
    // 20,000 × (18² + 16²) × 4 bytes = 44 MiB of pixels alone.
    expect(peak('page') - start.page).toBeLessThan(6 * 2 ** 20);
    expect(peak('workers') - start.workers).toBeLessThan(6 * 2 ** 20);
    // The process also holds what the collector has not yet reclaimed, and its allocators' caches.
    if (!Number.isNaN(start.rss)) expect(peak('rss') - start.rss).toBeLessThan(64 * 2 ** 20);
  });
});
