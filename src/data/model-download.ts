// A model file fetched from a URL or from the model zoo, in the page and the command line alike: its
// header checked from its first bytes before the rest is read, a body that breaks off resumed where it
// stopped when the server allows, and for a zoo model its repository's config.json fetched first.
import { checkModelStart } from '../checkpoint/safetensors-start.ts';
import { hubFileUrl, ZOO_CONFIG_FILE, type ZooEntry } from '../checkpoint/zoo.ts';
import { download, type DownloadOptions } from './download.ts';

/** The page holds a model file whole, with its parsed f32 weights beside it and a copy in the training
 *  worker: 2 GiB admits ViT-L/16 in f32 (1.2 GB) with room, while anything larger, held three times
 *  over, would exceed the memory a browser tab is given. */
export const MODEL_MAX_BYTES = 2 * 2 ** 30;

/** ImageNet-1k's class names take 70 KB of a config.json; timm's larger label sets a few MB. */
const CONFIG_MAX_BYTES = 16 * 2 ** 20;

export type ModelDownloadOptions = Pick<DownloadOptions, 'signal' | 'idleSeconds' | 'onProgress'>;

/** The safetensors file at `url`. */
export function downloadModel(url: string, o: ModelDownloadOptions = {}): Promise<Blob> {
  return download(url, {
    ...o,
    what: 'a safetensors file',
    maxBytes: MODEL_MAX_BYTES,
    checkStart: checkModelStart,
    resume: true,
  });
}

/** A zoo model from the Hub at `hub`: its config.json's text (fetched first: it is small, and a wrong
 *  address shows at once), then its weights, whose progress is reported. */
export async function downloadZooModel(
  entry: ZooEntry,
  hub: string,
  o: ModelDownloadOptions = {},
): Promise<{ config: string; weights: Blob }> {
  const { signal, idleSeconds } = o;
  const config = await download(hubFileUrl(hub, entry.repo, ZOO_CONFIG_FILE), {
    signal,
    idleSeconds,
    what: 'a config.json',
    maxBytes: CONFIG_MAX_BYTES,
    json: true,
  });
  return { config: await config.text(), weights: await downloadModel(hubFileUrl(hub, entry.repo, entry.file), o) };
}
