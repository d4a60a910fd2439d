// Datasets for the data tests: real PNGs from sharp, written into real zips (zip.js) and folders.
import { BlobWriter, Uint8ArrayReader, ZipWriter, type ZipWriterConstructorOptions } from '@zip.js/zip.js';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { DataEntry, FileTree } from '../../src/data/entries.ts';

/** A small PNG of one colour. */
export async function png(shade = 128, size = 4): Promise<Uint8Array> {
  const buf = await sharp({
    create: { width: size, height: size, channels: 3, background: { r: shade, g: 255 - shade, b: 0 } },
  })
    .png()
    .toBuffer();
  return new Uint8Array(buf);
}

/** path → content; a path ending in '/' is an (empty) folder. */
export type Files = Record<string, Uint8Array | string>;

const bytes = (c: Uint8Array | string) => (typeof c === 'string' ? new TextEncoder().encode(c) : c);

/** A zip of the files (`level: 0` stores them uncompressed). */
export async function makeZip(files: Files, options: ZipWriterConstructorOptions = {}): Promise<Blob> {
  const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false, ...options });
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) await writer.add(path, undefined, { directory: true });
    else await writer.add(path, new Uint8ArrayReader(bytes(content)));
  }
  return writer.close();
}

const tempDirs: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stochca-data-'));
  tempDirs.push(dir);
  return dir;
}

/** Removes the folders made by `tempDir` (call it in afterAll). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Writes the files below a fresh temporary folder and returns it. */
export async function makeFolder(files: Files): Promise<string> {
  const root = await tempDir();
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) await mkdir(join(root, path), { recursive: true });
    else {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), bytes(content));
    }
  }
  return root;
}

/** An in-memory tree, for the rules that never read bytes. */
export function memoryTree(files: Files): FileTree {
  const tree: FileTree = { files: [], folders: [], leftOut: [] };
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) tree.folders.push(path);
    else tree.files.push(memoryEntry(path, bytes(content)));
  }
  return tree;
}

export function memoryEntry(path: string, content: Uint8Array): DataEntry {
  return { path, size: content.length, read: async () => content };
}

/** `count` images per class folder: { 'cats/0.png': png, ... }. */
export function classFolders(counts: Record<string, number>, image: Uint8Array, prefix = ''): Files {
  const files: Files = {};
  for (const [name, n] of Object.entries(counts))
    for (let i = 0; i < n; i++) files[`${prefix}${name}/${i}.png`] = image;
  return files;
}

/** The first `train` and `test` images of each class of the built-in MNIST pack, as a zip with
 *  train/ and test/ folders: real digits, small enough for runs that score their test split often. */
export async function mnistSubset(train: number, test: number): Promise<Blob> {
  const { openAsBlob } = await import('node:fs');
  const { zipTree } = await import('../../src/data/zip-source.ts');
  const tree = await zipTree(await openAsBlob('public/packs/mnist.zip'), 'mnist.zip');
  const taken = new Map<string, number>();
  const files: Files = {};
  for (const entry of [...tree.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const [split, label] = entry.path.split('/');
    const key = `${split}/${label}`;
    const n = taken.get(key) ?? 0;
    if (n >= (split === 'train' ? train : test)) continue;
    taken.set(key, n + 1);
    files[entry.path] = await entry.read();
  }
  return makeZip(files);
}
