// The ImageFolder layout (torchvision.datasets.ImageFolder): one folder per class below the root,
// images anywhere inside it; or the same below train/, val/ and test/ folders. Classes are sorted
// by code point like torchvision's sorted(), so label i means the same class here and there.
import { compareCodePoints, DatasetError, type DataEntry, type DatasetFiles, type LeftOut } from './entries.ts';

export type SplitName = 'train' | 'val' | 'test';

/** An image with its class index into `ImageFolder.classes`. */
export interface Sample {
  entry: DataEntry;
  label: number;
}

export interface ImageFolder {
  classes: string[];
  /** Samples of each split, sorted by path; all in `train` when the root has no split folders. */
  train: Sample[];
  val: Sample[];
  test: Sample[];
  /** True when the root holds train/, val/ or test/ folders. */
  splitFolders: boolean;
  /** Everything the source and the layout left out, paths as the source names them. */
  leftOut: LeftOut[];
  /** Things the person should know (empty classes, classes missing from a split); the run goes on. */
  problems: string[];
}

const SPLIT_NAMES: Record<string, SplitName> = {
  train: 'train',
  val: 'val',
  valid: 'val',
  validation: 'val',
  test: 'test',
};

function splitOf(folder: string): SplitName | undefined {
  return SPLIT_NAMES[folder.toLowerCase()];
}

/** Split folders are honoured when the root has a train/ folder, or holds nothing but split
 *  folders; so a class that happens to be called 'test' does not turn a plain layout into one. */
function hasSplitFolders(files: DatasetFiles): boolean {
  const inFolders = files.entries.map((e) => e.path).filter((p) => p.includes('/'));
  const names = [...new Set([...inFolders, ...files.folders].map((p) => p.split('/')[0]))];
  return (
    names.some((n) => splitOf(n) === 'train') || (names.length > 0 && names.every((n) => splitOf(n) !== undefined))
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Class list, samples per split and what was left out, from the selected images of a source.
 *  Throws DatasetError when fewer than 2 classes hold images. */
export function imageFolder(files: DatasetFiles): ImageFolder {
  const splitFolders = hasSplitFolders(files);
  const leftOut: LeftOut[] = [...files.leftOut];
  const problems: string[] = [];
  const leave = (path: string, reason: string) => leftOut.push({ path: files.top + path, reason });

  // Where a class folder sits: segments[0] below the root, or segments[1] below a split folder.
  const locate = (path: string): { split: SplitName; rest: string[] } | string => {
    const segments = path.split('/');
    if (!splitFolders) return { split: 'train', rest: segments };
    const split = splitOf(segments[0]);
    return split ? { split, rest: segments.slice(1) } : 'outside the train/, val/ and test/ folders';
  };

  const found: Record<SplitName, Map<string, DataEntry[]>> = { train: new Map(), val: new Map(), test: new Map() };
  for (const entry of files.entries) {
    const where = locate(entry.path);
    if (typeof where === 'string') {
      leave(entry.path, where);
    } else if (where.rest.length < 2) {
      leave(entry.path, 'not inside a class folder');
    } else {
      const byClass = found[where.split];
      const entries = byClass.get(where.rest[0]);
      if (entries) entries.push(entry);
      else byClass.set(where.rest[0], [entry]);
    }
  }

  // Classes are those of train/ when it has images, so that every label can be learnt.
  const defining = found.train.size > 0 ? [found.train] : [found.val, found.test];
  const classes = [...new Set(defining.flatMap((m) => [...m.keys()]))].sort(compareCodePoints);
  const label = new Map(classes.map((c, i) => [c, i]));

  const samples: Record<SplitName, Sample[]> = { train: [], val: [], test: [] };
  for (const split of ['train', 'val', 'test'] as const) {
    for (const [name, entries] of found[split]) {
      const index = label.get(name);
      if (index === undefined) {
        problems.push(
          `class '${name}' is in ${split}/ but not in train/: its ${plural(entries.length, 'image')} are left out`,
        );
        for (const e of entries) leave(e.path, `class '${name}' is not in train/`);
      } else {
        for (const entry of entries) samples[split].push({ entry, label: index });
      }
    }
    samples[split].sort((a, b) => compareCodePoints(a.entry.path, b.entry.path));
    if (split !== 'train' && found.train.size > 0 && samples[split].length > 0) {
      for (const name of classes)
        if (!found[split].has(name)) problems.push(`class '${name}' has no images in ${split}/`);
    }
  }

  // Class folders with no image anywhere (empty, or only skipped files in them).
  const folderClasses = new Set<string>();
  for (const folder of files.folders) {
    const where = locate(folder + '/');
    if (typeof where !== 'string' && where.rest.length >= 2 && !label.has(where.rest[0]))
      folderClasses.add(where.rest[0]);
  }
  const imageless = [...folderClasses].filter(
    (name) => !(['train', 'val', 'test'] as const).some((s) => found[s].has(name)),
  );
  for (const name of imageless.sort(compareCodePoints))
    problems.push(`class folder '${name}' holds no images: left out`);

  if (classes.length < 2) {
    const named =
      classes.length === 1 ? `: '${classes[0]}'` : ' (put the images of each class in a folder named after it)';
    throw new DatasetError(`needs at least 2 classes, found ${classes.length}${named}`);
  }
  return { classes, ...samples, splitFolders, leftOut, problems };
}
