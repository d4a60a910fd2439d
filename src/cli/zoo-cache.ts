// The zoo's models on this machine: fetched from the Hub (STOCHCA_HUB, default huggingface.co; a
// mirror such as hf-mirror.com works the same) the first time a run names one (`--model hub:ORG/NAME`),
// then used from the cache by every later run: $STOCHCA_CACHE/hub, else $XDG_CACHE_HOME/stochca/hub,
// else ~/.cache/stochca/hub, a folder per repository holding its weights and config.json under the
// Hub's names. Each file is written under a temporary name and renamed once whole, the weights last,
// so an interrupted download leaves nothing that passes for a cached model.
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HUB, ZOO_CONFIG_FILE, zooEntry, type ZooEntry } from '../checkpoint/zoo.ts';
import { formatBytes, progressText, type DownloadProgress } from '../data/download.ts';
import { downloadZooModel } from '../data/model-download.ts';
import { writeAtomic } from './folder-store.ts';

export const hubAddress = (): string => process.env.STOCHCA_HUB || DEFAULT_HUB;

export function cacheFolder(): string {
  const root = process.env.STOCHCA_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'stochca');
  return join(root, 'hub');
}

/** Where the cache keeps a zoo model's files. */
export function zooPaths(entry: ZooEntry): { dir: string; weights: string; config: string } {
  const dir = join(cacheFolder(), ...entry.repo.split('/'));
  return { dir, weights: join(dir, entry.file), config: join(dir, ZOO_CONFIG_FILE) };
}

/** Fetches the zoo model of `repo` unless the cache has it, saying which on stderr (with the download's
 *  progress on a terminal). */
export async function cacheZooModel(repo: string): Promise<void> {
  const entry = zooEntry(repo);
  const paths = zooPaths(entry);
  if (existsSync(paths.weights) && existsSync(paths.config)) {
    console.error(`${repo}: from the cache, ${paths.dir}`);
    return;
  }
  const hub = hubAddress();
  const tty = process.stderr.isTTY;
  // A whole CLIP's image tower alone is fetched, by its byte ranges.
  const what = entry.imageTower ? `the image tower of ${formatBytes(entry.bytes)}` : formatBytes(entry.bytes);
  console.error(`${repo}: fetching ${what} from ${hub}`);
  const t0 = performance.now();
  let last: DownloadProgress | undefined;
  const onProgress = (p: DownloadProgress) => {
    last = p;
    if (tty) process.stderr.write(`\r${repo}: ${progressText(p)}\x1b[K`);
  };
  const { config, weights } = await downloadZooModel(entry, hub, { onProgress });
  mkdirSync(paths.dir, { recursive: true });
  writeAtomic(paths.config, config);
  writeAtomic(paths.weights, new Uint8Array(await weights.arrayBuffer()));
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.error(
    `${tty ? '\n' : ''}${repo}: fetched in ${seconds} s (${last ? progressText(last) : formatBytes(weights.size)}), kept in ${paths.dir}`,
  );
}
