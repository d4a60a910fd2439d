// Dataset sources in the page: a drop (folders walked through the entry API, or one zip) and a file
// picker (a folder through `webkitdirectory`, or one zip). Like the Node folder source, nothing is
// read here but the listing; each file's bytes are read when its entry is asked.
import {
  DatasetError,
  folderSkipReason,
  MAX_ENTRIES,
  pathLimitReason,
  tooManyEntries,
  type DataEntry,
  type FileTree,
} from './entries.ts';
import { zipTree } from './zip-source.ts';

/** What the walker uses of a FileSystemEntry: the page's own entries have these members, and so can
 *  plain objects in a test. */
export interface DropEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

export interface DropFileEntry extends DropEntry {
  file(success: (file: File) => void, error?: (err: DOMException) => void): void;
}

export interface DropDirectoryEntry extends DropEntry {
  createReader(): {
    /** Hands over at most 100 entries per call in Chrome, then an empty batch at the end. */
    readEntries(success: (entries: DropEntry[]) => void, error?: (err: DOMException) => void): void;
  };
}

export interface WalkOptions {
  /** Called with the number of files listed so far, as the walk goes. */
  onProgress?: (files: number) => void;
}

const why = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

const isZip = (name: string) => name.toLowerCase().endsWith('.zip');

/** A file of a tree, keeping the Blob so that the tree can be handed to a worker (dataset-source.ts). */
export function blobEntry(path: string, file: Blob): DataEntry {
  return {
    path,
    size: file.size,
    blob: file,
    read: async () => {
      try {
        return new Uint8Array(await file.arrayBuffer());
      } catch (e) {
        // The file was moved or deleted after it was dropped.
        throw new DatasetError(`cannot read '${path}' (${why(e)})`);
      }
    },
  };
}

