// A folder tree in Node as a dataset source: listed once, each file read only when asked. The
// listing's order is whatever the file system gives; everything downstream sorts by path.
// `openDataPath` takes what the command line's --data gets, a folder or a zip.
import { openAsBlob, type Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DatasetError, folderSkipReason, type FileTree } from './entries.ts';
import { zipTree } from './zip-source.ts';

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/** Every file and folder below `root`, paths relative to it and '/'-separated. Hidden folders and
 *  __MACOSX are not walked (a .git folder can hold thousands of files); they are listed as left out. */
export async function folderTree(root: string): Promise<FileTree> {
  const tree: FileTree = { files: [], folders: [], leftOut: [] };

  const visit = async (dir: string, prefix: string): Promise<void> => {
    let children: Dirent[];
    try {
      children = await readdir(join(root, dir), { withFileTypes: true });
    } catch (e) {
      if (!prefix) throw new DatasetError(`cannot read the folder '${root}' (${code(e)})`);
      tree.leftOut.push({ path: prefix, reason: `cannot read the folder (${code(e)})` });
      return;
    }
    await Promise.all(children.map((child) => add(join(dir, child.name), prefix + child.name, child)));
  };

  const add = async (file: string, path: string, dirent: Dirent): Promise<void> => {
    const full = join(root, file);
    let isDirectory = dirent.isDirectory();
    let size = 0;
    if (dirent.isSymbolicLink() || dirent.isFile()) {
      try {
        const info = await stat(full);
        // A link to a folder could lead back up the tree: only links to files are followed.
        if (info.isDirectory()) return void tree.leftOut.push({ path, reason: 'symbolic link to a folder' });
        isDirectory = false;
        size = info.size;
      } catch (e) {
        return void tree.leftOut.push({ path, reason: `cannot read the file (${code(e)})` });
      }
    } else if (!isDirectory) {
      return void tree.leftOut.push({ path, reason: 'not a regular file' });
    }
    if (isDirectory) {
      const reason = folderSkipReason(path.split('/'));
      if (reason) return void tree.leftOut.push({ path: path + '/', reason });
      tree.folders.push(path);
      return visit(file, path + '/');
    }
    tree.files.push({ path, size, read: () => readBytes(full, path) });
  };

  await visit('', '');
  return tree;
}

async function readBytes(full: string, path: string): Promise<Uint8Array> {
  try {
    const b = await readFile(full);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new DatasetError(`cannot read '${path}' (${code(e)})`);
  }
}

/** A folder or a zip file, read lazily either way. */
export async function openDataPath(path: string): Promise<FileTree> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (e) {
    throw new DatasetError(`cannot open '${path}' (${code(e)})`);
  }
  return isDirectory ? folderTree(path) : zipTree(await openAsBlob(path), basename(path));
}
