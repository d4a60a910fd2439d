// The skip rules, the limits on paths (a tree 16,000 levels deep in bounded time), the stripping of a
// common top folder, Unicode normalisation and code-point order.
import { describe, expect, it } from 'vitest';
import {
  compareCodePoints,
  MAX_PATH_DEPTH,
  MAX_PATH_LENGTH,
  selectImages,
  skipReason,
} from '../../src/data/entries.ts';
import { imageFolder } from '../../src/data/layout.ts';
import { measured } from '../helpers/measure.ts';
import { memoryEntry, memoryTree } from './fixtures.ts';

const img = new Uint8Array([1, 2, 3]);
const paths = (files: { path: string }[]) => files.map((f) => f.path);

describe('skipReason', () => {
  it.each([
    ['cats/a.png', undefined],
    ['cats/B.JPG', undefined],
    ['cats/c.Jpeg', undefined],
    ['cats/d.webp', undefined],
    ['cats/e.bmp', undefined],
    ['cats/f.GIF', undefined],
    ['cats/.DS_Store', 'hidden file'],
    ['cats/._a.png', 'hidden file'],
    ['.hidden/a.png', 'hidden folder'],
    ['cats/.thumbs/a.png', 'hidden folder'],
    ['__MACOSX/cats/._a.png', 'macOS metadata (__MACOSX)'],
    ['cats/Thumbs.db', 'Windows folder metadata (Thumbs.db)'],
    ['cats/desktop.ini', 'Windows folder metadata (desktop.ini)'],
    ['cats/more.zip', 'nested zip'],
    ['cats/MORE.ZIP', 'nested zip'],
    ['cats/notes.txt', 'not an image (.txt)'],
    ['cats/README', 'not an image (no extension)'],
    ['cats/a.png.txt', 'not an image (.txt)'],
    ['../cats/a.png', "name leaves the dataset folder ('..')"],
  ])('%s → %s', (path, reason) => {
    expect(skipReason(path, 10)).toBe(reason);
  });

  it('skips zero-byte images', () => {
    expect(skipReason('cats/a.png', 0)).toBe('empty file (0 bytes)');
  });
});

describe('selectImages', () => {
  it('keeps the images and lists everything else with a reason', () => {
    const tree = memoryTree({
      'cats/a.png': img,
      'cats/.DS_Store': img,
      '__MACOSX/cats/._a.png': img,
      'dogs/b.jpg': img,
      'dogs/Thumbs.db': img,
      'dogs/empty.png': new Uint8Array(0),
      'dogs/inner.zip': img,
      'dogs/notes.txt': 'hello',
    });
    const out = selectImages(tree);
    expect(paths(out.entries)).toEqual(['cats/a.png', 'dogs/b.jpg']);
    expect(out.top).toBe('');
    expect(Object.fromEntries(out.leftOut.map((l) => [l.path, l.reason]))).toEqual({
      'cats/.DS_Store': 'hidden file',
      '__MACOSX/cats/._a.png': 'macOS metadata (__MACOSX)',
      'dogs/Thumbs.db': 'Windows folder metadata (Thumbs.db)',
      'dogs/empty.png': 'empty file (0 bytes)',
      'dogs/inner.zip': 'nested zip',
      'dogs/notes.txt': 'not an image (.txt)',
    });
    expect(out.folders.sort()).toEqual(['cats', 'dogs']);
  });

  it('strips a single common top folder, even with __MACOSX beside it', () => {
    const tree = memoryTree({
      'mydata/': '',
      'mydata/cats/a.png': img,
      'mydata/dogs/b.png': img,
      '__MACOSX/mydata/._x': img,
      'mydata/readme.png': img,
    });
    const out = selectImages(tree);
    expect(out.top).toBe('mydata/');
    expect(paths(out.entries)).toEqual(['cats/a.png', 'dogs/b.png', 'readme.png']);
    expect(out.folders.sort()).toEqual(['cats', 'dogs']);
  });

  it('strips nested wrapper folders, but not a class folder holding the images', () => {
    expect(selectImages(memoryTree({ 'a/b/cats/x.png': img, 'a/b/dogs/y.png': img })).top).toBe('a/b/');
    const oneClass = selectImages(memoryTree({ 'cats/x.png': img, 'cats/y.png': img }));
    expect(oneClass.top).toBe('');
    expect(paths(oneClass.entries)).toEqual(['cats/x.png', 'cats/y.png']);
  });

  it('does not strip a top folder with an empty folder beside it', () => {
    expect(selectImages(memoryTree({ 'mydata/cats/x.png': img, 'other/': '' })).top).toBe('');
  });

  it('normalises names to NFC and keeps one of two names that differ only in Unicode form', async () => {
    const nfd = 'n\u0303andu\u0301/ß.png'; // 'ñandú' written as macOS does
    const nfc = nfd.normalize('NFC');
    const other = new Uint8Array([9]);
    const out = selectImages(memoryTree({ [nfd]: img, [nfc]: other, '猫/图片.png': img }));
    expect(paths(out.entries)).toEqual([nfc, '猫/图片.png']);
    expect(await out.entries[0].read()).toEqual(img); // 'n' + U+0303 sorts before 'ñ' (U+00F1)
    expect(out.leftOut).toEqual([{ path: nfc, reason: 'same name as another file (after Unicode normalisation)' }]);
  });

  it('keeps the top folder above one that sits beside the wrappers', () => {
    const files = { 'w1/w2/w3/cats/x.png': img, 'w1/w2/w3/dogs/y.png': img, 'w1/w2/other/': '' };
    expect(selectImages(memoryTree(files)).top).toBe('w1/w2/');
  });

  it('cleans backslashes and leading slashes', () => {
    const out = selectImages(memoryTree({ 'cats\\a.png': img, '/dogs/./b.png': img }));
    expect(paths(out.entries)).toEqual(['cats/a.png', 'dogs/b.png']);
  });
});