const fileOf = (entry: DropFileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

function readBatch(reader: ReturnType<DropDirectoryEntry['createReader']>): Promise<DropEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

/** Lists files as it walks; `add` places an entry at a path, `visit` lists a folder's children,
 *  `done` returns the tree. Paths beyond the limits are left out without being entered, and the
 *  walk stops once it has met more than MAX_ENTRIES files and folders. */
function walker(options: WalkOptions) {
  const tree: FileTree = { files: [], folders: [], leftOut: [] };
  let met = 0;
  const full = () => met > MAX_ENTRIES;

  const addFile = async (entry: DropFileEntry, path: string): Promise<void> => {
    try {
      tree.files.push(blobEntry(path, await fileOf(entry)));
      options.onProgress?.(tree.files.length);
    } catch (e) {
      tree.leftOut.push({ path, reason: `cannot read the file (${why(e)})` });
    }
  };

  const visit = async (entry: DropDirectoryEntry, prefix: string): Promise<void> => {
    const reader = entry.createReader();
    while (!full()) {
      let batch: DropEntry[];
      try {
        batch = await readBatch(reader);
      } catch (e) {
        if (!prefix) throw new DatasetError(`cannot read the folder '${entry.name}' (${why(e)})`);
        tree.leftOut.push({ path: prefix, reason: `cannot read the folder (${why(e)})` });
        return;
      }
      if (batch.length === 0) return;
      // A batch at a time, so that at most one batch per level is in flight however large the folder.
      await Promise.all(batch.map((child) => add(child, prefix + child.name)));
    }
  };

  const add = async (entry: DropEntry, path: string): Promise<void> => {
    if (++met > MAX_ENTRIES) return;
    const leave = (reason: string) => void tree.leftOut.push({ path: entry.isDirectory ? `${path}/` : path, reason });
    // The folders above were walked, so only this one's own name can make it one to leave out.
    const skip = pathLimitReason(path) ?? (entry.isDirectory ? folderSkipReason([entry.name]) : undefined);
    if (skip) return leave(skip);
    if (entry.isFile) return addFile(entry as DropFileEntry, path);
    if (!entry.isDirectory) return leave('not a regular file');
    tree.folders.push(path);
    return visit(entry as DropDirectoryEntry, `${path}/`);
  };

  const done = (what: string): FileTree => {
    if (full()) throw tooManyEntries(what);
    return tree;
  };

  return { add, visit, done };
}

/** Every file and folder below the given entries, each entry's name the first segment of its paths.
 *  Hidden folders and __MACOSX are not walked (a .git folder can hold thousands of files); they are
 *  listed as left out. */
export async function walkEntries(entries: DropEntry[], options: WalkOptions = {}): Promise<FileTree> {
  const { add, done } = walker(options);
  await Promise.all(entries.map((entry) => add(entry, entry.name)));
  return done('what was dropped');
}

/** Everything below one folder, paths relative to it: the folder is the dataset's root, as a picked
 *  folder or the command line's --data is, so its own name may be anything. */
export async function walkFolder(root: DropDirectoryEntry, options: WalkOptions = {}): Promise<FileTree> {
  const { visit, done } = walker(options);
  await visit(root, '');
  return done(`'${root.name}'`);
}

/** A File that reached the page without an entry, shaped like one. */
function entryOfFile(file: File): DropFileEntry {
  return { name: file.name, isFile: true, isDirectory: false, file: (success) => success(file) };
}

/** The entries of a drop. Chrome empties a DataTransfer once its drop event returns, so this runs
 *  before anything awaits. */
export function droppedEntries(data: DataTransfer): DropEntry[] {
  const entries: DropEntry[] = [];
  for (const item of Array.from(data.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    const file = entry ? null : item.getAsFile();
    if (entry) entries.push(entry);
    else if (file) entries.push(entryOfFile(file));
  }
  return entries;
}

/** The tree of what was dropped: one zip is opened as the dataset; one folder is the dataset's
 *  root, as when it is picked; several items are combined under their names. Call it from the drop
 *  event handler itself (see `droppedEntries`). */
export function treeFromDrop(data: DataTransfer, options: WalkOptions = {}): Promise<FileTree> {
  return treeFromEntries(droppedEntries(data), options);
}

/** `treeFromDrop` on entries already taken from a drop. */
export async function treeFromEntries(entries: DropEntry[], options: WalkOptions = {}): Promise<FileTree> {
  if (entries.length === 0)
    throw new DatasetError('nothing that could be read was dropped (drop a folder or a zip file)');
  const [only] = entries;
  if (entries.length === 1 && only.isFile && isZip(only.name)) {
    let file: File;
    try {
      file = await fileOf(only as DropFileEntry);
    } catch (e) {
      throw new DatasetError(`cannot read '${only.name}' (${why(e)})`);
    }
    return zipTree(file, only.name);
  }
  return entries.length === 1 && only.isDirectory
    ? walkFolder(only as DropDirectoryEntry, options)
    : walkEntries(entries, options);
}

/** The files of a picker: a folder from `<input type=file webkitdirectory>` (paths below the picked
 *  folder, from `webkitRelativePath`), one zip, or loose files under their names. A picker lists no
 *  folders, so empty ones are unknown; files inside hidden folders and __MACOSX give one line per
 *  such folder, as a walk does. */
export async function treeFromFileList(list: FileList | File[]): Promise<FileTree> {
  const files = Array.from(list);
  if (files.length === 0) throw new DatasetError('no files were picked (an empty folder?)');
  if (files.length > MAX_ENTRIES) throw tooManyEntries('the picked folder');
  if (files.length === 1 && !files[0].webkitRelativePath && isZip(files[0].name)) return zipTree(files[0]);
  const tree: FileTree = { files: [], folders: [], leftOut: [] };
  const skipped = new Set<string>();
  for (const file of files) {
    // The first segment of a relative path is the picked folder itself.
    const segments = file.webkitRelativePath ? file.webkitRelativePath.split('/').slice(1) : [file.name];
    const path = segments.join('/');
    // The first folder that is not part of any dataset: each is looked at by its own name once.
    const depth = segments.findIndex((s, i) => i < segments.length - 1 && folderSkipReason([s]));
    if (depth < 0) {
      tree.files.push(blobEntry(path, file));
      continue;
    }
    const folder = segments.slice(0, depth + 1);
    const key = folder.join('/') + '/';
    if (!skipped.has(key)) tree.leftOut.push({ path: key, reason: folderSkipReason(folder)! });
    skipped.add(key);
  }
  return tree;
}
