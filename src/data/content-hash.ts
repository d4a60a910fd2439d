// The hash a `local:` data reference carries (src/train/settings.ts), so that a share link or an
// exported experiment names a picked zip or folder by what is in it, and the page can check that
// the files it is given are the ones the link was made with. The page and `stochca export-torch`
// hash the same files the same way, in the browser and in Node alike (Web Crypto).
import type { DataEntry } from './entries.ts';

/** Datasets up to this size are hashed by content; larger ones by their listing, which reads no file. */
export const HASH_CONTENT_BYTES = 256 * 2 ** 20;

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');

/** SHA-256 of bytes, or of a string's UTF-8, as lower-case hex. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** A dataset as a person gives it: one zip file, or the files of a folder (paths below its root). */
export type HashedDataset =
  | { kind: 'zip'; file: Pick<DataEntry, 'path' | 'size' | 'read'> }
  | { kind: 'folder'; files: readonly Pick<DataEntry, 'path' | 'size' | 'read'>[] };

/**
 * The size, file count and SHA-256 of a `local:` reference. Up to HASH_CONTENT_BYTES: a zip's own
 * SHA-256, or for a folder the SHA-256 of one line `path\tsize\tsha256` per file, in path order, so
 * the same files give the same hash whichever way they arrive (a drop, a picker, a path). Above it:
 * the SHA-256 of the lines `path\tsize` (a zip's path is its file name).
 */
export async function datasetHash(d: HashedDataset): Promise<{ size: number; count: number; sha256: string }> {
  const files =
    d.kind === 'zip' ? [d.file] : [...d.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const size = files.reduce((n, f) => n + f.size, 0);
  const count = files.length;
  if (size > HASH_CONTENT_BYTES)
    return { size, count, sha256: await sha256Hex(files.map((f) => `${f.path}\t${f.size}`).join('\n')) };
  if (d.kind === 'zip') return { size, count, sha256: await sha256Hex(await d.file.read()) };
  const lines: string[] = [];
  for (const f of files) lines.push(`${f.path}\t${f.size}\t${await sha256Hex(await f.read())}`);
  return { size, count, sha256: await sha256Hex(lines.join('\n')) };
}
