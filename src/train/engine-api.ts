// The engine's side of a run, on one device: plain functions of bytes and typed arrays, so the run
// driver (run.ts) calls them directly where it shares the device (the page's worker, Node with a
// GPU) or through a headless Chromium page (the command line on a machine without one). One
// training and one evaluation session at a time.
import { loadModelFile, saveModelFile, type LoadOptions, type ModelFile } from '../checkpoint/model-file.ts';
import type { CheckpointConfig, Normalization } from '../checkpoint/checkpoint-config.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { IMAGENET_MEAN, IMAGENET_STD, type Rgb } from '../nn/ops/normalize.ts';
import type { StepRecord } from './records.ts';
import { EvalSession, TrainingSession, type TrainSettings, type TrainState } from './session.ts';

export interface ModelArgs {
  /** safetensors bytes. */
  model: Uint8Array;
  /** The config.json's text (HF transformers' or timm's). */
  config?: string;
  heads?: number;
  /** The inputs' normalisation when the file and its config.json do not say (a zoo model's). */
  normalization?: Normalization;
}

export interface TrainStartArgs extends ModelArgs {
  /** The task's classes: a new head when the checkpoint's differ. */
  classNames: string[];
  /** Model input size; 0 keeps the checkpoint's own. */
  imageSize: number;
  settings: TrainSettings;
}

export interface TrainInfo {
  config: CheckpointConfig;
  changes: string[];
  plannedBytes: number;
  /** Images per pass: the batch, or a divisor of it whose gradients are summed (planner.ts chooseMicroBatch). */
  microBatch: number;
  parameters: number;
  normalization: { mean: Rgb; std: Rgb };
}

export interface EvalInfo {
  config: CheckpointConfig;
  classNames?: string[];
  normalization: { mean: Rgb; std: Rgb };
}

export function loadOptions(a: ModelArgs): LoadOptions {
  let hfConfig: unknown;
  if (a.config !== undefined) {
    try {
      hfConfig = JSON.parse(a.config);
    } catch {
      throw new Error('the config.json given with the model is not valid JSON');
    }
  }
  return { heads: a.heads, hfConfig, normalization: a.normalization };
}

/** A checkpoint without normalisation in its metadata was trained on ImageNet statistics, as torchvision's and most timm models were. */
export const normalizationOf = (m: ModelFile) => m.normalization ?? { mean: IMAGENET_MEAN, std: IMAGENET_STD };

/** The one loading of a run's starting model: the task's classes (a new head when they differ), the
 *  input size (the position embedding resized), the head seeded by the run's seed. */
export function loadStartingModel(a: TrainStartArgs): ModelFile {
  const model = loadModelFile(a.model, {
    ...loadOptions(a),
    numClasses: a.classNames.length,
    classNames: a.classNames,
    imageSize: a.imageSize || undefined,
    seed: a.settings.seed,
  });
  return { ...model, classNames: a.classNames, normalization: normalizationOf(model) };
}

export function engineApi(gpu: Gpu) {
  let training: TrainingSession | undefined;
  let evaluation: EvalSession | undefined;
  const need = <T>(s: T | undefined, what: string): T => {
    if (!s) throw new Error(`no ${what} has been started`);
    return s;
  };
  return {
    async trainStart(a: TrainStartArgs): Promise<TrainInfo> {
      const model = loadStartingModel(a);
      const normalization = normalizationOf(model);
      training = new TrainingSession(gpu, model, a.settings, normalization);
      const parameters = [...model.weights.values()].reduce((n, t) => n + t.data.length, 0);
      return {
        config: model.config,
        changes: model.changes,
        plannedBytes: training.plannedBytes,
        microBatch: training.microBatch,
        parameters,
        normalization,
      };
    },
    trainStep: (pixels: Uint32Array, labels: Uint32Array, step: number): Promise<StepRecord> =>
      need(training, 'training run').step(pixels, labels, step),
    trainLogits: (pixels: Uint32Array, count: number) => need(training, 'training run').logits(pixels, count),
    /** Flat weights and AdamW moments, for a checkpoint. */
    trainState: (): Promise<TrainState> => need(training, 'training run').state(),
    async trainRestore(state: TrainState): Promise<void> {
      need(training, 'training run').restore(state);
    },
    /** The model file of flat weights (a state's), or of the current weights, named as the file it started from. */
    async trainSave(flat?: Float32Array): Promise<Uint8Array> {
      const s = need(training, 'training run');
      return saveModelFile({ ...s.model, weights: flat ? s.named(flat) : await s.weights() });
    },
    async evalStart(a: ModelArgs & { batch: number }): Promise<EvalInfo> {
      const model = loadModelFile(a.model, loadOptions(a));
      const normalization = normalizationOf(model);
      evaluation = new EvalSession(gpu, model, a.batch, normalization);
      return { config: model.config, classNames: model.classNames, normalization };
    },
    evalLogits: (pixels: Uint32Array, count: number) => need(evaluation, 'evaluation').logits(pixels, count),
  };
}

export type EngineApi = ReturnType<typeof engineApi>;

/** The engine as a run driver sees it, wherever it runs: each call may cross into another process. */
export interface Engine {
  call<K extends keyof EngineApi>(
    name: K,
    ...args: Parameters<EngineApi[K]>
  ): Promise<Awaited<ReturnType<EngineApi[K]>>>;
}

/** The engine on a device of this thread. */
export function directEngine(gpu: Gpu): Engine {
  const api = engineApi(gpu);
  return { call: async (name, ...args) => (api[name] as (...a: unknown[]) => unknown)(...args) as never };
}
