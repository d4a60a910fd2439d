// `stochca train`: the run driver (src/train/run.ts) with the engine in its host, images decoded by
// sharp, checkpoints in the --out folder and progress on the terminal. The folder holds, from the
// first checkpoint on: config.json (the settings, where the model and data came from, classes,
// counts, what was left out and why), curves.json and curves.csv, model.safetensors and
// state.safetensors (the last checkpoint) with manifest.json, which commits them as a pair
// (src/train/checkpoint-files.ts), and best.safetensors (the best validation accuracy), so
// `stochca train --resume DIR` continues the run exactly where its last checkpoint left it.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Normalization } from '../checkpoint/checkpoint-config.ts';
import { nodeDecoder } from '../data/decode-node.ts';
import { openDataPath } from '../data/folder-source.ts';
import { isDataUrl, urlTree } from '../data/url-source.ts';
import { bestEvaluation } from '../train/best.ts';
import { committedState, runFiles } from '../train/checkpoint-files.ts';
import type { Engine, ModelArgs } from '../train/engine-api.ts';
import type { EvalPoint, RunInfo, TrainPoint } from '../train/records.ts';
import { runExperiment, type RunResult } from '../train/run.ts';
import { RunControl } from '../train/run-control.ts';
import { experimentFromJson, type RunSettings } from '../train/settings.ts';
import { readFlagFile, readFlagText } from './flag-files.ts';
import { diskFolder, writeAtomic } from './folder-store.ts';
import { errorMessage } from '../gpu/error-message.ts';

/** Where the run's model came from, as config.json records it for a resume. */
export interface ModelSource {
  path: string;
  /** Checked when known: the run's own on --resume, a link's or experiment's `file:` model. */
  sha256?: string;
  /** A config.json's path (HF transformers' or timm's). */
  configPath?: string;
  heads?: number;
  /** A zoo model's Hub repository: the file is in the model cache, fetched again if it is gone. */
  hub?: string;
  /** The inputs' normalisation when the file and its config do not say (a zoo model's). */
  normalization?: Normalization;
}

export interface TrainOptions {
  settings: RunSettings;
  model: ModelSource;
  /** A folder, a zip or an http(s) URL of a zip. */
  data: string;
  out: string;
  /** Continue the run whose files are in `out`. */
  resume?: boolean;
  /** End after this step, with a checkpoint to resume from. */
  stopAfter?: number;
  /** Bytes of GPU memory the run may plan (--memory-budget, in MiB on the command line). */
  memoryBudget?: number;
}

interface EvalRecord extends EvalPoint {
  split: 'val' | 'test';
  /** For the test split: which weights were scored. */
  weights?: 'best' | 'final';
}

interface Curves {
  train: TrainPoint[];
  eval: EvalRecord[];
}

export const sha256File = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function progressLine(r: TrainPoint, steps: number, batch: number): string {
  const left = r.imagesPerSec > 0 ? ((steps - r.step) * batch) / r.imagesPerSec : 0;
  const width = 24;
  const done = Math.round((width * r.step) / steps);
  return (
    `[${'#'.repeat(done)}${'.'.repeat(width - done)}] step ${r.step}/${steps} loss ${r.loss.toFixed(4)} ` +
    `acc ${(100 * r.accuracy).toFixed(1)}% ${r.imagesPerSec.toFixed(1)} img/s ${Math.ceil(left)} s left`
  );
}

function writeCurves(dir: string, c: Curves): void {
  writeAtomic(join(dir, 'curves.json'), JSON.stringify(c, null, 1));
  const csv = [
    'step,split,loss,accuracy,lr,mask',
    ...c.train.map((r) => `${r.step},train,${r.loss},${r.accuracy},${r.lr},${r.mask}`),
    ...c.eval.map((e) => `${e.step},${e.split},${e.loss},${e.accuracy},,`),
  ];
  writeAtomic(join(dir, 'curves.csv'), `${csv.join('\n')}\n`);
}

/** The model file and its arguments for the engine, checked against the SHA-256 a run recorded. */
export function readModel(m: ModelSource): { args: ModelArgs; sha256: string } {
  const bytes = readFlagFile(m.path, 'model');
  const sha256 = sha256File(bytes);
  if (m.sha256 && m.sha256 !== sha256) {
    throw new Error(
      `${m.path} is not the model the run names (its SHA-256 is ${sha256.slice(0, 12)}…, the run's ${m.sha256.slice(0, 12)}…)`,
    );
  }
  const config = m.configPath === undefined ? undefined : readFlagText(m.configPath, 'config');
  return { args: { model: bytes, config, heads: m.heads, normalization: m.normalization }, sha256 };
}

