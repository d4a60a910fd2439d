// The hash a local: data reference carries, as the page and `stochca export-torch` compute it, against
// its definition written out here with Node's own SHA-256: a zip's bytes; a folder's lines
// `path\tsize\tsha256` in path order; above HASH_CONTENT_BYTES, the lines `path\tsize`, no file read.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetHash, HASH_CONTENT_BYTES } from '../../src/data/content-hash.ts';
import type { DataEntry } from '../../src/data/entries.ts';
import { folderTree } from '../../src/data/folder-source.ts';
import { makeFolder, png, removeTempDirs } from './fixtures.ts';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

afterAll(removeTempDirs);

describe('the content hash of a local dataset', () => {
  it("is a zip file's own SHA-256", async () => {
    const path = 'public/packs/mnist.zip';
    const bytes = new Uint8Array(readFileSync(path));
    const file = { path: 'mnist.zip', size: statSync(path).size, read: async () => bytes };
    expect(await datasetHash({ kind: 'zip', file })).toEqual({ size: bytes.length, count: 1, sha256: sha256(bytes) });
  });

  it("is the SHA-256 of a folder's paths, sizes and files' SHA-256 in path order", async () => {
    const files = {
      'dogs/b.png': await png(10),
      'cats/a b.png': await png(200),
      'cats/é.png': await png(90),
      'cats/sub/c.png': await png(30),
      'notes.txt': 'not an image, hashed all the same',
    };
    const tree = await folderTree(await makeFolder(files));
    const sorted = Object.entries(files)
      .map(([path, content]) => ({
        path,
        bytes: typeof content === 'string' ? new TextEncoder().encode(content) : content,
      }))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    const lines = sorted.map((f) => `${f.path}\t${f.bytes.length}\t${sha256(f.bytes)}`);
    const size = sorted.reduce((n, f) => n + f.bytes.length, 0);
    const hashed = await datasetHash({ kind: 'folder', files: tree.files });
    expect(hashed).toEqual({ size, count: sorted.length, sha256: sha256(lines.join('\n')) });
    // The order the files arrive in does not matter.
    expect(await datasetHash({ kind: 'folder', files: [...tree.files].reverse() })).toEqual(hashed);
  });

  it('is the SHA-256 of the listing above HASH_CONTENT_BYTES, without reading a file', async () => {
    const unread = (path: string, size: number): DataEntry => ({
      path,
      size,
      read: () => Promise.reject(new Error(`${path} was read`)),
    });
    const half = HASH_CONTENT_BYTES / 2;
    const files = [unread('b/2.png', half), unread('a/1.png', half), unread('a/3.png', 1)];
    expect(await datasetHash({ kind: 'folder', files })).toEqual({
      size: HASH_CONTENT_BYTES + 1,
      count: 3,
      sha256: sha256(`a/1.png\t${half}\na/3.png\t1\nb/2.png\t${half}`),
    });
    const zip = unread('big.zip', HASH_CONTENT_BYTES + 1);
    expect((await datasetHash({ kind: 'zip', file: zip })).sha256).toBe(sha256(`big.zip\t${HASH_CONTENT_BYTES + 1}`));
  });
});
