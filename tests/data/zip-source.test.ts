// Zips as dataset sources: real zips written by zip.js with real PNGs, read back lazily from a
// file-backed Blob; damaged and non-zip files give readable errors; an entry 16,000 levels deep and
// a zip of too many entries are refused in bounded time; zip bombs are refused without being inflated,
// and an entry that is no image at its first bytes.
import { BlobReader, BlobWriter, Uint8ArrayReader, ZipReader, ZipWriter, type FileEntry } from '@zip.js/zip.js';
import { writeFile } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DatasetError, MAX_ENTRIES, selectImages } from '../../src/data/entries.ts';
import { openDataPath } from '../../src/data/folder-source.ts';
import { imageFolder } from '../../src/data/layout.ts';
import { MAX_ENTRY_BYTES, readEntry, zipTree } from '../../src/data/zip-source.ts';
import { measured } from '../helpers/measure.ts';
import { classFolders, makeZip, png, removeTempDirs, tempDir } from './fixtures.ts';

afterAll(removeTempDirs);

async function saveZip(blob: Blob, name = 'data.zip'): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, new Uint8Array(await blob.arrayBuffer()));
  return path;
}

describe('zipTree', () => {
  it('reads a zip of class folders with a common top folder and the usual clutter', async () => {
    const red = await png(250);
    const blue = await png(5);
    const inner = await makeZip({ 'x.png': red });
    const zip = await makeZip({
      'mydata/': '',
      'mydata/cats/': '',
      'mydata/cats/a.png': red,
      'mydata/cats/.DS_Store': 'x',
      'mydata/dogs/b.png': blue,
      'mydata/dogs/c.png': blue,
      'mydata/dogs/more.zip': new Uint8Array(await inner.arrayBuffer()),
      'mydata/empty/': '',
      'mydata/notes.txt': 'hello',
      '__MACOSX/mydata/cats/._a.png': 'x',
    });
    const path = await saveZip(zip);
    const folder = imageFolder(selectImages(await openDataPath(path)));
    expect(folder.classes).toEqual(['cats', 'dogs']);
    expect(folder.train.map((s) => s.entry.path)).toEqual(['cats/a.png', 'dogs/b.png', 'dogs/c.png']);
    expect(Object.fromEntries(folder.leftOut.map((l) => [l.path, l.reason]))).toEqual({
      'mydata/cats/.DS_Store': 'hidden file',
      'mydata/dogs/more.zip': 'nested zip',
      'mydata/notes.txt': 'not an image (.txt)',
      '__MACOSX/mydata/cats/._a.png': 'macOS metadata (__MACOSX)',
    });
    expect(folder.problems).toEqual(["class folder 'empty' holds no images: left out"]);
    const bytes = await folder.train[0].entry.read();
    expect(bytes).toEqual(red);
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, data[0]]).toEqual([4, 4, 250]);
  });

  it('honours train/ and val/ inside a zip', async () => {
    const image = await png();
    const zip = await makeZip({
      ...classFolders({ a: 3, b: 2 }, image, 'train/'),
      ...classFolders({ a: 1, b: 1 }, image, 'val/'),
    });
    const folder = imageFolder(selectImages(await zipTree(zip)));
    expect(folder.splitFolders).toBe(true);
    expect([folder.train.length, folder.val.length]).toEqual([5, 2]);
  });

  it.each([
    ['flagged as UTF-8', {}],
    ['in UTF-8 without the flag, as macOS writes them', { useUnicodeFileNames: false }],
  ])('keeps names in any script (%s)', async (_, options) => {
    const image = await png();
    const zip = await makeZip({ '猫/图片.png': image, 'ñandú/ß.png': image, 'قطة/صورة.png': image }, options);
    const folder = imageFolder(selectImages(await zipTree(zip)));
    expect(folder.classes).toEqual(['ñandú', 'قطة', '猫']);
    expect(folder.train.map((s) => s.entry.path)).toEqual(['ñandú/ß.png', 'قطة/صورة.png', '猫/图片.png']);
    expect(await folder.train[2].entry.read()).toEqual(image);
  });

  it('leaves out encrypted entries', async () => {
    const image = await png();
    const zip = await makeZip({ 'a/1.png': image }, { password: 'secret' });
    expect((await zipTree(zip)).leftOut).toEqual([{ path: 'a/1.png', reason: 'encrypted (password-protected)' }]);
  });

  it('reads one entry without reading the others', async () => {
    const big = new Uint8Array(8 << 20).fill(7);
    const small = await png();
    const path = await saveZip(
      await makeZip({ 'cats/big.png': big, 'dogs/small.png': small, 'dogs/z.png': small }, { level: 0 }),
    );
    const blob = await openAsBlob(path);
    const slice = vi.spyOn(blob, 'slice');
    const bytesRead = () => slice.mock.calls.reduce((n, [start = 0, end = blob.size]) => n + (end - start), 0);

    const tree = await zipTree(blob, 'data.zip');
    expect(bytesRead()).toBeGreaterThan(0);
    expect(bytesRead()).toBeLessThan(70_000); // the end of the file: the central directory
    slice.mockClear();
    const entry = tree.files.find((f) => f.path === 'dogs/small.png')!;
    expect(await entry.read()).toEqual(small);
    expect(bytesRead()).toBeGreaterThanOrEqual(small.length);
    expect(bytesRead()).toBeLessThan(small.length + 200);
    expect(tree.files.find((f) => f.path === 'cats/big.png')!.size).toBe(big.length);
  });

  it('names a file that is not a zip, an empty file and a truncated zip', async () => {
    const junk = new Blob([new Uint8Array(1000).fill(42)]);
    await expect(zipTree(junk, 'photos.zip')).rejects.toThrow(
      new DatasetError("'photos.zip' is not a zip file, or it is truncated (End of central directory not found)"),
    );
    await expect(zipTree(new Blob([]), 'empty.zip')).rejects.toThrow(/^'empty\.zip' is not a zip file/);
    const whole = new Uint8Array(await (await makeZip({ 'a/1.png': await png() })).arrayBuffer());
    const cut = new Blob([whole.slice(0, whole.length - 40)]);
    await expect(zipTree(cut, 'cut.zip')).rejects.toThrow(/^'cut\.zip' is not a zip file, or it is truncated/);
    const path = await saveZip(junk, 'junk.zip');
    await expect(openDataPath(path)).rejects.toThrow(/^'junk\.zip' is not a zip file/);
  });

  it('names the entry whose data is damaged', async () => {
    const zip = new Uint8Array(await (await makeZip({ 'a/1.png': new Uint8Array(5000) })).arrayBuffer());
    // The first entry's data follows its 30-byte local header, its name and its extra field.
    const view = new DataView(zip.buffer);
    const start = 30 + view.getUint16(26, true) + view.getUint16(28, true);
    zip.fill(0xff, start, start + 8);
    const tree = await zipTree(new Blob([zip]), 'bad.zip');
    expect(tree.files.map((f) => f.path)).toEqual(['a/1.png']);
    await expect(tree.files[0].read()).rejects.toThrow(/^cannot read 'a\/1\.png' from 'bad\.zip' \(.+\)$/);
  });

  it('takes the name of a File', async () => {
    const file = new File([new Uint8Array(10)], 'dropped.zip');
    await expect(zipTree(file)).rejects.toThrow(/^'dropped\.zip' is not a zip file/);
  });
});

