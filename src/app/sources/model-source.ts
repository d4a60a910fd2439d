// The model of the experiment: the built-in checkpoint, a dropped .safetensors (with its
// config.json), or one fetched from a URL when the person asks. Each ends in the store as bytes
// the worker can load with no options (a config.json is folded into the file's metadata).
import { loadModelFile, saveModelFile } from '../../checkpoint/model-file.ts';
import { builtinModel } from '../../train/builtins.ts';
import { useStore } from '../store.ts';
import type { ModelRef } from '../../train/settings.ts';
import { sha256 } from './content-hash.ts';


const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** `hfConfig`: a parsed config.json, folded into the file's metadata so the worker needs only bytes. */
function accept(ref: ModelRef, name: string, bytes: Uint8Array, hfConfig?: unknown): void {
  const model = loadModelFile(bytes, { hfConfig });
  const own = hfConfig === undefined ? bytes : saveModelFile(model);
  const parameters = [...model.weights.values()].reduce((n, t) => n + t.data.length, 0);
  useStore.getState().setModel({
    status: 'ready', ref, name, bytes: own.slice().buffer as ArrayBuffer, config: model.config, parameters, classNames: model.classNames, message: undefined,
  });
}

async function guarded(ref: ModelRef, name: string, load: () => Promise<void>): Promise<void> {
  const store = useStore.getState();
  store.setModel({ status: 'loading', ref, name, message: undefined });
  try {
    await load();
  } catch (e) {
    store.setModel({ status: 'error', bytes: undefined, config: undefined, message: `${name}: ${why(e)}` });
  }
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url} (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

export function loadBuiltinModel(id: string): Promise<void> {
  const builtin = builtinModel(id);
  const ref: ModelRef = { kind: 'builtin', id };
  if (!builtin) {
    useStore.getState().setModel({ status: 'error', ref, name: id, message: `there is no built-in model '${id}'` });
    return Promise.resolve();
  }
  return guarded(ref, builtin.name, async () => accept(ref, builtin.name, await fetchBytes(`${import.meta.env.BASE_URL}${builtin.file}`)));
}

/** Files dropped or picked: one .safetensors, optionally with a config.json. */
export function loadModelFiles(files: File[]): Promise<void> {
  const weights = files.find((f) => f.name.toLowerCase().endsWith('.safetensors'));
  const config = files.find((f) => f.name.toLowerCase().endsWith('.json'));
  if (!weights) {
    const names = files.map((f) => f.name).join(', ') || 'nothing';
    useStore.getState().setModel({ status: 'error', message: `${names}: not a model — drop a .safetensors file (and its config.json, if it has one)` });
    return Promise.resolve();
  }
  return guarded({ kind: 'file', name: weights.name, size: weights.size, sha256: '' }, weights.name, async () => {
    const bytes = new Uint8Array(await weights.arrayBuffer());
    const ref: ModelRef = { kind: 'file', name: weights.name, size: weights.size, sha256: await sha256(bytes) };
    let hfConfig: unknown;
    if (config) {
      try {
        hfConfig = JSON.parse(await config.text());
      } catch {
        throw new Error(`${config.name} is not valid JSON`);
      }
    }
    accept(ref, weights.name, bytes, hfConfig);
  });
}

/** Fetched only when the person presses the button. */
export function loadModelUrl(url: string): Promise<void> {
  const ref: ModelRef = { kind: 'url', url };
  return guarded(ref, url, async () => {
    if (!/^https?:\/\//i.test(url)) throw new Error('the model URL must start with http:// or https://');
    accept(ref, decodeURIComponent(new URL(url).pathname.split('/').pop() || url), await fetchBytes(url));
  });
}
