// Folder trees in Node as dataset sources: real files with real PNGs in a temporary folder.
import { rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, selectImages } from '../../src/data/entries.ts';
import { folderTree, openDataPath } from '../../src/data/folder-source.ts';
import { imageFolder } from '../../src/data/layout.ts';
import { classFolders, makeFolder, makeZip, png, removeTempDirs } from './fixtures.ts';

afterAll(removeTempDirs);

const reasons = (leftOut: { path: string; reason: string }[]) =>
  Object.fromEntries(leftOut.map((l) => [l.path, l.reason]));

describe('folderTree', () => {
  it('lists a class-folder tree and reads each file on demand', async () => {
    const red = await png(250);
    const inner = new Uint8Array(await (await makeZip({ 'x.png': red })).arrayBuffer());
    const root = await makeFolder({
      'cats/a.png': red,
      'cats/deep/b.PNG': red,
      'dogs/c.jpg': red,
      'dogs/zero.png': new Uint8Array(0),
      'dogs/Thumbs.db': 'x',
      'dogs/pack.zip': inner,
      'empty/': '',
      '.git/objects/1.png': red,
      '__MACOSX/cats/._a.png': 'x',
      'loose.png': red,
    });
    await symlink(join(root, 'cats'), join(root, 'loop'));
    await symlink(join(root, 'cats/a.png'), join(root, 'dogs/link.png'));

    const tree = await folderTree(root);
    expect(reasons(tree.leftOut)).toEqual({
      '.git/': 'hidden folder',
      '__MACOSX/': 'macOS metadata (__MACOSX)',
      loop: 'symbolic link to a folder',
    });
    const folder = imageFolder(selectImages(tree));
    expect(folder.classes).toEqual(['cats', 'dogs']);
    expect(folder.train.map((s) => s.entry.path)).toEqual([
      'cats/a.png',
      'cats/deep/b.PNG',
      'dogs/c.jpg',
      'dogs/link.png',
    ]);
    expect(reasons(folder.leftOut)).toMatchObject({
      'dogs/zero.png': 'empty file (0 bytes)',
      'dogs/Thumbs.db': 'Windows folder metadata (Thumbs.db)',
      'dogs/pack.zip': 'nested zip',
      'loose.png': 'not inside a class folder',
    });
    expect(folder.problems).toEqual(["class folder 'empty' holds no images: left out"]);
    expect(await folder.train[3].entry.read()).toEqual(red);
    expect(folder.train[0].entry.size).toBe(red.length);
  });

  it('honours train/val/test folders and names in any script', async () => {
    const image = await png();
    const root = await makeFolder({
      ...classFolders({ 猫: 2, ñandú: 2, قطة: 2 }, image, 'train/'),
      'val/猫/图片.png': image,
      'val/ñandú/ß.png': image,
      'val/قطة/صورة.png': image,
      ...classFolders({ 猫: 1, ñandú: 1, قطة: 1 }, image, 'test/'),
    });
    const folder = imageFolder(selectImages(await openDataPath(root)));
    expect(folder.classes).toEqual(['ñandú', 'قطة', '猫']);
    expect([folder.train.length, folder.val.length, folder.test.length]).toEqual([6, 3, 3]);
    expect(folder.val.map((s) => s.entry.path)).toEqual(['val/ñandú/ß.png', 'val/قطة/صورة.png', 'val/猫/图片.png']);
  });

  it('strips a single top folder and refuses a single class', async () => {
    const image = await png();
    const wrapped = await makeFolder(classFolders({ a: 1, b: 1 }, image, 'mydata/'));
    expect(selectImages(await folderTree(wrapped)).top).toBe('mydata/');
    const single = await makeFolder(classFolders({ cats: 3 }, image));
    await expect(async () => imageFolder(selectImages(await folderTree(single)))).rejects.toThrow(
      new DatasetError("needs at least 2 classes, found 1: 'cats'"),
    );
  });

  it('names a file that disappeared after listing, and a path that does not exist', async () => {
    const root = await makeFolder({ 'a/1.png': await png() });
    const tree = await folderTree(root);
    await rm(join(root, 'a/1.png'));
    await expect(tree.files[0].read()).rejects.toThrow("cannot read 'a/1.png' (ENOENT)");
    await expect(openDataPath(join(root, 'nothing'))).rejects.toThrow(/^cannot open '.*nothing' \(ENOENT\)$/);
  });
});
