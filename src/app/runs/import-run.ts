// "Import run": the output folder of the exported PyTorch script (src/torch/train.py), picked, dropped or
// given as its files, becomes a run of the table and the charts, marked with the host and device it
// trained on. Its models go into OPFS under the run's id, where the page keeps its own runs' models, so
// the export buttons read them as they read any run's.
import { loadModelFile } from '../../checkpoint/model-file.ts';
import type { DataEntry, FileTree } from '../../data/entries.ts';
import type { EvalPoint, RunInfo, TestScores, TrainPoint } from '../../train/records.ts';
import { saveImportedModels } from '../../train/opfs-store.ts';
import { experimentFromJson } from '../../train/settings.ts';
import { useStore } from '../store.ts';
import { newRuns } from './new-runs.ts';
import type { ExternalHost, RunRecord } from './run-record.ts';
import { errorMessage } from '../../gpu/error-message.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The file of that name nearest the top of the tree (a run folder inside the one picked). */
function find(tree: FileTree, name: string): DataEntry | undefined {
  const depth = (e: DataEntry) => e.path.split('/').length;
  return tree.files.filter((e) => e.path.split('/').at(-1) === name).sort((a, b) => depth(a) - depth(b))[0];
}

async function readJson(tree: FileTree, name: string): Promise<Record<string, unknown>> {
  const entry = find(tree, name);
  if (!entry) throw new Error(`there is no ${name}`);
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(await entry.read()));
    if (isObject(json)) return json;
  } catch {
    // Said below, in the same words.
  }
  throw new Error(`${name} is not a JSON object`);
}

function trainPoints(v: unknown): TrainPoint[] {
  const ok = (p: unknown): p is TrainPoint =>
    isObject(p) &&
    Number.isSafeInteger(p.step) &&
    isNumber(p.loss) &&
    isNumber(p.accuracy) &&
    isNumber(p.lr) &&
    typeof p.mask === 'string' &&
    isNumber(p.seconds) &&
    isNumber(p.epoch) &&
    isNumber(p.imagesPerSec);
  if (!Array.isArray(v) || v.length === 0 || !v.every(ok))
    throw new Error(
      'curves.json has no training curve of steps with loss, accuracy, lr, mask, seconds, epoch and images/s',
    );
  return v.map(({ step, loss, accuracy, lr, mask, seconds, epoch, imagesPerSec }) => ({
    step,
    loss,
    accuracy,
    lr,
    mask,
    seconds,
    epoch,
    imagesPerSec,
  }));
}

type EvalRecord = EvalPoint & { split: string; weights?: string };

function evalRecords(v: unknown): EvalRecord[] {
  const ok = (p: unknown): p is EvalRecord =>
    isObject(p) &&
    Number.isSafeInteger(p.step) &&
    isNumber(p.loss) &&
    isNumber(p.accuracy) &&
    Number.isSafeInteger(p.count) &&
    typeof p.split === 'string';
  if (!Array.isArray(v) || !v.every(ok))
    throw new Error('curves.json has evaluations without step, split, loss, accuracy and count');
  return v;
}

const point = ({ step, loss, accuracy, count }: EvalPoint): EvalPoint => ({ step, loss, accuracy, count });

function hostOf(config: Record<string, unknown>): ExternalHost {
  const h = config.host;
  if (
    !isObject(h) ||
    typeof h.name !== 'string' ||
    typeof h.device !== 'string' ||
    !Number.isSafeInteger(h.processes)
  ) {
    throw new Error(
      "config.json does not say where the run trained (its 'host'): is this the output of the exported train.py?",
    );
  }
  return { host: h.name, device: h.device, processes: h.processes as number };
}

/** A run folder as a run record, its models kept in OPFS under the record's id. */
async function readRun(tree: FileTree): Promise<RunRecord> {
  const config = await readJson(tree, 'config.json');
  const external = hostOf(config);
  const refs = isObject(config.refs) ? config.refs : {};
  const experiment = experimentFromJson({
    ...(isObject(config.settings) ? config.settings : {}),
    model: refs.model,
    data: refs.data,
  });
  if ('error' in experiment) throw new Error(`config.json's settings do not check out: ${experiment.error}`);
  const curves = await readJson(tree, 'curves.json');
  const train = trainPoints(curves.train);
  const evals = evalRecords(curves.eval ?? []);
  const test: TestScores = {};
  for (const e of evals.filter((r) => r.split === 'test')) test[e.weights === 'best' ? 'atBest' : 'final'] = point(e);
  if (test.final && !test.atBest) test.atBest = test.final;

  const modelEntry = find(tree, 'model.safetensors');
  if (!modelEntry) throw new Error('there is no model.safetensors');
  const model = await modelEntry.read();
  const loaded = loadModelFile(model);
  const best = await find(tree, 'best.safetensors')?.read();
  if (!loaded.classNames || !loaded.normalization)
    throw new Error('model.safetensors has no class names or normalisation in its metadata');
  const { model: _m, data: _d, ...settings } = experiment.value;
  const counts = isObject(config.counts) ? config.counts : {};
  const info: RunInfo = {
    config: loaded.config,
    parameters: [...loaded.weights.values()].reduce((n, t) => n + t.data.length, 0),
    plannedBytes: 0,
    microBatch: settings.batch / external.processes,
    classes: loaded.classNames,
    counts: { train: Number(counts.train) || 0, val: Number(counts.val) || 0, test: Number(counts.test) || 0 },
    changes: [],
    leftOut: [],
    problems: [],
    normalization: loaded.normalization,
  };
  const step = train.at(-1)!.step;
  // The run started from the exported model.safetensors, whose SHA-256 config.json records.
  const startSha256 = isObject(config.model) && typeof config.model.sha256 === 'string' ? config.model.sha256 : '';
  const [run] = newRuns(useStore.getState().runs, experiment.value, startSha256, [settings]);
  await saveImportedModels(run.id, step, model, best);
  return {
    ...run,
    label: `${run.label} · PyTorch`,
    status: step >= settings.steps ? 'finished' : 'stopped',
    external,
    info,
    train,
    val: evals.filter((r) => r.split === 'val').map(point),
    test,
    checkpointStep: step,
  };
}

export async function importRun(tree: Promise<FileTree>): Promise<void> {
  const store = useStore.getState();
  try {
    const run = await readRun(await tree);
    store.addRuns([run], false);
  } catch (e) {
    store.notify(`Cannot import the run: ${errorMessage(e)}.`);
  }
}
