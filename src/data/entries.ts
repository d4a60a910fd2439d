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

const SYSTEM_FILES = new Set(['thumbs.db', 'desktop.ini']);

/** Sorts like Python's `sorted()` on str (by Unicode code point), which torchvision uses for class
 *  names. JavaScript's default sort compares UTF-16 units, which puts characters beyond U+FFFF
 *  before those in U+E000..U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ) {
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

/** Why a file is not an image of the dataset, or undefined when it is kept. */
export function skipReason(path: string, size: number): string | undefined {
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

/** All folders above a path: 'a/b/c.png' gives 'a' and 'a/b'. */
function parents(path: string): string[] {
  const segments = path.split('/');
  return segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('/'));
}

/** Strips one top folder while everything kept sits in it and it holds class folders, so that a
 *  zip of 'mydata/cats/…' reads like one of 'cats/…', but 'cats/a.png' alone stays one class. */
function commonTop(entries: DataEntry[], folders: string[]): string {
  let top = '';
  for (;;) {
    const rest = entries.map((e) => e.path.slice(top.length));
    const first = rest[0]?.split('/')[0];
    if (first === undefined || rest.some((p) => !p.startsWith(first + '/'))) return top;
    if (!rest.some((p) => p.split('/').length >= 3)) return top;
    const below = top + first + '/';
    if (folders.some((f) => !below.startsWith(f + '/') && !f.startsWith(below))) return top;
    top = below;
  }
}

/** Applies the skip rules to a source's tree: keeps the images (paths NFC-normalised, so names
 *  written on macOS (NFD) and elsewhere compare equal), lists the rest with reasons, and strips a
 *  single common top folder. */
export function selectImages(tree: FileTree): DatasetFiles {
  const leftOut: LeftOut[] = [...tree.leftOut];
  const folders = new Set<string>();
  const addFolder = (path: string) => {
    const segments = path.split('/');
    if (path && !folderSkipReason(segments)) folders.add(path);
  };
  for (const f of tree.folders) {
    const clean = cleanPath(f).normalize('NFC');
    for (const p of [...parents(clean), clean]) addFolder(p);
  }

  // Sorted by (normalised, original) path so that which of two names that differ only in their
  // Unicode form is kept does not depend on the order the source listed them.
  const files = tree.files
    .map((entry) => ({ entry, path: cleanPath(entry.path).normalize('NFC') }))
    .sort((a, b) => compareCodePoints(a.path, b.path) || compareCodePoints(a.entry.path, b.entry.path));
  const kept: DataEntry[] = [];
  const seen = new Set<string>();
  for (const { entry, path } of files) {
    for (const p of parents(path)) addFolder(p);
    const reason =
      skipReason(path, entry.size) ?? (seen.has(path) ? 'same name as another file (after Unicode normalisation)' : undefined);
    if (reason) {
      leftOut.push({ path: entry.path, reason });
      continue;
    }
    seen.add(path);
    kept.push({ path, size: entry.size, read: () => entry.read() });
  }

  const top = commonTop(kept, [...folders]);
  return {
    entries: top ? kept.map((e) => ({ ...e, path: e.path.slice(top.length) })) : kept,
    folders: [...folders].filter((f) => f.startsWith(top) && f.length > top.length).map((f) => f.slice(top.length)),
    leftOut,
    top,
  };
}
