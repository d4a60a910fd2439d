// A model file fetched from a URL or from the model zoo, in the page and the command line alike: its
// header checked from its first bytes before the rest is read, a body that breaks off resumed where it
// stopped when the server allows, and for a zoo model its repository's config.json fetched first. A zoo
// file that holds more than the model reads (a whole CLIP) is fetched as its header, then the byte
// ranges of the tensors the model reads, and kept as a file of those alone.
import { headerEnd, readHeader } from '../checkpoint/safetensors.ts';
import { checkModelStart } from '../checkpoint/safetensors-start.ts';
import { usedTensors, usedTensorsFile } from '../checkpoint/tensor-ranges.ts';
import { hubFileUrl, ZOO_CONFIG_FILE, type ZooEntry } from '../checkpoint/zoo.ts';
import { download, RangesRefused, type DownloadOptions } from './download.ts';

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
  const url = hubFileUrl(hub, entry.repo, entry.file);
  return {
    config: await config.text(),
    weights: await (entry.imageTower ? downloadUsed(url, o) : downloadModel(url, o)),
  };
}

/** The tensors of the safetensors file at `url` that the model reads, as a file of their own: the
 *  header's length and the header first, then the tensors' byte ranges, whose progress is reported.
 *  A server that does not answer Range requests sends the whole file. */
async function downloadUsed(url: string, o: ModelDownloadOptions): Promise<Blob> {
  let fileSize = 0;
  const get = async (start: number, end: number, more: Partial<DownloadOptions> = {}) => {
    const blob = await download(url, {
      signal: o.signal,
      idleSeconds: o.idleSeconds,
      what: 'a safetensors file',
      maxBytes: MODEL_MAX_BYTES,
      resume: true,
      range: { start, end },
      onFileSize: (size) => (fileSize = size),
      ...more,
    });
    return new Uint8Array(await blob.arrayBuffer());
  };
  let first: Uint8Array;
  try {
    first = await get(0, 8);
  } catch (e) {
    if (e instanceof RangesRefused) return downloadModel(url, o);
    throw e;
  }
  const end = headerEnd(first, fileSize);
  const headerBytes = new Uint8Array(end);
  headerBytes.set(first);
  headerBytes.set(await get(8, end), 8);
  const header = readHeader(headerBytes, fileSize);
  const used = usedTensors(header);
  const chunks: Uint8Array[] = [];
  let done = 0;
  for (const r of used.ranges) {
    chunks.push(
      await get(r.start, r.end, {
        onProgress: (p) => {
          const received = done + p.received;
          const secondsLeft = p.bytesPerSecond > 0 ? (used.bytes - received) / p.bytesPerSecond : undefined;
          o.onProgress?.({ ...p, received, total: used.bytes, secondsLeft });
        },
      }),
    );
    done += r.end - r.start;
  }
  return new Blob([usedTensorsFile(header, used, chunks) as BlobPart]);
}
