// The IDX parser on small generated files, and the committed built-in packs
// (public/packs/): layout, counts, index.json, and PNG pixels equal to the original
// images: MNIST's always; Fashion-MNIST's when Debian's package is installed; the OpenCV
// digits' when opencv-doc's digits.png is installed or extracted under one of OPENCV_ROOTS.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { configure, Uint8ArrayReader, Uint8ArrayWriter, ZipReader, type FileEntry } from '@zip.js/zip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenCvTransfer, DigitSetError, findOpenCvDigits, OPENCV_PACK } from '../../scripts/build-digit-sets.ts';
import type { PackInfo } from '../../src/train/builtins.ts';
import {
  hasIdxSet,
  idxImage,
  IdxError,
  idxSetMissing,
  loadIdxSplit,
  parseIdxImages,
  parseIdxLabels,
  readIdxImages,
  readIdxLabels,
  type IdxSetId,
} from '../../src/data/idx.ts';

/** An IDX file: magic, big-endian dimensions, data. */
function idxBytes(magic: number, dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

// Where opencv-doc's digits.png is looked for: installed (apt-get install opencv-doc), or extracted with
// `dpkg-deb -x opencv-doc_*.deb /tmp/debs/root` as scripts/build-digit-sets.ts's --root suggests.
const OPENCV_ROOTS = ['/', '/tmp/debs/root'];

const IMAGES = 0x00000803;
const LABELS = 0x00000801;
const ramp = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) % 256);

describe('IDX parser', () => {
  it('reads images [n, rows, cols] and labels [n]', () => {
    const images = parseIdxImages(idxBytes(IMAGES, [2, 3, 4], ramp(24)));
    expect([images.count, images.rows, images.cols]).toEqual([2, 3, 4]);
    expect([...idxImage(images, 1)]).toEqual([...ramp(24).subarray(12)]);
    expect([...parseIdxLabels(idxBytes(LABELS, [3], [9, 0, 4]))]).toEqual([9, 0, 4]);
  });

  it('refuses a wrong magic, naming both', () => {
    expect(() => parseIdxImages(idxBytes(LABELS, [3], [1, 2, 3]), 'x.idx')).toThrow(
      new IdxError('x.idx: magic 0x00000801 is not IDX images (0x00000803)'),
    );
    expect(() => parseIdxLabels(idxBytes(0x00000d01, [3], [1, 2, 3]))).toThrow(/magic 0x00000d01 is not IDX labels/);
    expect(() => parseIdxImages(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0))).toThrow(/magic 0x1f8b0800/);
  });

  it('refuses truncated headers and data, and trailing bytes', () => {
    expect(() => parseIdxLabels(Uint8Array.of(0, 0))).toThrow(/2 bytes is too short for an IDX header/);
    expect(() => parseIdxImages(idxBytes(IMAGES, [2, 3], []))).toThrow(
      /truncated header \(12 bytes, the images header has 16\)/,
    );
    expect(() => parseIdxImages(idxBytes(IMAGES, [2, 3, 4], ramp(23)), 'f')).toThrow(
      new IdxError('f: truncated: images [2, 3, 4] need 24 bytes of data, the file has 23'),
    );
    expect(() => parseIdxLabels(idxBytes(LABELS, [3], [1, 2, 3, 4]))).toThrow(
      /too long: labels \[3\] need 3 bytes of data, the file has 4/,
    );
    expect(() => parseIdxImages(idxBytes(IMAGES, [1, 0, 4], []))).toThrow(/images of 0 × 4 pixels/);
  });

  it('keeps image indices in range', () => {
    const images = parseIdxImages(idxBytes(IMAGES, [2, 2, 2], ramp(8)));
    expect(() => idxImage(images, 2)).toThrow(RangeError);
    expect(() => idxImage(images, -1)).toThrow(/outside the 2 images/);
  });

  describe('files', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'idx-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads plain and gzipped files alike', async () => {
      const images = idxBytes(IMAGES, [3, 2, 5], ramp(30));
      const labels = idxBytes(LABELS, [3], [2, 1, 0]);
      await writeFile(join(dir, 'i'), images);
      await writeFile(join(dir, 'i.gz'), gzipSync(images));
      await writeFile(join(dir, 'l.gz'), gzipSync(labels));
      const plain = await readIdxImages(join(dir, 'i'));
      const gz = await readIdxImages(join(dir, 'i.gz'));
      expect([gz.count, gz.rows, gz.cols]).toEqual([3, 2, 5]);
      expect([...gz.pixels]).toEqual([...plain.pixels]);
      expect([...(await readIdxLabels(join(dir, 'l.gz')))]).toEqual([2, 1, 0]);
    });

    it('names the file in its errors, and refuses a broken gzip', async () => {
      await writeFile(join(dir, 'short'), idxBytes(IMAGES, [3, 2, 5], ramp(29)));
      await writeFile(join(dir, 'bad.gz'), Uint8Array.of(1, 2, 3, 4, 5));
      await expect(readIdxImages(join(dir, 'short'))).rejects.toThrow(`${join(dir, 'short')}: truncated`);
      await expect(readIdxLabels(join(dir, 'bad.gz'))).rejects.toThrow(/bad\.gz: not a valid gzip file/);
    });
  });

  it('reads the real MNIST test set', async () => {
    const { images, labels } = await loadIdxSplit('mnist', 'test');
    expect([images.count, images.rows, images.cols, labels.length]).toEqual([10000, 28, 28, 10000]);
    expect(Math.max(...labels)).toBe(9);
  });
});

