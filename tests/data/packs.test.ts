// The IDX parser on small generated files, and the committed built-in packs
// (public/packs/): layout, counts, index.json, and PNG pixels equal to the original
// IDX images (MNIST always; Fashion-MNIST when Debian's package is installed).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { configure, Uint8ArrayReader, Uint8ArrayWriter, ZipReader, type FileEntry } from '@zip.js/zip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

interface PackInfo {
  id: IdxSetId;
  name: string;
  file: string;
  bytes: number;
  classes: string[];
  counts: { train: number; test: number };
  imageSize: number;
  description: string;
  source: string;
  license: string;
}

const PACKS_DIR = new URL('../../public/packs/', import.meta.url);
const index: PackInfo[] = JSON.parse(await readFile(new URL('index.json', PACKS_DIR), 'utf8'));

// What public/packs/README.md and scripts/build-packs.ts document.
const EXPECTED: Record<IdxSetId, { classes: string[]; perClass: { train: number; test: number }; license: string }> = {
  mnist: {
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    perClass: { train: 300, test: 100 },
    license: 'CC BY-SA 3.0',
  },
  'fashion-mnist': {
    classes: ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    perClass: { train: 200, test: 100 },
    license: 'MIT',
  },
};
const ENTRY = /^(train|test)\/([^/]+)\/(\d{5})\.png$/;
const MAX_ZIP_BYTES = 2_000_000;

describe('index.json', () => {
  it('lists the MNIST and Fashion-MNIST packs', () => {
    expect(index.map((p) => p.id)).toEqual(['mnist', 'fashion-mnist']);
  });
});

for (const pack of index) {
  const expected = EXPECTED[pack.id];
  // Entries by split, then class, then index in the original IDX file.
  const layout = { train: new Map<string, Map<number, FileEntry>>(), test: new Map<string, Map<number, FileEntry>>() };
  const others: string[] = [];
  let zipBytes = 0;
  const canCompare = pack.id === 'mnist' || (await hasIdxSet(pack.id));

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
        const split = layout[m[1] as 'train' | 'test'];
        if (!split.has(m[2])) split.set(m[2], new Map());
        split.get(m[2])!.set(Number(m[3]), entry);
      }
      await reader.close();
    });

    it('index.json agrees with the zip', () => {
      expect(pack.classes).toEqual(expected.classes);
      expect(pack.counts).toEqual({
        train: expected.perClass.train * expected.classes.length,
        test: expected.perClass.test * expected.classes.length,
      });
      expect(pack.imageSize).toBe(28);
      expect(pack.license).toBe(expected.license);
      expect(pack.bytes).toBe(zipBytes);
      expect(zipBytes).toBeLessThan(MAX_ZIP_BYTES);
      for (const split of ['train', 'test'] as const) {
        const total = [...layout[split].values()].reduce((n, m) => n + m.size, 0);
        expect(total, split).toBe(pack.counts[split]);
      }
    });

    it('holds train/ and test/ with one folder per class and the documented counts', () => {
      expect(others).toEqual([]);
      for (const split of ['train', 'test'] as const) {
        expect([...layout[split].keys()], split).toEqual(expected.classes);
        for (const [name, images] of layout[split])
          expect(images.size, `${split}/${name}`).toBe(expected.perClass[split]);
      }
    });

    it('holds 28×28 one-channel PNGs', async () => {
      for (const split of ['train', 'test'] as const) {
        for (const [name, images] of layout[split]) {
          const entry = [...images.values()][0];
          const png = await entry.getData(new Uint8ArrayWriter());
          const { format, width, height, channels, depth } = await sharp(png).metadata();
          expect([format, width, height, channels, depth], `${split}/${name}`).toEqual(['png', 28, 28, 1, 'uchar']);
        }
      }
    });

    const reason = canCompare ? '' : ` (skipped: ${idxSetMissing(pack.id)})`;
    it.skipIf(!canCompare)(
      `holds the first images of each class, pixel for pixel equal to the IDX files${reason}`,
      async () => {
        for (const split of ['train', 'test'] as const) {
          const { images, labels } = await loadIdxSplit(pack.id, split);
          for (const [c, name] of expected.classes.entries()) {
            const firstOfClass = [...labels.keys()].filter((i) => labels[i] === c).slice(0, expected.perClass[split]);
            const entries = layout[split].get(name)!;
            expect(
              [...entries.keys()].sort((a, b) => a - b),
              `${split}/${name}`,
            ).toEqual(firstOfClass);
            // The first, a middle and the last image of each class.
            for (const i of [firstOfClass[0], firstOfClass[firstOfClass.length >> 1], firstOfClass.at(-1)!]) {
              const png = await entries.get(i)!.getData(new Uint8ArrayWriter());
              // sharp writes raw pixels as sRGB unless told to keep the one gray channel.
              const pixels = await sharp(png).toColourspace('b-w').raw().toBuffer();
              expect(Buffer.from(idxImage(images, i)).equals(pixels), `${split}/${name}/${i}`).toBe(true);
            }
          }
        }
      },
    );
  });
}
