// Builds two more real digit sets as ImageFolder zips, for evaluating a checkpoint on digits
// from other sources than MNIST (evaluation only: no train/test split):
//   uci-digits.zip     UCI optical recognition of handwritten digits, the 1,797 images of
//                      scikit-learn's load_digits (Debian python3-sklearn, digits.csv.gz; BSD-3-Clause):
//                      8×8, values 0..16 scaled by 255/16. <class>/<row>.png, <row> = its CSV row.
//   opencv-digits.zip  OpenCV's digits.png (Debian opencv-doc; Apache-2.0): 5,000 digits of 20×20,
//                      a 100 × 50 grid in which digit d fills grid rows 5d..5d+4.
//                      <class>/<cell>.png, <cell> = grid row × 100 + grid column.
//   opencv-transfer.zip the same 5,000 digits with a split, for fine-tuning on them
//                      (scripts/transfer-grid.ts): test/<class>/<cell>.png holds 100 digits of each
//                      class drawn with a fixed seed (buildOpenCvTransfer's), train/<class>/<cell>.png
//                      the other 400.
//   opencv-digits.zip  with --pack DIR: the built-in demo pack (OPENCV_PACK), its entry written into
//                      DIR/index.json: opencv-transfer's test split, and val/ and train/ drawn once from
//                      the other 400 of each class, in class folders named by words (zero … nine).
// All are white digits on black like MNIST (digits.png is already: 75 % of its pixels are 0),
// stored at their own size as 8-bit grayscale PNGs; `stochca eval` resizes them to the model's
// input. The digits fill their frame (UCI) or most of it, where MNIST's sit in a 20×20 box
// centred in 28×28: part of the change of domain.
//
// Reproducible bytes as in build-packs.ts (same PNG encoder and zip settings).
//
// Run with: npx tsx scripts/build-digit-sets.ts OUTDIR [--root DIR]...
//       or: npx tsx scripts/build-digit-sets.ts --pack public/packs [--root DIR]...
// The files are looked for under each --root (default /, where the installed packages put them):
// `apt-get download python3-sklearn opencv-doc`, then `dpkg-deb -x <deb> DIR` for each, and --root DIR.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { Uint8ArrayReader } from '@zip.js/zip.js';
import { seededRng } from '../src/nn/rng.ts';
import { encodePng, reproducibleZip, writeIndexEntry } from './build-packs.ts';
import { errorMessage } from '../src/gpu/error-message.ts';
import type { PackInfo } from '../src/train/builtins.ts';

const UCI_FILE = 'usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';
const OPENCV_FILE = 'usr/share/doc/opencv-doc/examples/data/digits.png';
const CLASSES = 10;

export class DigitSetError extends Error {}

interface Digit {
  label: number;
  /** The image's place in its source file, for its name. */
  index: number;
  /** [size, size] uint8, white on black. */
  pixels: Uint8Array;
}

interface DigitSet {
  file: string;
  size: number;
  digits: Digit[];
}

/** Where each file is: the first root that holds it. Missing ones end in one line naming their packages. */
function locate(roots: string[], wanted: { file: string; debPackage: string }[]): string[] {
  const found = wanted.map(({ file }) => roots.map((root) => join(root, file)).find((path) => existsSync(path)));
  const missing = wanted.filter((_, i) => found[i] === undefined);
  if (missing.length) {
    const packages = missing.map((m) => m.debPackage).join(' ');
    throw new DigitSetError(
      `${missing.map((m) => `/${m.file}`).join(' and ')} not found under ${roots.join(', ')}: ` +
        `apt-get download ${packages}, extract each with dpkg-deb -x <package>.deb DIR and pass --root DIR (or apt-get install ${packages})`,
    );
  }
  return found as string[];
}

/** Where OpenCV's digits.png is: the first root that holds it, or a DigitSetError saying how to get it. */
export function findOpenCvDigits(roots: string[]): string {
  return locate(roots, [{ file: OPENCV_FILE, debPackage: 'opencv-doc' }])[0];
}

/** scikit-learn's digits.csv.gz: rows of 64 values 0..16 (8×8, row-major) and the label. */
function parseUciDigits(csv: string, source: string): Digit[] {
  const digits = csv
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, row) => {
      const values = line.split(',').map(Number);
      const bad =
        values.length !== 65 ||
        values.some((v) => !Number.isInteger(v)) ||
        values.slice(0, 64).some((v) => v < 0 || v > 16) ||
        values[64] < 0 ||
        values[64] >= CLASSES;
      if (bad)
        throw new DigitSetError(
          `${source}: row ${row} is not 64 values 0..16 and a label 0..9: '${line.slice(0, 60)}'`,
        );
      return {
        label: values[64],
        index: row,
        pixels: Uint8Array.from(values.slice(0, 64), (v) => Math.round((v * 255) / 16)),
      };
    });
  if (digits.length === 0) throw new DigitSetError(`${source}: no rows`);
  return digits;
}