/** The settings, model and data of the run in `dir`, from its config.json. */
export function resumeOptions(dir: string): Omit<TrainOptions, 'stopAfter'> {
  const path = join(dir, 'config.json');
  let cfg: { settings?: unknown; model?: ModelSource; data?: string };
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(
      `--resume ${dir}: cannot read its config.json (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`,
      { cause: e },
    );
  }
  const settings = experimentFromJson(cfg.settings);
  if ('error' in settings)
    throw new Error(`--resume ${dir}: config.json's settings do not check out: ${settings.error}`);
  if (typeof cfg.model?.path !== 'string' || typeof cfg.model.sha256 !== 'string' || typeof cfg.data !== 'string') {
    throw new Error(`--resume ${dir}: config.json does not say which model and data the run used`);
  }
  const { model: _m, data: _d, ...run } = settings.value;
  return { settings: run, model: cfg.model, data: cfg.data, out: dir, resume: true };
}

export async function trainCommand(engine: Engine, o: TrainOptions): Promise<RunResult> {
  const model = readModel(o.model);
  const tree = await (isDataUrl(o.data) ? urlTree(o.data) : openDataPath(o.data));
  mkdirSync(o.out, { recursive: true });
  const curves: Curves = { train: [], eval: [] };
  let resume;
  if (o.resume) {
    const { state, step } = await committedState(diskFolder(o.out)).catch((e: unknown) => {
      throw new Error(`--resume ${o.out}: ${errorMessage(e)}`, { cause: e });
    });
    const before: Curves = JSON.parse(readFileSync(join(o.out, 'curves.json'), 'utf8'));
    curves.train = before.train.filter((p) => p.step <= step);
    curves.eval = before.eval.filter((e) => e.split === 'val' && e.step <= step);
    resume = { step, state, best: bestEvaluation(curves.eval), seconds: curves.train.at(-1)?.seconds ?? 0 };
  }
  const folder = runFiles(diskFolder(o.out));
  const control = new RunControl();
  // Ctrl-C ends the run after the step in progress, with a checkpoint; a second one exits at once.
  const onInterrupt = () => {
    if (control.stopped) process.exit(130);
    console.error('\nstopping after this step (Ctrl-C again to quit at once)');
    control.stop();
  };
  process.on('SIGINT', onInterrupt);
  const tty = process.stderr.isTTY;
  let info: RunInfo | undefined;
  const writeConfig = () =>
    writeAtomic(
      join(o.out, 'config.json'),
      JSON.stringify(
        {
          settings: o.settings,
          model: { ...o.model, path: resolve(o.model.path), sha256: model.sha256 },
          data: isDataUrl(o.data) ? o.data : resolve(o.data),
          ...(info && {
            config: info.config,
            classes: info.classes,
            normalization: info.normalization,
            counts: info.counts,
            changes: info.changes,
            leftOut: info.leftOut,
            problems: info.problems,
          }),
        },
        null,
        1,
      ),
    );
  try {
    const r = await runExperiment({
      engine,
      model: model.args,
      tree,
      settings: o.settings,
      control,
      resume,
      stopAfter: o.stopAfter,
      memoryBudget: o.memoryBudget,
      decoder: (cacheSize) => nodeDecoder(cacheSize),
      files: {
        ...folder,
        async saveCheckpoint(step, m, state) {
          await folder.saveCheckpoint(step, m, state);
          writeCurves(o.out, curves);
          return true;
        },
      },
      report: {
        info: (i) => {
          info = i;
          writeConfig();
        },
        step: (p) => {
          curves.train.push(p);
          if (tty) process.stderr.write(`\r${progressLine(p, o.settings.steps, o.settings.batch)}`);
          else if (p.step % Math.max(1, Math.floor(o.settings.steps / 10)) === 0 || p.step === o.settings.steps)
            console.error(progressLine(p, o.settings.steps, o.settings.batch));
        },
        eval: (p) => {
          curves.eval.push({ ...p, split: 'val' });
          if (tty) process.stderr.write('\n');
        },
        log: (line) => console.error(line),
      },
    });
    if (r.test.atBest && r.test.atBest !== r.test.final)
      curves.eval.push({ ...r.test.atBest, split: 'test', weights: 'best' });
    if (r.test.final) curves.eval.push({ ...r.test.final, split: 'test', weights: 'final' });
    writeCurves(o.out, curves);
    if (info) info.leftOut = [...info.leftOut, ...r.skipped];
    writeConfig();
    if (r.reason === 'stopped')
      console.error(`stopped after step ${r.step}; continue with: stochca train --resume ${o.out}`);
    return r;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
