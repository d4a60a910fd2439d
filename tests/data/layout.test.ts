// The ImageFolder layout: classes, split folders, what is left out and why, refusals.
import { describe, expect, it } from 'vitest';
import { DatasetError, selectImages } from '../../src/data/entries.ts';
import { imageFolder, type Sample } from '../../src/data/layout.ts';
import { classFolders, memoryTree, type Files } from './fixtures.ts';

const img = new Uint8Array([1, 2, 3]);
const layout = (files: Files) => imageFolder(selectImages(memoryTree(files)));
const named = (samples: Sample[], classes: string[]) => samples.map((s) => `${classes[s.label]}:${s.entry.path}`);

describe('imageFolder', () => {
  it('reads one folder per class below the root, images at any depth inside it', () => {
    const f = layout({ 'dogs/a.png': img, 'cats/b.png': img, 'cats/sub/c.png': img, 'loose.png': img });
    expect(f.classes).toEqual(['cats', 'dogs']);
    expect(f.splitFolders).toBe(false);
    expect(named(f.train, f.classes)).toEqual(['cats:cats/b.png', 'cats:cats/sub/c.png', 'dogs:dogs/a.png']);
    expect(f.val).toEqual([]);
    expect(f.test).toEqual([]);
    expect(f.leftOut).toEqual([{ path: 'loose.png', reason: 'not inside a class folder' }]);
    expect(f.problems).toEqual([]);
  });

  it('sorts classes by code point like torchvision', () => {
    const f = layout(classFolders({ b: 1, a: 1, B: 1, é: 1, e: 1 }, img));
    expect(f.classes).toEqual(['B', 'a', 'b', 'e', 'é']);
  });

  it('honours train/, val/ and test/ folders (any case, validation/valid for val)', () => {
    const f = layout({
      ...classFolders({ cats: 3, dogs: 2 }, img, 'Train/'),
      ...classFolders({ cats: 1, dogs: 1 }, img, 'Validation/'),
      ...classFolders({ cats: 1, dogs: 1 }, img, 'TEST/'),
      'notes/x.png': img,
      'Train/stray.png': img,
    });
    expect(f.splitFolders).toBe(true);
    expect(f.classes).toEqual(['cats', 'dogs']);
    expect([f.train.length, f.val.length, f.test.length]).toEqual([5, 2, 2]);
    expect(named(f.val, f.classes)).toEqual(['cats:Validation/cats/0.png', 'dogs:Validation/dogs/0.png']);
    expect(f.leftOut).toEqual([
      { path: 'Train/stray.png', reason: 'not inside a class folder' },
      { path: 'notes/x.png', reason: 'outside the train/, val/ and test/ folders' },
    ]);
  });

  it.each(['val', 'valid', 'VAL'])('reads %s/ as the validation split', (name) => {
    const f = layout({
      ...classFolders({ a: 1, b: 1 }, img, 'train/'),
      ...classFolders({ a: 1, b: 1 }, img, `${name}/`),
    });
    expect(f.val.length).toBe(2);
  });

  it('does not mistake a class named test for a split folder', () => {
    const f = layout(classFolders({ test: 2, prod: 2 }, img));
    expect(f.splitFolders).toBe(false);
    expect(f.classes).toEqual(['prod', 'test']);
  });

  it('reports a class found only in val/ and leaves its images out', () => {
    const f = layout({
      ...classFolders({ cats: 2, dogs: 2 }, img, 'train/'),
      ...classFolders({ cats: 1, birds: 3 }, img, 'val/'),
    });
    expect(f.classes).toEqual(['cats', 'dogs']);
    expect(named(f.val, f.classes)).toEqual(['cats:val/cats/0.png']);
    expect(f.problems).toEqual([
      "class 'birds' is in val/ but not in train/: its 3 images are left out",
      "class 'dogs' has no images in val/",
    ]);
    expect(f.leftOut.map((l) => l.path)).toEqual(['val/birds/0.png', 'val/birds/1.png', 'val/birds/2.png']);
    expect(f.leftOut[0].reason).toBe("class 'birds' is not in train/");
  });

  it('takes the classes from val/ and test/ when there is no train/', () => {
    const f = layout({ ...classFolders({ a: 1, b: 1 }, img, 'val/'), ...classFolders({ c: 1 }, img, 'test/') });
    expect(f.classes).toEqual(['a', 'b', 'c']);
    expect([f.train.length, f.val.length, f.test.length]).toEqual([0, 2, 1]);
  });

  it('reports empty class folders, and folders whose files were all left out', () => {
    const f = layout({
      ...classFolders({ cats: 1, dogs: 1 }, img),
      'empty/': '',
      'texts/a.txt': 'x',
      'mac/.DS_Store': img,
    });
    expect(f.classes).toEqual(['cats', 'dogs']);
    expect(f.problems).toEqual([
      "class folder 'empty' holds no images: left out",
      "class folder 'mac' holds no images: left out",
      "class folder 'texts' holds no images: left out",
    ]);
  });

  it('refuses a dataset with one class, naming it', () => {
    expect(() => layout(classFolders({ cats: 5 }, img))).toThrow(
      new DatasetError("needs at least 2 classes, found 1: 'cats'"),
    );
    expect(() => layout({ ...classFolders({ cats: 5 }, img), 'dogs/': '' })).toThrow(
      "needs at least 2 classes, found 1: 'cats'",
    );
    expect(() => layout({ 'mydata/cats/a.png': img })).toThrow("needs at least 2 classes, found 1: 'cats'");
  });

  it('refuses a dataset with no class folder', () => {
    expect(() => layout({ 'a.png': img, 'b.png': img })).toThrow(/needs at least 2 classes, found 0/);
    expect(() => layout({})).toThrow(/found 0/);
  });

  it('keeps class names in any script, compared after NFC normalisation', () => {
    const nfd = 'n\u0303andu\u0301';
    const f = layout({
      [`train/${nfd}/a.png`]: img,
      'train/ñandú/b.png': img,
      'train/猫/图片.png': img,
      'train/قطة/صورة.png': img,
      [`val/${nfd}/ß.png`]: img,
      'val/猫/c.png': img,
      'val/قطة/d.png': img,
    });
    expect(f.classes).toEqual(['ñandú', 'قطة', '猫']);
    expect(f.train.map((s) => s.label)).toEqual([0, 0, 1, 2]);
    expect(named(f.val, f.classes)).toEqual(['ñandú:val/ñandú/ß.png', 'قطة:val/قطة/d.png', '猫:val/猫/c.png']);
    expect(f.problems).toEqual([]);
  });

  it('reports left-out paths as the source names them, the stripped top folder included', () => {
    const f = layout({
      'mydata/cats/a.png': img,
      'mydata/dogs/b.png': img,
      'mydata/x.png': img,
      'mydata/cats/n.txt': 'x',
    });
    expect(f.leftOut).toEqual([
      { path: 'mydata/cats/n.txt', reason: 'not an image (.txt)' },
      { path: 'mydata/x.png', reason: 'not inside a class folder' },
    ]);
  });
});