/** OpenCV's digits.png: [1000, 2000] uint8 cut into 20×20 cells; digit d fills grid rows 5d..5d+4. */
function cutOpenCvDigits(image: Uint8Array, width: number, height: number, source: string): Digit[] {
  const cell = 20;
  if (width !== 2000 || height !== 1000)
    throw new DigitSetError(`${source}: ${width}×${height} pixels, expected 2000×1000`);
  const digits: Digit[] = [];
  for (let gy = 0; gy < height / cell; gy++) {
    for (let gx = 0; gx < width / cell; gx++) {
      const pixels = new Uint8Array(cell * cell);
      for (let y = 0; y < cell; y++)
        pixels.set(
          image.subarray((gy * cell + y) * width + gx * cell, (gy * cell + y) * width + (gx + 1) * cell),
          y * cell,
        );
      digits.push({ label: Math.floor(gy / 5), index: gy * (width / cell) + gx, pixels });
    }
  }
  return digits;
}

async function loadUci(path: string): Promise<DigitSet> {
  return {
    file: 'uci-digits.zip',
    size: 8,
    digits: parseUciDigits(gunzipSync(await readFile(path)).toString('latin1'), path),
  };
}

async function loadOpenCv(path: string): Promise<DigitSet> {
  const { data, info } = await sharp(path).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { file: 'opencv-digits.zip', size: 20, digits: cutOpenCvDigits(data, info.width, info.height, path) };
}

/** ImageFolder zip: [<split>/]<class>/<index>.png, split by split, class by class, each in source order. */
async function zipDigits(
  set: DigitSet,
  splitOf: (d: Digit) => string = () => '',
  className: (label: number) => string = String,
): Promise<Uint8Array> {
  const zip = reproducibleZip();
  const named = set.digits
    .map((d) => ({ d, split: splitOf(d) }))
    .sort((a, b) => a.split.localeCompare(b.split) || a.d.label - b.d.label || a.d.index - b.d.index);
  const pngs = await Promise.all(named.map(({ d }) => encodePng(d.pixels, set.size)));
  const width = String(Math.max(...set.digits.map((d) => d.index))).length;
  // One entry at a time keeps the order fixed.
  for (const [k, { d, split }] of named.entries()) {
    await zip.add(
      `${split && `${split}/`}${className(d.label)}/${String(d.index).padStart(width, '0')}.png`,
      new Uint8ArrayReader(pngs[k]),
    );
  }
  return zip.close();
}

/** The indices (Digit.index) of `perClass` digits of each class, drawn with `seed` (a partial Fisher–Yates per class). */
function drawPerClass(digits: Digit[], perClass: number, seed: number): Set<number> {
  const rng = seededRng(seed);
  const drawn = new Set<number>();
  for (let c = 0; c < CLASSES; c++) {
    const pool = digits.filter((d) => d.label === c).map((d) => d.index);
    if (pool.length < perClass) throw new DigitSetError(`class ${c} has ${pool.length} digits, ${perClass} are needed`);
    for (let i = 0; i < perClass; i++) {
      const j = i + Math.floor(rng() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j], pool[i]];
      drawn.add(pool[i]);
    }
  }
  return drawn;
}

/** The seed and size of opencv-transfer.zip's test split: fixed, so every run scores the same 1,000 digits. */
export const OPENCV_TRANSFER = { file: 'opencv-transfer.zip', testPerClass: 100, seed: 0 };

/** Writes outDir/opencv-transfer.zip (see the header), or `file` with each class folder named by
 *  `className` (other names than the digits model's give a run a new head), or `only` one split; returns its path. */
export async function buildOpenCvTransfer(
  outDir: string,
  roots: string[] = ['/'],
  o: { file?: string; className?: (label: number) => string; only?: 'train' | 'test' } = {},
): Promise<string> {
  const all = await loadOpenCv(findOpenCvDigits(roots));
  const test = drawPerClass(all.digits, OPENCV_TRANSFER.testPerClass, OPENCV_TRANSFER.seed);
  const splitOf = (d: Digit) => (test.has(d.index) ? 'test' : 'train');
  const set = o.only ? { ...all, digits: all.digits.filter((d) => splitOf(d) === o.only) } : all;
  const bytes = await zipDigits(set, splitOf, o.className);
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, o.file ?? OPENCV_TRANSFER.file);
  await writeFile(path, bytes);
  console.log(
    `${path}: ${set.digits.filter((d) => splitOf(d) === 'train').length} train + ${set.digits.filter((d) => splitOf(d) === 'test').length} test images of 20×20, ${(bytes.length / 1024).toFixed(0)} KiB`,
  );
  return path;
}