describe('path limits', () => {
  it(`leaves out a path of more than ${MAX_PATH_LENGTH} characters or ${MAX_PATH_DEPTH} levels, saying which`, () => {
    expect(skipReason(`cats/${'x'.repeat(4087)}.png`, 10)).toBeUndefined();
    expect(skipReason(`cats/${'x'.repeat(4088)}.png`, 10)).toBe('path longer than 4,096 characters');
    expect(skipReason(`${'a/'.repeat(63)}x.png`, 10)).toBeUndefined();
    expect(skipReason(`${'a/'.repeat(64)}x.png`, 10)).toBe('more than 64 levels deep');
    expect(skipReason(`${'a//./'.repeat(63)}x.png`, 10)).toBeUndefined(); // empty and '.' levels are no levels
  });

  it('lists a tree 16,000 levels deep, with a folder entry for every level as zip tools write them, in linear time', async () => {
    const deep = 'a/'.repeat(16_000);
    // Slices share the one string, so the 16,000 folder names cost no memory of their own.
    const folders = Array.from({ length: 16_000 }, (_, i) => deep.slice(0, 2 * i + 2));
    const tree = {
      files: [memoryEntry(`${deep}x.png`, img), memoryEntry('cats/1.png', img), memoryEntry('dogs/1.png', img)],
      folders,
      leftOut: [],
    };
    const { ms, mb, result: folder } = await measured(() => imageFolder(selectImages(tree)));
    console.log(
      `a tree 16,000 levels deep with a folder entry per level: listed in ${ms.toFixed(0)} ms, memory +${mb.toFixed(1)} MB`,
    );
    expect(folder.classes).toEqual(['cats', 'dogs']);
    expect(folder.leftOut).toEqual([{ path: `${deep}x.png`, reason: 'path longer than 4,096 characters' }]);
    expect(folder.problems).toEqual(["class folder 'a' holds no images: left out"]);
    expect(ms).toBeLessThan(2000);
    expect(mb).toBeLessThan(100);
  });
});

describe('compareCodePoints', () => {
  it("orders like Python's sorted(): by code point, not UTF-16 unit", () => {
    const names = ['b', 'a', 'B', '\uff5e', '😀', 'é', 'e'];
    expect([...names].sort(compareCodePoints)).toEqual(['B', 'a', 'b', 'e', 'é', '\uff5e', '😀']);
    expect([...names].sort()).not.toEqual([...names].sort(compareCodePoints));
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
  });
});