describe('pathological listings', () => {
  it('leaves out a path 16,000 levels deep in linear time, keeping the rest', async () => {
    const image = await png();
    const deep = `${'a/'.repeat(15_999)}x.png`;
    const zip = await makeZip({ [deep]: image, 'cats/1.png': image, 'dogs/1.png': image });
    const {
      ms,
      mb,
      result: folder,
    } = await measured(async () => imageFolder(selectImages(await zipTree(zip, 'deep.zip'))));
    console.log(
      `a zip entry 16,000 levels deep: listed and left out in ${ms.toFixed(0)} ms, memory +${mb.toFixed(1)} MB`,
    );
    expect(folder.classes).toEqual(['cats', 'dogs']);
    expect(folder.leftOut).toEqual([{ path: deep, reason: 'path longer than 4,096 characters' }]);
    expect(ms).toBeLessThan(2000);
    expect(mb).toBeLessThan(100);
  });

  it(`refuses a zip of more than ${MAX_ENTRIES.toLocaleString('en')} entries after listing its first`, async () => {
    const small = await zipTree(await openAsBlob(await saveZip(manyEntries(3))), 'three.zip');
    expect(small.files.map((f) => [f.path, f.size])).toEqual([
      ['c/0000000.png', 0],
      ['c/0000001.png', 0],
      ['c/0000002.png', 0],
    ]);

    const blob = await openAsBlob(await saveZip(manyEntries(MAX_ENTRIES + 1)));
    const { ms, mb, result: error } = await measured(() => zipTree(blob, 'many.zip').catch((e: unknown) => e));
    console.log(
      `a zip of ${(MAX_ENTRIES + 1).toLocaleString('en')} entries (${(blob.size / MiB).toFixed(1)} MiB): refused in ${ms.toFixed(0)} ms, memory +${mb.toFixed(1)} MB`,
    );
    expect(error).toEqual(
      new DatasetError(
        "'many.zip' (200,001 entries) holds more than 200,000 files and folders, the most one dataset may have (use a part of it)",
      ),
    );
    expect(ms).toBeLessThan(2000);
    expect(mb).toBeLessThan(100);
  });
});

