// `stochca export-torch`: the experiment `stochca train` would run, with the same flags, written as a
// folder for PyTorch (src/train/torch-export.ts): experiment.json, split.json, model.safetensors,
// train.py and README.md. Nothing is trained, so no GPU is needed.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { datasetHash, type HashedDataset } from '../data/content-hash.ts';
import type { FileTree } from '../data/entries.ts';
import { openDataPath } from '../data/folder-source.ts';
import { isDataUrl, urlTree } from '../data/url-source.ts';
import {
  completeExperiment,
  experimentFromJson,
  type DataRef,
  type Experiment,
  type ModelRef,
} from '../train/settings.ts';
import { torchExport } from '../train/torch-export.ts';
import { readModel, type TrainOptions } from './train-command.ts';
import { TRAIN_FLAGS, trainOptions, UsageError } from './train-args.ts';

/** train's flags, less those of a run in progress. */
export const EXPORT_TORCH_FLAGS = Object.fromEntries(
  Object.entries(TRAIN_FLAGS).filter(([flag]) => !['resume', 'stop-after', 'memory-budget'].includes(flag)),
);

const SCRIPT = new URL('../torch/train.py', import.meta.url);

/** The reference the page gives the same zip or folder when it is dropped or picked. */
async function localRef(path: string, tree: FileTree): Promise<DataRef> {
  const name = basename(path);
  const dataset: HashedDataset = statSync(path).isDirectory()
    ? { kind: 'folder', files: tree.files }
    : {
        kind: 'zip',
        file: { path: name, size: statSync(path).size, read: async () => new Uint8Array(await readFile(path)) },
      };
  return { kind: 'local', name, ...(await datasetHash(dataset)) };
}

/** The experiment the flags give, with the model and data they name. */
async function experimentOf(
  values: Record<string, string | boolean | undefined>,
  o: TrainOptions,
  model: { bytes: number; sha256: string },
  tree: FileTree,
): Promise<Experiment> {
  const file = values.experiment as string | undefined;
  const given =
    file === undefined
      ? completeExperiment({})
      : (experimentFromJson(JSON.parse(readFileSync(file, 'utf8'))) as { value: Experiment }).value;
  const m = values.model as string | undefined;
  const d = values.data as string | undefined;
  const modelRef: ModelRef =
    m === undefined
      ? given.model
      : m.startsWith('builtin:')
        ? { kind: 'builtin', id: m.slice('builtin:'.length) }
        : m.startsWith('hub:')
          ? { kind: 'hub', repo: m.slice('hub:'.length) }
          : { kind: 'file', name: basename(m), size: model.bytes, sha256: model.sha256 };
  const dataRef: DataRef =
    d === undefined
      ? given.data
      : d.startsWith('pack:')
        ? { kind: 'pack', id: d.slice('pack:'.length) }
        : isDataUrl(d)
          ? { kind: 'url', url: d }
          : await localRef(o.data, tree);
  return { model: modelRef, data: dataRef, ...o.settings };
}

export async function exportTorch(
  values: Record<string, string | boolean | undefined>,
): Promise<{ out: string; counts: { train: number; val: number; test: number } }> {
  const o = trainOptions(values);
  if (values.out === undefined) throw new UsageError('missing --out (the folder to write)');
  const model = readModel(o.model);
  const tree = await (isDataUrl(o.data) ? urlTree(o.data) : openDataPath(o.data));
  const experiment = await experimentOf(values, o, { bytes: model.args.model.length, sha256: model.sha256 }, tree);
  const { files, counts } = torchExport({ experiment, model: model.args, tree, script: readFileSync(SCRIPT, 'utf8') });
  mkdirSync(o.out, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(o.out, name), bytes);
  return { out: o.out, counts };
}
