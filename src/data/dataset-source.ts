// A dataset the page can hand to its training worker: a zip, or the files of a dropped or picked
// folder. Both sides open it with the same code, so the class list the page shows is the one the
// worker trains on.
import { blobEntry } from './browser-sources.ts';
import { DatasetError, type FileTree } from './entries.ts';
import { zipTree } from './zip-source.ts';

/** A dataset as a worker can open it: a zip, or loose files with their paths below the root. */
export type DatasetSource =
  | { kind: 'zip'; name: string; blob: Blob }
  | { kind: 'files'; name: string; files: { path: string; file: Blob }[]; folders: string[] };

/** The source of a tree from a drop or a picker: its Blobs (a zip's own file when it is one). */
export function sourceOfTree(name: string, tree: FileTree, zip?: Blob): DatasetSource {
  if (zip) return { kind: 'zip', name, blob: zip };
  const files = tree.files.map((e) => {
    if (!e.blob) throw new DatasetError(`'${e.path}' has no file behind it`);
    return { path: e.path, file: e.blob };
  });
  return { kind: 'files', name, files, folders: tree.folders };
}

export async function treeOfSource(source: DatasetSource): Promise<FileTree> {
  if (source.kind === 'zip') return zipTree(source.blob, source.name);
  return { files: source.files.map((f) => blobEntry(f.path, f.file)), folders: source.folders, leftOut: [] };
}