/** A zip64 archive of `n` empty stored files 'c/0000000.png'…, written byte by byte (zip.js would
 *  take minutes to write a few hundred thousand entries). */
function manyEntries(n: number): Blob {
  const name = (i: number) => Buffer.from(`c/${String(i).padStart(7, '0')}.png`);
  const length = name(0).length;
  const local = 30 + length;
  const central = 46 + length;
  const out = Buffer.alloc(n * (local + central) + 56 + 20 + 22);
  for (let i = 0; i < n; i++) {
    const at = i * local;
    out.writeUInt32LE(0x04034b50, at);
    out.writeUInt16LE(20, at + 4); // version needed
    out.writeUInt16LE(length, at + 26);
    name(i).copy(out, at + 30);
    const c = n * local + i * central;
    out.writeUInt32LE(0x02014b50, c);
    out.writeUInt16LE(20, c + 4); // version made by
    out.writeUInt16LE(20, c + 6); // version needed
    out.writeUInt16LE(length, c + 28);
    out.writeUInt32LE(at, c + 42); // where its local header is
    name(i).copy(out, c + 46);
  }
  const directory = n * local;
  const end = n * (local + central);
  // The zip64 end of central directory (the count does not fit in 16 bits), its locator, and the
  // classic end record pointing to them.
  out.writeUInt32LE(0x06064b50, end);
  out.writeBigUInt64LE(44n, end + 4);
  out.writeUInt16LE(45, end + 12);
  out.writeUInt16LE(45, end + 14);
  out.writeBigUInt64LE(BigInt(n), end + 24);
  out.writeBigUInt64LE(BigInt(n), end + 32);
  out.writeBigUInt64LE(BigInt(n * central), end + 40);
  out.writeBigUInt64LE(BigInt(directory), end + 48);
  out.writeUInt32LE(0x07064b50, end + 56);
  out.writeBigUInt64LE(BigInt(end), end + 64);
  out.writeUInt32LE(1, end + 72);
  out.writeUInt32LE(0x06054b50, end + 76);
  out.writeUInt16LE(0xffff, end + 84);
  out.writeUInt16LE(0xffff, end + 86);
  out.writeUInt32LE(0xffffffff, end + 88);
  out.writeUInt32LE(0xffffffff, end + 92);
  return new Blob([out]);
}

const MiB = 2 ** 20;

/** The 8 bytes a PNG file starts with: enough for an entry to pass as an image until its size
 *  gives it away. */
const PNG_SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A zip written by zip.js whose entry `path` inflates to `mib` MiB, `head` (a PNG signature by
 *  default) then zeros, with its header declaring `declared` bytes (the true size by default),
 *  after a small PNG 'ok/a.png'. The DEFLATE data is one zlib block per MiB (about 1 kB for one of
 *  zeros), the one of zeros repeated, so a GiB costs a megabyte and no time. */
async function zerosZip(path: string, mib: number, declared = mib * MiB, head = PNG_SIGNATURE): Promise<Blob> {
  const zeros = new Uint8Array(MiB);
  const first = new Uint8Array(MiB);
  first.set(head);
  // Each block ends byte-aligned (sync flush) and is not the last; 03 00 is an empty final block.
  const block = (bytes: Uint8Array) => deflateRawSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
  const data = new Uint8Array(
    Buffer.concat([block(first), ...Array<Buffer>(mib - 1).fill(block(zeros)), Buffer.from([0x03, 0x00])]),
  );
  let crc = crc32(first);
  for (let i = 1; i < mib; i++) crc = crc32(zeros, crc);
  const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false });
  await writer.add('ok/a.png', new Uint8ArrayReader(await png()));
  await writer.add(path, new Uint8ArrayReader(data), {
    passThrough: true,
    compressionMethod: 8,
    uncompressedSize: declared,
    crc32: crc,
  });
  return writer.close();
}

