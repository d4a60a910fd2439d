// The common shape of every dataset source (a dropped folder, a folder picker, a zip, a folder in
// Node): a list of files read on demand, and the rules that decide which of them are images of the
// dataset. Nothing here reads a file's bytes; everything after this step sees only kept entries.

/** One file of a dataset, read only when asked. */
export interface DataEntry {
  /** '/'-separated, relative to the dataset root: 'cats/a.png' or 'train/cats/a.png'. */
  path: string;
  /** Bytes, as the source reports them (the uncompressed size for a zip entry). */
  size: number;
  read(): Promise<Uint8Array>;
  /** The file itself, where the source has one (a dropped or picked file). */
  blob?: Blob;
}

/** A file that is not part of the dataset, and why, in words for the person who dropped it. */
export interface LeftOut {
  path: string;
  reason: string;
}

/** What a source lists: its files, its folders (empty ones included, where the source knows them)
 *  and what it could not offer at all (an encrypted zip entry, an unreadable folder). */
export interface FileTree {
  files: DataEntry[];
  folders: string[];
  leftOut: LeftOut[];
}

/** The images of a dataset, paths relative to its root (NFC), ready for the layout. */
export interface DatasetFiles {
  entries: DataEntry[];
  /** Every folder below the root that is not hidden, also those holding no image. */
  folders: string[];
  /** Paths as the source names them, so a person can find the file. */
  leftOut: LeftOut[];
  /** The common top folder that was stripped ('mydata/'), or ''. */
  top: string;
}

/** A dataset that cannot be used as it is; the message says why in words. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif'];

/** Longest path kept, in characters: Linux's PATH_MAX, longer than any dataset needs. Only crafted
 *  zips and trees go beyond, and every folder of a path is listed as a path of its own. */
export const MAX_PATH_LENGTH = 4096;
/** Most levels a kept path may have ('train/cats/a.png' has 3): room for wrapper folders and
 *  nested class folders, while a path 16,000 levels deep (a crafted zip) is left out at once. */
export const MAX_PATH_DEPTH = 64;
/** Most files and folders one source may list. A listing stays in memory while the dataset is open,
 *  and zip.js keeps about 5.6 KB per zip entry: 1.1 GB at this count, while a million would not fit
 *  in a page. Twice the 101,000 images of Food-101, among the largest datasets one fine-tunes on. */
export const MAX_ENTRIES = 200_000;

/** The message for a source listing more than MAX_ENTRIES files and folders. */
export function tooManyEntries(what: string): DatasetError {
  return new DatasetError(
    `${what} holds more than ${MAX_ENTRIES.toLocaleString('en')} files and folders, the most one dataset may have (use a part of it)`,
  );
}

const SYSTEM_FILES = new Set(['thumbs.db', 'desktop.ini']);

