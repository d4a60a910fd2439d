// The one run driver, for the page's worker and `stochca train` alike: data → seeded split and
// fraction → model (loaded by the engine: new head, resized position embedding, normalisation) →
// session → steps → evaluations on the validation split → best-validation weights → checkpoints →
// the test split scored once training is over. What differs between front ends is passed in: the
// engine (on this thread or in another process), the image decoder, where checkpoints are kept and
// where progress goes.
//
// A run resumes bit for bit: the mask of step t depends only on (seed, t), the data stream skips the
// images already seen, and the checkpoint holds the weights and both AdamW moments.
import { cacheSizeFor } from '../data/augment.ts';
import { Batcher, type Batch, type DecodeEntry, type DecodeProgress } from '../data/batcher.ts';
import { selectImages, type DatasetFiles, type FileTree, type LeftOut } from '../data/entries.ts';
import { imageFolder, type ImageFolder } from '../data/layout.ts';
import { splitDataset, type DatasetSplit } from '../data/split.ts';
import { isNewBest } from './best.ts';
import type { Engine, ModelArgs } from './engine-api.ts';
import { evaluateSplit, type SplitScore } from './evaluate.ts';
import type { EvalPoint, Prediction, RunInfo, StepRecord, TestScores, TrainPoint } from './records.ts';
import type { RunControl } from './run-control.ts';
import type { TrainState } from './session.ts';
import { effectiveP, headOnly, type RunSettings } from './settings.ts';

/** Decoded images kept between epochs: enough for the built-in packs at 28 px many times over. */
const CACHE_BYTES = 192 * 2 ** 20;

/** The training loss stopped being a number: the run cannot go on. */
export class DivergedError extends Error {
  constructor(
    readonly step: number,
    loss: number,
  ) {
    super(`the training loss became ${loss} at step ${step}`);
    this.name = 'DivergedError';
  }
}

/** Where a run's files go: a folder (the command line) or the browser's OPFS (the page). */
export interface RunFiles {
  /** The model file and optimizer state at `step`, kept as one checkpoint (a reader never pairs one
   *  step's model with another's state); false when the store could not keep it and the run goes on. */
  saveCheckpoint(step: number, model: Uint8Array, state: TrainState): Promise<boolean>;
  /** The weights of the best validation accuracy so far, as a model file. */
  saveBest(step: number, model: Uint8Array): Promise<void>;
  /** What saveBest last kept, for scoring the test split after a resume. */
  loadBest(): Promise<Uint8Array | undefined>;
}

/** Where a run's progress goes, as it happens. */
export interface RunReport {
  info(info: RunInfo): void;
  step(point: TrainPoint): void;
  /** A validation evaluation. */
  eval(point: EvalPoint): void;
  checkpoint?(step: number): void;
  decode?(progress: DecodeProgress): void;
  paused?(step: number): void;
  /** Progress lines for a person (`stochca train` prints them). */
  log?(line: string): void;
}

export interface RunOptions {
  engine: Engine;
  /** The starting (pretrained) model: the student's start and the teacher. */
  model: ModelArgs;
  /** The dataset's files, opened by the front end. */
  tree: FileTree;
  settings: RunSettings;
  /** A decoder of entries into C×C cache images, for cache size C. */
  decoder: (cacheSize: number) => DecodeEntry;
  files: RunFiles;
  report: RunReport;
  control?: RunControl;
  /** Continue from a checkpoint. */
  resume?: {
    step: number;
    state: TrainState;
    /** The best validation evaluation before the checkpoint, if any. */
    best?: EvalPoint;
    /** Training seconds before, so the wall-time axis continues. */
    seconds: number;
  };
  /** End after this step, as a stop would (with a checkpoint to resume from). */
  stopAfter?: number;
  /** Bytes of GPU memory the run may plan: a smaller micro-batch when the batch does not fit. */
  memoryBudget?: number;
}

