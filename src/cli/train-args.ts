// `stochca train`'s flags, read through the one settings schema (src/train/settings.ts): every
// setting's flag, default and rule are the page's, so a share link's values given as flags, or
// the page's experiment.json given with --experiment, run the same experiment here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { zooEntry } from '../checkpoint/zoo.ts';
import { builtinModel, PACK_INDEX, type PackInfo } from '../train/builtins.ts';
import {
  completeExperiment,
  experimentErrors,
  experimentFromJson,
  PROPERTY_LIST,
  type DataRef,
  type Experiment,
  type ExperimentKey,
  type ModelRef,
} from '../train/settings.ts';
import { readFlagText } from './flag-files.ts';
import { resumeOptions, type ModelSource, type TrainOptions } from './train-command.ts';
import { zooPaths } from './zoo-cache.ts';
import { errorMessage } from '../gpu/error-message.ts';

/** A bad flag or flag value: exit code 2 with the usage hint. */
export class UsageError extends Error {}

/** The checkout's public/ folder: the built-in models and packs. */
const PUBLIC = new URL('../../public/', import.meta.url);

const SETTINGS = PROPERTY_LIST.filter((p) => p.type !== 'model' && p.type !== 'data');

/** The parseArgs options of every command that reads a model file: the file, and what its shapes cannot tell. */
export const MODEL_FLAGS = {
  model: { type: 'string' },
  heads: { type: 'string' },
  config: { type: 'string' },
} as const;

export const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

/** parseArgs options of `train`: one per setting (booleans also as --no-<flag>), plus the run's own. */
type Flag = { type: 'string' | 'boolean'; short?: string };
export const TRAIN_FLAGS: Record<string, Flag> = {
  ...Object.fromEntries(
    SETTINGS.flatMap((p): [string, Flag][] =>
      p.type === 'boolean'
        ? [
            [p.flag, { type: 'boolean' }],
            [`no-${p.flag}`, { type: 'boolean' }],
          ]
        : [[p.flag, { type: 'string' }]],
    ),
  ),
  ...MODEL_FLAGS,
  data: { type: 'string' },
  out: { type: 'string' },
  experiment: { type: 'string' },
  resume: { type: 'string' },
  'stop-after': { type: 'string' },
  'memory-budget': { type: 'string' },
  ...HELP_FLAG,
};

/** The settings flags for the usage text, e.g. `[--lr 0.001]`, with their defaults, in lines of at most
 *  `width` characters after `indent`. */
export function settingsUsage(indent: string, width = 96): string {
  const d = completeExperiment({});
  const flags = SETTINGS.map((p) =>
    p.type === 'boolean'
      ? `[--${d[p.key] ? 'no-' : ''}${p.flag}]`
      : `[--${p.flag} ${p.choices ? p.choices.join('|') : p.format(d[p.key] as never)}]`,
  );
  const lines = [''];
  for (const f of flags) {
    if (lines[lines.length - 1].length + f.length + 1 > width) lines.push('');
    lines[lines.length - 1] += `${lines[lines.length - 1] ? ' ' : ''}${f}`;
  }
  return lines.join(`\n${indent}`);
}

