// The zoo's models kept in the origin-private file system (OPFS), so that a model fetched once loads
// after a reload without being fetched again: hub/<org>/<name>/ holds its weights and config.json under
// the Hub's names. Each file is written through createWritable, which commits only on close, and the
// weights last, so a folder with weights is whole.
import { ZOO, ZOO_CONFIG_FILE, type ZooEntry } from '../../checkpoint/zoo.ts';

const ROOT = 'hub';

export interface CachedZooModel {
  repo: string;
  files: { name: string; bytes: number }[];
}

/** The repository's folder; undefined when it does not exist and `create` is not set. */
async function repoDir(repo: string, create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
  try {
    let dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create });
    for (const part of repo.split('/')) dir = await dir.getDirectoryHandle(part, { create });
    return dir;
  } catch (e) {
    if (!create && (e as DOMException).name === 'NotFoundError') return undefined;
    throw e;
  }
}

async function fileOf(dir: FileSystemDirectoryHandle, name: string): Promise<File | undefined> {
  try {
    return await (await dir.getFileHandle(name)).getFile();
  } catch {
    return undefined;
  }
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, data: Blob | string): Promise<void> {
  const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
  try {
    await w.write(data);
    await w.close();
  } catch (e) {
    // A failed write (a full quota) is discarded, leaving the file as it was.
    await w.abort().catch(() => undefined);
    throw e;
  }
}

/** The model's config.json text and weights, when the cache holds both. */
export async function readCachedZoo(entry: ZooEntry): Promise<{ config: string; weights: ArrayBuffer } | undefined> {
  const dir = await repoDir(entry.repo, false);
  const weights = dir && (await fileOf(dir, entry.file));
  const config = dir && (await fileOf(dir, ZOO_CONFIG_FILE));
  return weights && config ? { config: await config.text(), weights: await weights.arrayBuffer() } : undefined;
}

export async function writeCachedZoo(entry: ZooEntry, config: string, weights: Blob): Promise<void> {
  const dir = (await repoDir(entry.repo, true))!;
  await writeFile(dir, ZOO_CONFIG_FILE, config);
  await writeFile(dir, entry.file, weights);
}

/** What the cache holds, zoo model by zoo model (only zoo models are ever kept). */
export async function listCachedZoo(): Promise<CachedZooModel[]> {
  const found: CachedZooModel[] = [];
  for (const entry of ZOO) {
    const dir = await repoDir(entry.repo, false);
    if (!dir) continue;
    const files = (await Promise.all([entry.file, ZOO_CONFIG_FILE].map((name) => fileOf(dir, name)))).flatMap((f) =>
      f ? [{ name: f.name, bytes: f.size }] : [],
    );
    if (files.length) found.push({ repo: entry.repo, files });
  }
  return found;
}

export async function removeCachedZoo(repo: string): Promise<void> {
  const [org, name] = repo.split('/');
  const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create: true });
  const orgDir = await root.getDirectoryHandle(org, { create: true });
  await orgDir.removeEntry(name, { recursive: true }).catch((e: DOMException) => {
    if (e.name !== 'NotFoundError') throw e;
  });
}
