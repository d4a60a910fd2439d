// The skip rules, the stripping of a common top folder, Unicode normalisation and code-point order.
import { describe, expect, it } from 'vitest';
import { compareCodePoints, selectImages, skipReason } from '../../src/data/entries.ts';
import { memoryTree } from './fixtures.ts';

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

  it('cleans backslashes and leading slashes', () => {
    const out = selectImages(memoryTree({ 'cats\\a.png': img, '/dogs/./b.png': img }));
    expect(paths(out.entries)).toEqual(['cats/a.png', 'dogs/b.png']);
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