export function heads(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--heads must be a positive integer, got '${v}'`);
  return n;
}

function readJson(path: string, flag: string): unknown {
  const text = readFlagText(path, flag);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`--${flag} ${path} is not valid JSON`);
  }
}

/** A path, a built-in model by the id links use, or a zoo model (`hub:ORG/NAME`) in the model cache,
 *  with its config.json and normalisation. */
export function modelSource(text: string): Pick<ModelSource, 'path' | 'configPath' | 'hub' | 'normalization'> {
  if (text.startsWith('hub:')) {
    const repo = text.slice('hub:'.length);
    let entry;
    try {
      entry = zooEntry(repo);
    } catch (e) {
      throw new UsageError(`--model ${text}: ${errorMessage(e)}`);
    }
    const paths = zooPaths(entry);
    return { path: paths.weights, configPath: paths.config, hub: repo, normalization: entry.normalization };
  }
  if (!text.startsWith('builtin:')) return { path: text };
  const m = builtinModel(text.slice('builtin:'.length));
  if (!m) throw new UsageError(`--model ${text}: there is no such built-in model`);
  return { path: fileURLToPath(new URL(m.file, PUBLIC)) };
}

/** A path, a URL, or a built-in pack by the id links use (`pack:ID`). */
export function dataPath(text: string): string {
  if (!text.startsWith('pack:')) return text;
  const packs = JSON.parse(readFileSync(new URL(PACK_INDEX, PUBLIC), 'utf8')) as PackInfo[];
  const pack = packs.find((p) => p.id === text.slice('pack:'.length));
  if (!pack)
    throw new UsageError(
      `--data ${text}: there is no such built-in pack (${packs.map((p) => `pack:${p.id}`).join(', ')})`,
    );
  return fileURLToPath(new URL(`packs/${pack.file}`, PUBLIC));
}

/** What --model or --data is when the flag is absent: the experiment's built-in model or pack. */
function refText(ref: ModelRef | DataRef, flag: string): string {
  if (ref.kind === 'builtin') return `builtin:${ref.id}`;
  if (ref.kind === 'pack') return `pack:${ref.id}`;
  if (ref.kind === 'url') return ref.url;
  if (ref.kind === 'hub') return `hub:${ref.repo}`;
  throw new UsageError(`--${flag} is needed: the experiment's ${flag} is a local file ('${ref.name}')`);
}

export function trainOptions(values: Record<string, string | boolean | undefined>): TrainOptions {
  const str = (k: string) => values[k] as string | undefined;
  const stopAfter = str('stop-after') === undefined ? undefined : Number(str('stop-after'));
  if (stopAfter !== undefined && !(Number.isSafeInteger(stopAfter) && stopAfter >= 1)) {
    throw new UsageError(`--stop-after must be a whole number of at least 1, got '${str('stop-after')}'`);
  }
  const budget = str('memory-budget') === undefined ? undefined : Number(str('memory-budget'));
  if (budget !== undefined && !(budget > 0 && Number.isFinite(budget))) {
    throw new UsageError(`--memory-budget must be a number of MiB above 0, got '${str('memory-budget')}'`);
  }
  const memoryBudget = budget === undefined ? undefined : budget * 2 ** 20;
  const resume = str('resume');
  if (resume !== undefined) {
    const own = ['resume', 'stop-after', 'memory-budget'];
    const others = Object.keys(values).filter((k) => values[k] !== undefined && !own.includes(k));
    if (others.length)
      throw new UsageError(
        `--resume continues a run as it was set; it takes only --stop-after and --memory-budget, not --${others[0]}`,
      );
    return { ...resumeOptions(resume), stopAfter, memoryBudget };
  }

  const given: Partial<Record<ExperimentKey, unknown>> = {};
  if (str('experiment') !== undefined) {
    const json = readJson(str('experiment')!, 'experiment');
    const checked = experimentFromJson(json);
    if ('error' in checked) throw new UsageError(`--experiment ${str('experiment')}: ${checked.error}`);
    Object.assign(given, json);
  }
  for (const p of SETTINGS) {
    if (p.type === 'boolean') {
      if (values[p.flag] && values[`no-${p.flag}`])
        throw new UsageError(`--${p.flag} and --no-${p.flag} contradict each other`);
      if (values[p.flag] || values[`no-${p.flag}`]) given[p.key] = values[p.flag] === true;
      continue;
    }
    const raw = str(p.flag);
    if (raw === undefined) continue;
    const r = p.parse(raw);
    if ('error' in r) throw new UsageError(`--${p.flag}: ${r.error}, got '${raw}'`);
    given[p.key] = r.value;
  }
  const e: Experiment = completeExperiment(given as Partial<Experiment>);
  const errors = Object.values(experimentErrors(e));
  if (errors.length) throw new UsageError(errors.join('; '));
  const { model, data, ...settings } = e;
  const source = modelSource(str('model') ?? refText(model, 'model'));
  return {
    settings,
    model: {
      ...source,
      configPath: str('config') ?? source.configPath,
      heads: heads(str('heads')),
      ...(model.kind === 'file' && { sha256: model.sha256 }),
    },
    data: dataPath(str('data') ?? refText(data, 'data')),
    out: str('out') ?? 'stochca-run',
    stopAfter,
    memoryBudget,
  };
}
