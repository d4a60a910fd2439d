// A zip as a dataset source, read with zip.js from a Blob: a dropped File in the browser, or
// `fs.openAsBlob(path)` in Node, a Blob backed by the file. zip.js reads the central directory at the
// end, then each entry's bytes with Blob.slice when it is asked for, so a zip larger than memory works
// and reading one image touches only that image's bytes. No entry may decode to more than
// MAX_ENTRY_BYTES: one whose header declares more is left out, and reading stops at that many bytes
// whatever the header says, so a zip bomb cannot fill memory.
import {
  BlobReader,
  ERR_BAD_FORMAT,
  ERR_EOCDR_NOT_FOUND,
  ERR_INVALID_UNCOMPRESSED_SIZE,
  ZipReader,
  type Entry,
  type FileEntry,
} from '@zip.js/zip.js';
import { DatasetError, type FileTree } from './entries.ts';

/** The most bytes one entry may decode to: room for any usual image file the decoders accept (they
 *  refuse images over 100 megapixels; a 24-bit BMP of 100 megapixels is 300 MB). */
export const MAX_ENTRY_BYTES = 512 * 2 ** 20;

export interface ZipOptions {
  /** MAX_ENTRY_BYTES by default. */
  maxEntryBytes?: number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const inWords = (bytes: number) => (bytes >= 2 ** 20 ? `${+(bytes / 2 ** 20).toFixed(1)} MiB` : `${bytes} bytes`);

function openError(name: string, e: unknown): DatasetError {
  const why = message(e);
  return [ERR_EOCDR_NOT_FOUND, ERR_BAD_FORMAT].includes(why)
    ? new DatasetError(`'${name}' is not a zip file, or it is truncated (${why})`)
    : new DatasetError(`'${name}' is a damaged zip file (${why})`);
}

/** The files and folders of a zip; `name` (a File's own name by default) appears in errors. */
export async function zipTree(
  blob: Blob,
  name = (blob as Partial<File>).name ?? 'the zip',
  { maxEntryBytes = MAX_ENTRY_BYTES }: ZipOptions = {},
): Promise<FileTree> {
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
    else if (entry.uncompressedSize > maxEntryBytes) {
      leave(entry, `${inWords(entry.uncompressedSize)} uncompressed, over the limit of ${inWords(maxEntryBytes)} for one image`);
    } else tree.files.push({ path: entry.filename, size: entry.uncompressedSize, read: () => readEntry(entry, name, maxEntryBytes) });
  }
  return tree;
}

/** An entry's bytes, refused as soon as they pass `maxBytes`: the size a header declares may lie.
 *  zip.js 2.24 also refuses an entry that decodes to more than it declares; this limit holds
 *  whatever its checks. */
export async function readEntry(entry: FileEntry, zipName: string, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let over = false;
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      size += chunk.length;
      if (size > maxBytes) {
        // Erroring the stream cancels the inflation that feeds it.
        over = true;
        throw new Error(`more than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    },
  });
  try {
    await entry.getData(writable);
  } catch (e) {
    if (over) {
      throw new DatasetError(`'${entry.filename}' in '${zipName}' decodes to more than ${inWords(maxBytes)}, the limit for one image`);
    }
    if (message(e) === ERR_INVALID_UNCOMPRESSED_SIZE) {
      throw new DatasetError(`'${entry.filename}' in '${zipName}' does not decode to the ${entry.uncompressedSize} bytes its header declares (a damaged or crafted zip)`);
    }
    throw new DatasetError(`cannot read '${entry.filename}' from '${zipName}' (${message(e)})`);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
