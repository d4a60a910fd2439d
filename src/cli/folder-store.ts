// Files on disk written whole or not at all, and a run's --out folder as a store of its checkpoints
// (src/train/checkpoint-files.ts): a file is written under a temporary name and renamed into place,
// and a committed checkpoint is renamed to model.safetensors and state.safetensors, the names a
// person opens.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunFolder } from '../train/checkpoint-files.ts';

/** Writes through a temporary name, so an interrupted write never leaves half a file under the real one. */
export function writeAtomic(path: string, bytes: Uint8Array | string): void {
  writeFileSync(`${path}.partial`, bytes);
  renameSync(`${path}.partial`, path);
}

export function diskFolder(dir: string): RunFolder {
  return {
    write: async (name, bytes) => writeAtomic(join(dir, name), bytes),
    read: async (name) => (existsSync(join(dir, name)) ? new Uint8Array(readFileSync(join(dir, name))) : undefined),
    remove: async (name) => rmSync(join(dir, name), { force: true }),
    rename: async (from, to) => renameSync(join(dir, from), join(dir, to)),
  };
}
