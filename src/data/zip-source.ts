// A zip as a dataset source, read with zip.js from a Blob: a dropped File in the browser, or
// `fs.openAsBlob(path)` in Node, a Blob backed by the file. zip.js reads the central directory at the
// end, then each entry's bytes with Blob.slice when it is asked for, so a zip larger than memory works
// and reading one image touches only that image's bytes.
import {
  BlobReader,
  ERR_BAD_FORMAT,
  ERR_EOCDR_NOT_FOUND,
  Uint8ArrayWriter,
  ZipReader,
  type Entry,
  type FileEntry,
} from '@zip.js/zip.js';
import { DatasetError, type FileTree } from './entries.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

function openError(name: string, e: unknown): DatasetError {
  const why = message(e);
  return [ERR_EOCDR_NOT_FOUND, ERR_BAD_FORMAT].includes(why)
    ? new DatasetError(`'${name}' is not a zip file, or it is truncated (${why})`)
    : new DatasetError(`'${name}' is a damaged zip file (${why})`);
}

/** The files and folders of a zip; `name` (a File's own name by default) appears in errors. */
export async function zipTree(blob: Blob, name = (blob as Partial<File>).name ?? 'the zip'): Promise<FileTree> {
  const reader = new ZipReader(new BlobReader(blob), {
    // Names in any script: zips from macOS and Info-ZIP store UTF-8 without saying so.
    filenameEncoding: 'utf-8',
    // The names are never written to disk; '..' and absolute names are left out by the skip rules
    // rather than refusing the whole zip.
    filenameValidation: 'tolerant',
    // Images are small and this already runs off the main thread; a worker per entry costs more.
    useWebWorkers: false,
  });
  let entries: Entry[];
  try {
    entries = await reader.getEntries();
  } catch (e) {
    throw openError(name, e);
  }

  const tree: FileTree = { files: [], folders: [], leftOut: [] };
  const leave = (entry: Entry, reason: string) => tree.leftOut.push({ path: entry.filename, reason });
  for (const entry of entries) {
    if (entry.directory) tree.folders.push(entry.filename);
    else if (entry.encrypted) leave(entry, 'encrypted (password-protected)');
    else if (entry.symlink) leave(entry, 'symbolic link');
    else tree.files.push({ path: entry.filename, size: entry.uncompressedSize, read: () => readEntry(entry, name) });
  }
  return tree;
}

async function readEntry(entry: FileEntry, zipName: string): Promise<Uint8Array> {
  try {
    return await entry.getData(new Uint8ArrayWriter());
  } catch (e) {
    throw new DatasetError(`cannot read '${entry.filename}' from '${zipName}' (${message(e)})`);
  }
}