export interface RunResult {
  reason: 'finished' | 'stopped';
  /** The last step trained. */
  step: number;
  last?: StepRecord;
  best?: EvalPoint;
  test: TestScores;
  /** The validation split at the last step: confusion[true][predicted] and every image's prediction. */
  confusion?: number[][];
  predictions?: Prediction[];
  /** Images found undecodable while training or scoring, left out of the run. */
  skipped: LeftOut[];
}

/** The images a run uses: the dataset's images in the ImageFolder layout, split and sampled with
 *  the run's seed. The same for a run of the engine and one exported to PyTorch (torch-export.ts). */
export function runSplit(
  tree: FileTree,
  s: Pick<RunSettings, 'seed' | 'valFraction' | 'fraction'>,
): { files: DatasetFiles; folder: ImageFolder; split: DatasetSplit } {
  const files = selectImages(tree);
  const folder = imageFolder(files);
  return {
    files,
    folder,
    split: splitDataset(folder, { seed: s.seed, valFraction: s.valFraction, trainFraction: s.fraction }),
  };
}

export async function runExperiment(o: RunOptions): Promise<RunResult> {
  const { engine, settings: s, report, files } = o;
  const { folder, split } = runSplit(o.tree, s);
  const p = effectiveP(s);
  const started = await engine.call('trainStart', {
    ...o.model,
    classNames: folder.classes,
    imageSize: s.imageSize,
    settings: {
      p,
      headOnly: headOnly(s),
      steps: s.steps,
      batch: s.batch,
      lr: s.lr,
      weightDecay: s.weightDecay,
      wdExempt: s.wdExempt,
      warmup: s.warmup,
      seed: s.seed,
      clip: s.clip,
      memoryBudget: o.memoryBudget,
    },
  });
  if (o.resume) await engine.call('trainRestore', o.resume.state);
  const first = (o.resume?.step ?? 0) + 1;
  const classes = folder.classes.length;
  report.info({
    config: started.config,
    parameters: started.parameters,
    plannedBytes: started.plannedBytes,
    microBatch: started.microBatch,
    classes: folder.classes,
    counts: { train: split.train.length, val: split.val.length, test: split.test.length },
    changes: started.changes,
    leftOut: folder.leftOut,
    problems: folder.problems,
    normalization: started.normalization,
  });
  if (folder.leftOut.length) report.log?.(leftOutLine(folder.leftOut));
  report.log?.(
    `training ${classes} classes: ${split.train.length} train, ${split.val.length} val, ${split.test.length} test images; ` +
      `${s.method}${p > 0 ? ` p=${p}` : ''}; ${(started.plannedBytes / 2 ** 20).toFixed(1)} MiB planned` +
      `${started.microBatch < s.batch ? ` (micro-batches of ${started.microBatch}, gradients summed over ${s.batch / started.microBatch})` : ''}` +
      `${started.changes.length ? `; ${started.changes.join(', ')}` : ''}${o.resume ? `; resumed after step ${o.resume.step}` : ''}`,
  );

  const S = started.config.imageSize;
  const decode = o.decoder(cacheSizeFor(S));
  const batcher = (samples: typeof split.train, train: boolean) =>
    new Batcher({
      samples,
      decode,
      imageSize: S,
      batchSize: s.batch,
      seed: s.seed,
      cacheBytes: CACHE_BYTES,
      ...(train
        ? { augment: { crop: s.crop, flip: s.flip }, skip: (first - 1) * s.batch, onProgress: report.decode }
        : { augment: 'eval' as const }),
    });
  const train = batcher(split.train, true);
  const val = split.val.length ? batcher(split.val, false) : undefined;
  const testBatches = split.test.length ? batcher(split.test, false) : undefined;

  const startedAt = performance.now();
  const before = o.resume?.seconds ?? 0;
  let best = o.resume?.best;
  let bestModel: Uint8Array | undefined;
  let step = first - 1;
  let last: StepRecord | undefined;
  let reason: RunResult['reason'] = 'finished';
  /** The validation split's last evaluation, and its step. */
  let lastScore: (SplitScore & { step: number }) | undefined;
  let saved = first - 1;

  const checkpoint = async () => {
    const state = await engine.call('trainState');
    saved = step;
    if (await files.saveCheckpoint(step, await engine.call('trainSave', state.weights), state))
      report.checkpoint?.(step);
  };

  if (step < s.steps) {
    for await (const b of train as AsyncIterable<Batch>) {
      if (o.control) await o.control.whilePaused(() => report.paused?.(step));
      if (o.control?.stopped) {
        reason = 'stopped';
        break;
      }
      last = await engine.call('trainStep', b.pixels, b.labels, ++step);
      const elapsed = (performance.now() - startedAt) / 1000;
      report.step({
        ...last,
        seconds: before + elapsed,
        epoch: b.epoch,
        imagesPerSec: ((step - first + 1) * s.batch) / elapsed,
      });
      if (!Number.isFinite(last.loss)) throw new DivergedError(step, last.loss);
      const end = step >= s.steps;
      if (val && (step % s.evalEvery === 0 || end)) {
        lastScore = { ...(await evaluateSplit(engine, 'trainLogits', val, classes, end)), step };
        const point: EvalPoint = { step, loss: lastScore.loss, accuracy: lastScore.accuracy, count: lastScore.count };
        report.eval(point);
        report.log?.(
          `step ${step}: validation accuracy ${(100 * point.accuracy).toFixed(2)}% (${point.count} images), loss ${point.loss.toFixed(4)}`,
        );
        if (isNewBest(point, best)) {
          best = point;
          bestModel = await engine.call('trainSave');
          await files.saveBest(step, bestModel);
        }
      }
      if (end) break;
      if (step === o.stopAfter) {
        reason = 'stopped';
        break;
      }
      if (step % s.evalEvery === 0) await checkpoint();
    }
  }
  // The last step's checkpoint, also when the run stops early: that is where it resumes.
  if (step > saved) await checkpoint();

  const test: TestScores = {};
  if (reason === 'finished' && testBatches) {
    // Scored once per set of weights, after training: model selection never sees the test split.
    const score = async (session: 'trainLogits' | 'evalLogits', at: number, what: string): Promise<EvalPoint> => {
      const r = await evaluateSplit(engine, session, testBatches, classes);
      report.log?.(`step ${at}: test accuracy ${(100 * r.accuracy).toFixed(2)}% (${r.count} images, ${what})`);
      return { step: at, loss: r.loss, accuracy: r.accuracy, count: r.count };
    };
    if (best && best.step !== step) {
      const model = bestModel ?? (await files.loadBest());
      if (model) {
        await engine.call('evalStart', { model, batch: s.batch });
        test.atBest = await score('evalLogits', best.step, 'the best validation weights');
      }
    }
    test.final = await score('trainLogits', step, 'the final weights');
    if (best?.step === step) test.atBest = test.final;
  }
  // The confusion matrix and predictions are those of the weights the run ends with.
  if (val && step >= first && lastScore?.step !== step)
    lastScore = { ...(await evaluateSplit(engine, 'trainLogits', val, classes, true)), step };
  const skipped = [train, val, testBatches].flatMap((b) => b?.skipped ?? []);
  if (skipped.length) report.log?.(`undecodable images ${leftOutLine(skipped)}`);
  return {
    reason,
    step,
    last,
    best,
    test,
    confusion: lastScore?.confusion,
    predictions: lastScore?.predictions,
    skipped,
  };
}

/** How many files were left out, and the first few with their reasons, for a person reading a terminal. */
export function leftOutLine(files: LeftOut[]): string {
  const shown = files
    .slice(0, 3)
    .map((f) => `'${f.path}' (${f.reason})`)
    .join(', ');
  return `left out ${files.length} file${files.length === 1 ? '' : 's'}: ${shown}${files.length > 3 ? `, and ${files.length - 3} more` : ''}`;
}
