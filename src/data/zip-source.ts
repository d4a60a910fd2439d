// A zip as a dataset source, read with zip.js from a Blob: a dropped File in the browser, or
// `fs.openAsBlob(path)` in Node, a Blob backed by the file. zip.js reads the central directory at the
// end, then each entry's bytes with Blob.slice when it is asked for, so a zip larger than memory works
// and reading one image touches only that image's bytes. No entry may decode to more than
// MAX_ENTRY_BYTES: one whose header declares more is left out, and reading stops at that many bytes
// whatever the header says, or as soon as its first bytes show it is no image, so a zip bomb cannot
// fill memory. A zip of more than MAX_ENTRIES entries is refused after its first entry is listed.
import {
  BlobReader,
  ERR_BAD_FORMAT,
  ERR_EOCDR_NOT_FOUND,
  ERR_INVALID_UNCOMPRESSED_SIZE,
  ZipReader,
  type Entry,
  type FileEntry,
} from '@zip.js/zip.js';
import { DatasetError, MAX_ENTRIES, tooManyEntries, type FileTree } from './entries.ts';
import { imageFormat, NO_SIGNATURE, SIGNATURE_BYTES } from './image-signature.ts';
import { errorMessage } from '../gpu/error-message.ts';

/** The most bytes one entry may decode to. Each image read is held whole in memory, several at
 *  once, so this is kept to what images for training are: a 100-megapixel camera JPEG is about
 *  40 MB, and a PNG or BMP larger than this is beyond anything a ViT sees at a few hundred pixels
 *  (the decoders refuse images over 100 megapixels in any case). */
export const MAX_ENTRY_BYTES = 64 * 2 ** 20;

export interface ZipOptions {
  /** MAX_ENTRY_BYTES by default. */
  maxEntryBytes?: number;
}

const inWords = (bytes: number) => (bytes >= 2 ** 20 ? `${+(bytes / 2 ** 20).toFixed(1)} MiB` : `${bytes} bytes`);

function openError(name: string, e: unknown): DatasetError {
  const why = errorMessage(e);
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
  // Entries are listed one by one; zip.js reports how many the zip declares with the first.
  let declared = 0;
  const entries: Entry[] = [];
  try {
    for await (const entry of reader.getEntriesGenerator({ onprogress: (_, total) => void (declared = total) })) {
      if (declared > MAX_ENTRIES) break;
      entries.push(entry);
    }
  } catch (e) {
    throw openError(name, e);
  }
  if (declared > MAX_ENTRIES) throw tooManyEntries(`'${name}' (${declared.toLocaleString('en')} entries)`);

  const tree: FileTree = { files: [], folders: [], leftOut: [] };
  const leave = (entry: Entry, reason: string) => tree.leftOut.push({ path: entry.filename, reason });
  for (const entry of entries) {
    if (entry.directory) tree.folders.push(entry.filename);
    else if (entry.encrypted) leave(entry, 'encrypted (password-protected)');
    else if (entry.symlink) leave(entry, 'symbolic link');
    else if (entry.uncompressedSize > maxEntryBytes) {
      leave(
        entry,
        `${inWords(entry.uncompressedSize)} uncompressed, over the limit of ${inWords(maxEntryBytes)} for one image`,
      );
    } else
      tree.files.push({
        path: entry.filename,
        size: entry.uncompressedSize,
        read: () => readEntry(entry, name, maxEntryBytes),
      });
  }
  return tree;
}

/** The first `length` bytes of `chunks` as one array. */
function join(chunks: Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0, at = 0; at < length; at += chunks[i++].length) bytes.set(chunks[i].subarray(0, length - at), at);
  return bytes;
}

/** An entry's bytes, refused as soon as they pass `maxBytes` (the size a header declares may lie)
 *  or as soon as the first of them show no image signature (a bomb named '.png' stops there).
 *  zip.js 2.24 also refuses an entry that decodes to more than it declares; these limits hold
 *  whatever its checks. */
export async function readEntry(entry: FileEntry, zipName: string, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let refused: string | undefined;
  const refuse = (why: string) => new DatasetError(`'${entry.filename}' in '${zipName}' ${why}`);
  const notImage = `is not an image (${NO_SIGNATURE})`;
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      const before = size;
      size += chunk.length;
      chunks.push(chunk);
      if (size > maxBytes) refused = `decodes to more than ${inWords(maxBytes)}, the limit for one image`;
      else if (before < SIGNATURE_BYTES && size >= SIGNATURE_BYTES && !imageFormat(join(chunks, SIGNATURE_BYTES)))
        refused = notImage;
      // Erroring the stream cancels the inflation that feeds it.
      if (refused) throw new Error(refused);
    },
  });
  try {
    await entry.getData(writable);
  } catch (e) {
    if (refused) throw refuse(refused);
    if (errorMessage(e) === ERR_INVALID_UNCOMPRESSED_SIZE) {
      throw refuse(
        `does not decode to the ${entry.uncompressedSize} bytes its header declares (a damaged or crafted zip)`,
      );
    }
    throw new DatasetError(`cannot read '${entry.filename}' from '${zipName}' (${errorMessage(e)})`);
  }
  const bytes = join(chunks, size);
  if (size < SIGNATURE_BYTES && !imageFormat(bytes)) throw refuse(notImage);
  return bytes;
}