type Split = 'train' | 'val' | 'test';
const SPLITS: Split[] = ['train', 'val', 'test'];
const IDX_PACKS: readonly string[] = ['mnist', 'fashion-mnist'] satisfies IdxSetId[];

const PACKS_DIR = new URL('../../public/packs/', import.meta.url);
const index: PackInfo[] = JSON.parse(await readFile(new URL('index.json', PACKS_DIR), 'utf8'));

interface Expected {
  classes: string[];
  /** Images per class of each split the pack has. */
  perClass: Partial<Record<Split, number>>;
  imageSize: number;
  license: string;
}

// What public/packs/README.md, scripts/build-packs.ts and scripts/build-digit-sets.ts document.
const EXPECTED: Record<string, Expected> = {
  mnist: {
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    perClass: { train: 300, test: 100 },
    imageSize: 28,
    license: 'CC BY-SA 3.0',
  },
  'fashion-mnist': {
    classes: ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    perClass: { train: 200, test: 100 },
    imageSize: 28,
    license: 'MIT',
  },
  'opencv-digits': {
    classes: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
    perClass: { train: OPENCV_PACK.perClass.train, val: 20, test: 100 },
    imageSize: 20,
    license: 'Apache-2.0',
  },
};
const ENTRY = /^(train|val|test)\/([^/]+)\/(\d+)\.png$/;
const MAX_ZIP_BYTES = 2_000_000;

describe('index.json', () => {
  it('lists the MNIST, Fashion-MNIST and OpenCV digits packs', () => {
    expect(index.map((p) => p.id)).toEqual(['mnist', 'fashion-mnist', 'opencv-digits']);
  });
});

/** A PNG's pixels as one 8-bit channel. sharp writes raw pixels as sRGB unless told to keep the one gray channel. */
const grayPixels = async (entry: FileEntry) =>
  sharp(await entry.getData(new Uint8ArrayWriter()))
    .toColourspace('b-w')
    .raw()
    .toBuffer();