/** The built-in demo pack: OPENCV_TRANSFER's test split (the 1,000 digits the new-head experiment scores),
 *  and from the other 400 of each class `perClass.val` validation digits drawn with `seeds.val`, then
 *  `perClass.train` training digits with `seeds.train` from what is left (so the training count leaves
 *  validation as it is). Classes are named by words: other names than the digits model's '0'..'9', so a
 *  run on the pack trains a new head, as for a person's own classes. */
export const OPENCV_PACK = {
  id: 'opencv-digits',
  name: 'OpenCV digits',
  file: 'opencv-digits.zip',
  classes: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
  perClass: { train: 5, val: 20 },
  seeds: { val: 1, train: 2 },
  source: "OpenCV's samples/data/digits.png (Debian opencv-doc)",
  license: 'Apache-2.0',
};

/** Writes outDir/opencv-digits.zip (OPENCV_PACK) and its entry in outDir/index.json; returns the entry. */
export async function buildOpenCvPack(outDir: string, roots: string[] = ['/']): Promise<PackInfo> {
  const P = OPENCV_PACK;
  const all = await loadOpenCv(findOpenCvDigits(roots));
  const test = drawPerClass(all.digits, OPENCV_TRANSFER.testPerClass, OPENCV_TRANSFER.seed);
  const pool = all.digits.filter((d) => !test.has(d.index));
  const val = drawPerClass(pool, P.perClass.val, P.seeds.val);
  const train = drawPerClass(
    pool.filter((d) => !val.has(d.index)),
    P.perClass.train,
    P.seeds.train,
  );
  const set = { ...all, digits: all.digits.filter((d) => [test, val, train].some((s) => s.has(d.index))) };
  const splitOf = (d: Digit) => (test.has(d.index) ? 'test' : val.has(d.index) ? 'val' : 'train');
  const bytes = await zipDigits(set, splitOf, (label) => P.classes[label]);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, P.file), bytes);
  const counts = { train: train.size, val: val.size, test: test.size };
  const entry: PackInfo = {
    id: P.id,
    name: P.name,
    file: P.file,
    bytes: bytes.length,
    classes: P.classes,
    counts,
    imageSize: all.size,
    description:
      `OpenCV's handwritten digits, classes zero to nine, 20×20 grayscale: ${P.perClass.train} training, ` +
      `${P.perClass.val} validation and ${OPENCV_TRANSFER.testPerClass} test images per class.`,
    source: P.source,
    license: P.license,
  };
  await writeIndexEntry(outDir, entry);
  console.log(
    `${join(outDir, P.file)}: ${counts.train} train + ${counts.val} val + ${counts.test} test images of 20×20, ${(bytes.length / 1024).toFixed(0)} KiB; index.json: its entry written`,
  );
  return entry;
}

/** Writes outDir/uci-digits.zip and outDir/opencv-digits.zip; returns their paths. */
export async function buildDigitSets(outDir: string, roots: string[] = ['/']): Promise<string[]> {
  const [uci, opencv] = locate(roots, [
    { file: UCI_FILE, debPackage: 'python3-sklearn' },
    { file: OPENCV_FILE, debPackage: 'opencv-doc' },
  ]);
  const sets = await Promise.all([loadUci(uci), loadOpenCv(opencv)]);
  await mkdir(outDir, { recursive: true });
  const written = [];
  for (const set of sets) {
    const bytes = await zipDigits(set);
    const path = join(outDir, set.file);
    await writeFile(path, bytes);
    const counts = Array.from({ length: CLASSES }, (_, c) => set.digits.filter((d) => d.label === c).length);
    console.log(
      `${path}: ${set.digits.length} images of ${set.size}×${set.size} (per class ${counts.join(' ')}), ${(bytes.length / 1024).toFixed(0)} KiB`,
    );
    written.push(path);
  }
  return written;
}

const USAGE =
  'usage: npx tsx scripts/build-digit-sets.ts OUTDIR [--root DIR]...\n' +
  '       npx tsx scripts/build-digit-sets.ts --pack public/packs [--root DIR]...';

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: { root: { type: 'string', multiple: true }, pack: { type: 'string' } },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`${errorMessage(e).split('\n')[0]}\n${USAGE}`);
    process.exit(2);
  }
  const pack = args.values.pack;
  if (args.positionals.length !== (pack === undefined ? 1 : 0)) {
    console.error(USAGE);
    process.exit(2);
  }
  const roots = args.values.root ?? ['/'];
  try {
    if (pack === undefined) await buildDigitSets(args.positionals[0], roots);
    else await buildOpenCvPack(pack, roots);
  } catch (e) {
    if (!(e instanceof DigitSetError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
}

// Only when run as a script: the experiment grid imports buildDigitSets.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