describe('zip bombs', () => {
  it('reads an entry of exactly the limit, so the zeros zips are what they say', async () => {
    const tree = await zipTree(await zerosZip('a/zeros.png', 4), 'zeros.zip', { maxEntryBytes: 4 * MiB });
    const bytes = await tree.files.find((f) => f.path === 'a/zeros.png')!.read();
    expect(bytes.length).toBe(4 * MiB);
    expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(bytes.subarray(8).every((b) => b === 0)).toBe(true);
  });

  it('leaves out 300 MiB of zeros named .png when listing, over the 64 MiB limit, reading only the central directory', async () => {
    expect(MAX_ENTRY_BYTES).toBe(64 * MiB);
    const zip = await zerosZip('a/bomb.png', 300, undefined, new Uint8Array());
    expect(zip.size).toBeLessThan(MiB);
    const slice = vi.spyOn(zip, 'slice');
    const t0 = performance.now();
    const tree = await zipTree(zip, 'bomb.zip');
    const ms = performance.now() - t0;
    expect(tree.leftOut).toEqual([
      { path: 'a/bomb.png', reason: '300 MiB uncompressed, over the limit of 64 MiB for one image' },
    ]);
    expect(tree.files.map((f) => f.path)).toEqual(['ok/a.png']);
    // The end of the file, where the central directory is, and not the rest of the entry's data.
    expect(slice.mock.calls.reduce((n, [start = 0, end = zip.size]) => n + (end - start), 0)).toBeLessThan(70_000);
    expect(ms).toBeLessThan(500);
  });

  it('stops an entry that is no image at its first bytes: 300 MiB of zeros named .png, declared as 60 MiB, 8 at once', async () => {
    const zip = await zerosZip('a/bomb.png', 300, 60 * MiB, new Uint8Array());
    const entry = (await zipTree(zip, 'bomb.zip')).files.find((f) => f.path === 'a/bomb.png')!;
    const { ms, mb, result } = await measured(() => Promise.allSettled(Array.from({ length: 8 }, () => entry.read())));
    console.log(
      `8 reads of 300 MiB of zeros named .png: refused in ${ms.toFixed(0)} ms, peak memory +${mb.toFixed(1)} MB`,
    );
    for (const r of result) {
      expect(r.status === 'rejected' && r.reason).toEqual(
        new DatasetError(
          "'a/bomb.png' in 'bomb.zip' is not an image (it starts with no PNG, JPEG, WebP, BMP or GIF signature)",
        ),
      );
    }
    expect(ms).toBeLessThan(2000);
    expect(mb).toBeLessThan(100);
  });

  it('refuses an entry too short to be an image', async () => {
    const tree = await zipTree(await makeZip({ 'a/tiny.png': 'hi' }), 'tiny.zip');
    await expect(tree.files[0].read()).rejects.toThrow("'a/tiny.png' in 'tiny.zip' is not an image");
  });

  it('stops reading as soon as an entry decodes to more than the limit', async () => {
    // A PNG signature and 2 GiB of zeros, honestly declared, read with a limit of 1 MiB.
    const zip = await zerosZip('a/bomb.png', 2048);
    const [, entry] = await new ZipReader(new BlobReader(zip), { useWebWorkers: false }).getEntries();
    const t0 = performance.now();
    const error = await readEntry(entry as FileEntry, 'bomb.zip', MiB).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toBe(
      "'a/bomb.png' in 'bomb.zip' decodes to more than 1 MiB, the limit for one image",
    );
    // Reading all 2 GiB takes about 40 s here.
    expect(ms).toBeLessThan(500);
  });

  it.each([
    ['less than it holds (a PNG signature and 1 GiB of zeros declared as 1,000 bytes)', 1024, 1000],
    ['more than it holds', 1, 2 * MiB],
  ])('refuses an entry whose header declares %s, naming it', async (_, mib, declared) => {
    const tree = await zipTree(await zerosZip('a/liar.png', mib, declared), 'liar.zip');
    const entry = tree.files.find((f) => f.path === 'a/liar.png')!;
    expect(entry.size).toBe(declared);
    const t0 = performance.now();
    const error = await entry.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toBe(
      `'a/liar.png' in 'liar.zip' does not decode to the ${declared} bytes its header declares (a damaged or crafted zip)`,
    );
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