/** Sorts like Python's `sorted()` on str (by Unicode code point), which torchvision uses for class
 *  names. JavaScript's default sort compares UTF-16 units, which puts characters beyond U+FFFF
 *  before those in U+E000..U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n;) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

/** Backslashes (written by some Windows zip tools) become '/'; empty and '.' segments go. */
function cleanPath(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

/** Why a folder (its path as segments) is not part of any dataset, or undefined: a source may
 *  leave such a folder unlisted. */
export function folderSkipReason(segments: string[]): string | undefined {
  if (segments.includes('..')) return "name leaves the dataset folder ('..')";
  if (segments.includes('__MACOSX')) return 'macOS metadata (__MACOSX)';
  if (segments.some((s) => s.startsWith('.'))) return 'hidden folder';
  return undefined;
}

/** Whether a path has more than `most` levels once cleaned; reads it only up to the level past `most`. */
function deeperThan(path: string, most: number): boolean {
  let levels = 0;
  for (const [segment] of path.matchAll(/[^/\\]+/g)) if (segment !== '.' && ++levels > most) return true;
  return false;
}

/** Why a path is beyond MAX_PATH_LENGTH or MAX_PATH_DEPTH, or undefined; a huge path costs no
 *  more to refuse than one at the limits. */
export function pathLimitReason(path: string): string | undefined {
  if (path.length > MAX_PATH_LENGTH) return `path longer than ${MAX_PATH_LENGTH.toLocaleString('en')} characters`;
  if (deeperThan(path, MAX_PATH_DEPTH)) return `more than ${MAX_PATH_DEPTH} levels deep`;
  return undefined;
}

/** Why a file is not an image of the dataset, or undefined when it is kept. */
export function skipReason(path: string, size: number): string | undefined {
  const beyond = pathLimitReason(path);
  if (beyond) return beyond;
  const segments = cleanPath(path).split('/');
  const name = segments[segments.length - 1];
  const inFolder = folderSkipReason(segments.slice(0, -1));
  if (inFolder) return inFolder;
  if (name === '..') return "name leaves the dataset folder ('..')";
  if (name.startsWith('.')) return 'hidden file';
  if (SYSTEM_FILES.has(name.toLowerCase())) return `Windows folder metadata (${name})`;
  const ext = extension(name);
  if (ext === '.zip') return 'nested zip';
  if (!IMAGE_EXTENSIONS.includes(ext)) return ext ? `not an image (${ext})` : 'not an image (no extension)';
  if (size === 0) return 'empty file (0 bytes)';
  return undefined;
}

/** Strips one top folder while everything kept sits in it and it holds class folders, so that a
 *  zip of 'mydata/cats/…' reads like one of 'cats/…', but 'cats/a.png' alone stays one class.
 *  One pass over the paths and one over the folders. */
function commonTop(paths: string[], folders: string[]): string {
  if (paths.length === 0) return '';
  // The folders every image sits in, and the most levels of any path.
  const chain = paths[0].split('/').slice(0, -1);
  let deepest = 0;
  const shared = (segments: string[], most: number) => {
    let k = 0;
    while (k < most && segments[k] === chain[k]) k++;
    return k;
  };
  for (const path of paths) {
    const segments = path.split('/');
    deepest = Math.max(deepest, segments.length);
    chain.length = shared(segments, Math.min(chain.length, segments.length - 1));
  }
  // Some image must stay inside a class folder below the top.
  let levels = Math.min(chain.length, deepest - 2);
  // A folder beside the chain (an empty class folder) keeps the top above it.
  for (const folder of folders) {
    const segments = folder.split('/');
    const k = shared(segments, Math.min(chain.length, segments.length));
    if (k < segments.length) levels = Math.min(levels, k);
  }
  return levels > 0 ? `${chain.slice(0, levels).join('/')}/` : '';
}

/** Applies the skip rules to a source's tree: keeps the images (paths NFC-normalised, so names
 *  written on macOS (NFD) and elsewhere compare equal), lists the rest with reasons, and strips a
 *  single common top folder. */
export function selectImages(tree: FileTree): DatasetFiles {
  const leftOut: LeftOut[] = [...tree.leftOut];
  // Folders met so far, listed or not; those listed are not hidden and hold no '..'.
  const met = new Set<string>();
  const folders = new Set<string>();
  const addFolder = (path: string) => {
    met.add(path);
    if (!folderSkipReason(path.split('/'))) folders.add(path);
  };
  // A path's own folder, then those above it up to one already met, whose own are met too: each
  // folder is looked at once however many files it holds.
  const addParents = (path: string) => {
    for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
      const folder = path.slice(0, end);
      if (met.has(folder)) return;
      addFolder(folder);
    }
  };
  // Folders beyond the limits are not listed; any file in one is left out, with the reason.
  for (const f of tree.folders) {
    if (pathLimitReason(f)) continue;
    const clean = cleanPath(f).normalize('NFC');
    if (clean && !met.has(clean)) addFolder(clean);
    addParents(clean);
  }

  // Sorted by (normalised, original) path so that which of two names that differ only in their
  // Unicode form is kept does not depend on the order the source listed them.
  const files = tree.files
    .map((entry) => ({ entry, path: cleanPath(entry.path).normalize('NFC') }))
    .sort((a, b) => compareCodePoints(a.path, b.path) || compareCodePoints(a.entry.path, b.entry.path));
  const kept: DataEntry[] = [];
  const seen = new Set<string>();
  for (const { entry, path } of files) {
    if (!pathLimitReason(path)) addParents(path);
    const reason =
      skipReason(path, entry.size) ??
      (seen.has(path) ? 'same name as another file (after Unicode normalisation)' : undefined);
    if (reason) {
      leftOut.push({ path: entry.path, reason });
      continue;
    }
    seen.add(path);
    kept.push({ path, size: entry.size, read: () => entry.read() });
  }

  const top = commonTop(
    kept.map((e) => e.path),
    [...folders],
  );
  return {
    entries: top ? kept.map((e) => ({ ...e, path: e.path.slice(top.length) })) : kept,
    folders: [...folders].filter((f) => f.startsWith(top) && f.length > top.length).map((f) => f.slice(top.length)),
    leftOut,
    top,
  };
}
