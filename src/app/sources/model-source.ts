// The model of the experiment: the built-in checkpoint, a dropped .safetensors (with its
// config.json), one fetched from a URL when the person asks, or a model of the zoo (from the page's
// cache, or fetched from the Hub address when the person asks). Each ends in the store as bytes the
// worker can load with no options (a config.json and a zoo model's normalisation are folded into the
// file's metadata). A file's header is checked from its first bytes before the rest is read, and the
// parse runs in a worker.
import { isHttpUrl, urlFileName, type DownloadProgress } from '../../data/download.ts';
import { downloadModel, downloadZooModel } from '../../data/model-download.ts';
import type { Normalization } from '../../checkpoint/checkpoint-config.ts';
import { zooEntry, type ZooEntry } from '../../checkpoint/zoo.ts';
import { builtinModel } from '../../train/builtins.ts';
import { useStore, type LoadedModel } from '../store.ts';
import type { ModelRef } from '../../train/settings.ts';
import { sha256Hex } from '../../data/content-hash.ts';
import { idleSeconds } from './downloads.ts';
import { guarded } from './guarded.ts';
import { hubAddress } from './hub-address.ts';
import type { ParseReply, ParseRequest } from './model-parse-worker.ts';
import { checkModelStart } from '../../checkpoint/safetensors-start.ts';
import { readCachedZoo, writeCachedZoo } from './zoo-cache.ts';
import { errorMessage } from '../../gpu/error-message.ts';

type Loaded = Omit<LoadedModel, 'sha256'>;

/** Parses in a worker of its own, ended once it answers. `bytes` is transferred: the caller loses it. */
function parse(
  bytes: ArrayBuffer,
  hfConfig?: unknown,
  normalization?: Normalization,
): Promise<Extract<ParseReply, { ok: true }>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./model-parse-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = ({ data }: MessageEvent<ParseReply>) => {
      worker.terminate();
      if (data.ok) resolve(data);
      else reject(new Error(data.message));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`the model parser failed: ${e.message || 'unknown error'}`));
    };
    worker.postMessage({ bytes, hfConfig, normalization } satisfies ParseRequest, [bytes]);
  });
}

/** `hfConfig`: a parsed config.json, `normalization`: a zoo model's; both are folded into the file's
 *  metadata so the worker needs only bytes. */
async function accept(
  ref: ModelRef,
  name: string,
  bytes: ArrayBuffer,
  hfConfig?: unknown,
  normalization?: Normalization,
): Promise<Loaded> {
  const { bytes: own, config, parameters, classNames, changes } = await parse(bytes, hfConfig, normalization);
  return { ref, name, bytes: own, config, parameters, classNames, changes };
}

/** Loads a model and hashes its bytes (guarded.ts). */
function loadModel(ref: ModelRef, name: string, load: (signal: AbortSignal) => Promise<Loaded>): Promise<void> {
  const store = useStore.getState();
  return guarded(
    'model',
    name,
    { loading: () => store.modelLoading(ref, name), ready: store.modelReady, failed: store.modelFailed },
    async (signal) => {
      const loaded = await load(signal);
      return { ...loaded, sha256: loaded.bytes && (await sha256Hex(new Uint8Array(loaded.bytes))) };
    },
  );
}

/** Shows a download's progress in the model panel; undefined once it is over. */
const showProgress = (download?: DownloadProgress) => useStore.getState().setModel({ download });

/** Downloads a model, its progress in the store, its header checked as its first bytes arrive. */
async function fetchModel(url: string, signal: AbortSignal): Promise<ArrayBuffer> {
  const blob = await downloadModel(url, { signal, idleSeconds, onProgress: showProgress });
  showProgress(undefined);
  return blob.arrayBuffer();
}

function parseConfig(entry: ZooEntry, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`the config.json of ${entry.repo} is not valid JSON`);
  }
}

/** Checks a file's header from its first bytes, before anything else of it is read. */
async function checkFileStart(file: Blob): Promise<void> {
  for (let need = 8; need;) need = checkModelStart(new Uint8Array(await file.slice(0, need).arrayBuffer()), file.size);
}

export function loadBuiltinModel(id: string): Promise<void> {
  const builtin = builtinModel(id);
  const ref: ModelRef = { kind: 'builtin', id };
  if (!builtin) {
    useStore.getState().setModel({ status: 'error', ref, name: id, message: `there is no built-in model '${id}'` });
    return Promise.resolve();
  }
  const url = new URL(`${import.meta.env.BASE_URL}${builtin.file}`, location.href).href;
  return loadModel(ref, builtin.name, async (signal) => accept(ref, builtin.name, await fetchModel(url, signal)));
}

/** Files dropped or picked: one .safetensors, optionally with a config.json. */
export function loadModelFiles(files: File[]): Promise<void> {
  const weights = files.find((f) => f.name.toLowerCase().endsWith('.safetensors'));
  const config = files.find((f) => f.name.toLowerCase().endsWith('.json'));
  if (!weights) {
    const names = files.map((f) => f.name).join(', ') || 'nothing';
    useStore.getState().setModel({
      status: 'error',
      message: `${names}: not a model — drop a .safetensors file (and its config.json, if it has one)`,
    });
    return Promise.resolve();
  }
  return loadModel({ kind: 'file', name: weights.name, size: weights.size, sha256: '' }, weights.name, async () => {
    await checkFileStart(weights);
    const bytes = await weights.arrayBuffer();
    const ref: ModelRef = {
      kind: 'file',
      name: weights.name,
      size: weights.size,
      sha256: await sha256Hex(new Uint8Array(bytes)),
    };
    let hfConfig: unknown;
    if (config) {
      try {
        hfConfig = JSON.parse(await config.text());
      } catch {
        throw new Error(`${config.name} is not valid JSON`);
      }
    }
    return accept(ref, weights.name, bytes, hfConfig);
  });
}

/** Fetched only when the person presses the button. */
export function loadModelUrl(url: string): Promise<void> {
  const ref: ModelRef = { kind: 'url', url };
  return loadModel(ref, url, async (signal) => {
    if (!isHttpUrl(url)) throw new Error('the model URL must start with http:// or https://');
    return accept(ref, urlFileName(url, url), await fetchModel(url, signal));
  });
}

/** A model of the zoo: from the page's cache when it holds it, otherwise fetched from the Hub address
 *  (only when the person presses its button) and kept in the cache once it has loaded. */
export function loadZooModel(repo: string): Promise<void> {
  const ref: ModelRef = { kind: 'hub', repo };
  let entry: ZooEntry;
  try {
    entry = zooEntry(repo);
  } catch (e) {
    useStore.getState().setModel({ status: 'error', ref, name: repo, message: `${repo}: ${errorMessage(e)}` });
    return Promise.resolve();
  }
  return loadModel(ref, entry.name, async (signal) => {
    // A browser without OPFS (or with it unreadable) fetches instead.
    const cached = await readCachedZoo(entry).catch(() => undefined);
    if (cached) return accept(ref, entry.name, cached.weights, parseConfig(entry, cached.config), entry.normalization);
    const { config, weights } = await downloadZooModel(entry, hubAddress(), {
      signal,
      idleSeconds,
      onProgress: showProgress,
    });
    showProgress(undefined);
    const loaded = await accept(
      ref,
      entry.name,
      await weights.arrayBuffer(),
      parseConfig(entry, config),
      entry.normalization,
    );
    await writeCachedZoo(entry, config, weights).catch((e: unknown) => {
      useStore
        .getState()
        .notify(
          `${repo} was not kept in this browser's storage (${errorMessage(e)}): it will be fetched again next time.`,
        );
    });
    return loaded;
  });
}