for (const pack of index) {
  const expected = EXPECTED[pack.id];
  const splits = SPLITS.filter((s) => expected.perClass[s] !== undefined);
  // Entries by split, then class, then index in the original file.
  const layout: Record<Split, Map<string, Map<number, FileEntry>>> = {
    train: new Map(),
    val: new Map(),
    test: new Map(),
  };
  const others: string[] = [];
  let zipBytes = 0;
  const idx = IDX_PACKS.includes(pack.id) ? (pack.id as IdxSetId) : undefined;
  const canCompareIdx = idx === 'mnist' || (idx !== undefined && (await hasIdxSet(idx)));

  describe(`${pack.file}`, () => {
    beforeAll(async () => {
      configure({ useWebWorkers: false });
      const bytes = await readFile(new URL(pack.file, PACKS_DIR));
      zipBytes = bytes.length;
      const reader = new ZipReader(new Uint8ArrayReader(bytes));
      for (const entry of await reader.getEntries()) {
        const m = ENTRY.exec(entry.filename);
        if (!m || entry.directory) {
          others.push(entry.filename);
          continue;
        }
        const split = layout[m[1] as Split];
        if (!split.has(m[2])) split.set(m[2], new Map());
        split.get(m[2])!.set(Number(m[3]), entry);
      }
      await reader.close();
    });

    it('index.json agrees with the zip', () => {
      expect(pack.classes).toEqual(expected.classes);
      expect(pack.counts).toEqual(
        Object.fromEntries(splits.map((s) => [s, expected.perClass[s]! * expected.classes.length])),
      );
      expect(pack.imageSize).toBe(expected.imageSize);
      expect(pack.license).toBe(expected.license);
      expect(pack.bytes).toBe(zipBytes);
      expect(zipBytes).toBeLessThan(MAX_ZIP_BYTES);
      for (const split of splits) {
        const total = [...layout[split].values()].reduce((n, m) => n + m.size, 0);
        expect(total, split).toBe(pack.counts[split]);
      }
    });

    it(`holds ${splits.map((s) => `${s}/`).join(', ')} with one folder per class and the documented counts`, () => {
      expect(others).toEqual([]);
      expect(SPLITS.filter((s) => layout[s].size > 0)).toEqual(splits);
      for (const split of splits) {
        expect([...layout[split].keys()], split).toEqual(expected.classes);
        for (const [name, images] of layout[split])
          expect(images.size, `${split}/${name}`).toBe(expected.perClass[split]);
      }
    });

    it(`holds ${expected.imageSize}×${expected.imageSize} one-channel PNGs`, async () => {
      const size = expected.imageSize;
      for (const split of splits) {
        for (const [name, images] of layout[split]) {
          const entry = [...images.values()][0];
          const png = await entry.getData(new Uint8ArrayWriter());
          const { format, width, height, channels, depth } = await sharp(png).metadata();
          expect([format, width, height, channels, depth], `${split}/${name}`).toEqual(['png', size, size, 1, 'uchar']);
        }
      }
    });

    if (idx !== undefined) {
      const id = idx;
      const reason = canCompareIdx ? '' : ` (skipped: ${idxSetMissing(id)})`;
      it.skipIf(!canCompareIdx)(
        `holds the first images of each class, pixel for pixel equal to the IDX files${reason}`,
        async () => {
          for (const split of ['train', 'test'] as const) {
            const { images, labels } = await loadIdxSplit(id, split);
            for (const [c, name] of expected.classes.entries()) {
              const firstOfClass = [...labels.keys()].filter((i) => labels[i] === c).slice(0, expected.perClass[split]);
              const entries = layout[split].get(name)!;
              expect(
                [...entries.keys()].sort((a, b) => a - b),
                `${split}/${name}`,
              ).toEqual(firstOfClass);
              // The first, a middle and the last image of each class.
              for (const i of [firstOfClass[0], firstOfClass[firstOfClass.length >> 1], firstOfClass.at(-1)!]) {
                const pixels = await grayPixels(entries.get(i)!);
                expect(Buffer.from(idxImage(images, i)).equals(pixels), `${split}/${name}/${i}`).toBe(true);
              }
            }
          }
        },
      );
    }

    if (pack.id === OPENCV_PACK.id) {
      // digits.png is a grid of 100 × 50 cells of 20×20; <index> = grid row × 100 + grid column, and
      // digit d fills grid rows 5d..5d+4.
      const cellsByClass = (split: Split) =>
        expected.classes.map((name) => [...layout[split].get(name)!.keys()].sort((a, b) => a - b));

      it("names each image by a cell of its class's rows, no cell in two splits", () => {
        const seen = new Set<number>();
        for (const split of splits) {
          for (const [c, cells] of cellsByClass(split).entries()) {
            for (const cell of cells) {
              expect(Math.floor(cell / 500), `${split}/${expected.classes[c]}/${cell}`).toBe(c);
              expect(seen.has(cell), `cell ${cell} in two splits`).toBe(false);
              seen.add(cell);
            }
          }
        }
      });

      let opencv = '';
      let reason = '';
      try {
        opencv = findOpenCvDigits(OPENCV_ROOTS);
      } catch (e) {
        if (!(e instanceof DigitSetError)) throw e;
        reason = ` (skipped: ${e.message})`;
      }
      if (reason) console.log(`${pack.file}: pixel check${reason}`);

      it.skipIf(!opencv)(`holds digits.png's cells, pixel for pixel${reason}`, async () => {
        const { data, info } = await sharp(opencv).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height, info.channels]).toEqual([2000, 1000, 1]);
        for (const split of splits) {
          for (const [name, images] of layout[split]) {
            for (const [cell, entry] of images) {
              const [row, col] = [Math.floor(cell / 100), cell % 100];
              const want = Buffer.alloc(400);
              for (let y = 0; y < 20; y++)
                data.copy(want, y * 20, (row * 20 + y) * 2000 + col * 20, (row * 20 + y) * 2000 + col * 20 + 20);
              expect(want.equals(await grayPixels(entry)), `${split}/${name}/${cell}`).toBe(true);
            }
          }
        }
      });

      it.skipIf(!opencv)(
        `tests on opencv-transfer's test split, the new-head experiment's 1,000 digits${reason}`,
        async () => {
          const dir = await mkdtemp(join(tmpdir(), 'opencv-transfer-'));
          try {
            const zip = await buildOpenCvTransfer(dir, OPENCV_ROOTS, { only: 'test' });
            const reader = new ZipReader(new Uint8ArrayReader(await readFile(zip)));
            const transfer = (await reader.getEntries()).map((e) => Number(ENTRY.exec(e.filename)![3]));
            await reader.close();
            expect(cellsByClass('test').flat()).toEqual(transfer.sort((a, b) => a - b));
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        },
      );
    }
  });
}
