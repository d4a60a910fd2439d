// The engine side of `stochca infer`, `grad` and `train`: bytes in, bytes out, so the same
// code runs on a Node GPU or inside a headless Chromium page (see engine-host.ts).
import { loadModelFile, saveModelFile, type LoadOptions } from '../checkpoint/model-file.ts';
import { fromCanonical } from '../checkpoint/names.ts';
import { writeSafetensors } from '../checkpoint/safetensors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { ViTConfig } from '../checkpoint/vit-config.ts';
import { IMAGENET_MEAN, IMAGENET_STD, type Rgb } from '../nn/ops/normalize.ts';
import { predictLogits, stepGradients } from '../train/model-runner.ts';
import { EvalSession, TrainingSession, type StepRecord, type TrainSettings } from '../train/session.ts';
import { readNpy, writeNpy } from './npy.ts';

export interface ModelArgs {
  model: Uint8Array;
  /** An HF config.json's text. */
  config?: string;
  heads?: number;
}

export interface InferArgs extends ModelArgs {
  input: Uint8Array;
}

export interface GradArgs extends ModelArgs {
  teacher?: Uint8Array;
  input: Uint8Array;
  labels: Uint8Array;
  /** One character per block, 1 = cross-attention. */
  mask: string;
}

export interface GradResult {
  loss: number;
  correct: number;
  /** safetensors with the student's tensor names and shapes; the loss in its metadata. */
  file: Uint8Array;
}

function loadOptions(a: ModelArgs): LoadOptions {
  let hfConfig: unknown;
  if (a.config !== undefined) {
    try {
      hfConfig = JSON.parse(a.config);
    } catch {
      throw new Error('--config is not valid JSON');
    }
  }
  return { heads: a.heads, hfConfig };
}

function floatImages(bytes: Uint8Array): { data: Float32Array; shape: number[] } {
  const x = readNpy(bytes, '--input');
  if (x.dtype !== 'f4') throw new Error(`--input must be float32, got ${x.dtype === 'f8' ? 'float64' : x.dtype === 'i4' ? 'int32' : 'int64'}`);
  return { data: x.data, shape: x.shape };
}

/** x [N, 3, H, W] float32 → logits [N, C] float32 as .npy bytes. */
export async function inferCommand(gpu: Gpu, a: InferArgs): Promise<Uint8Array> {
  const model = loadModelFile(a.model, loadOptions(a));
  const x = floatImages(a.input);
  const logits = await predictLogits(gpu, model, x.data, x.shape);
  return writeNpy(logits, [x.shape[0], model.config.numClasses]);
}

export async function gradCommand(gpu: Gpu, a: GradArgs): Promise<GradResult> {
  const options = loadOptions(a);
  const student = loadModelFile(a.model, options);
  const teacher = a.teacher ? loadModelFile(a.teacher, options) : undefined;
  if (!/^[01]+$/.test(a.mask)) throw new Error(`--ca-mask must be a string of 0 and 1, got '${a.mask}'`);
  const mask = [...a.mask].map((ch) => ch === '1');
  const x = floatImages(a.input);
  const y = readNpy(a.labels, '--labels');
  if (y.dtype !== 'i4' && y.dtype !== 'i8') throw new Error(`--labels must be int32 or int64, got ${y.dtype === 'f4' ? 'float32' : 'float64'}`);
  if (y.shape.length !== 1) throw new Error(`--labels must be one-dimensional [N], got [${y.shape.join(', ')}]`);
  const labels = Uint32Array.from(y.dtype === 'i4' ? y.data : Array.from(y.data, Number), (v) => (v < 0 ? 0xffffffff : v));
  const r = await stepGradients(gpu, student, teacher, x.data, x.shape, labels, mask);
  const file = writeSafetensors(fromCanonical(r.grads, student.naming), {
    metadata: { loss: String(r.loss), correct: String(r.correct), ca_mask: a.mask },
  });
  return { loss: r.loss, correct: r.correct, file };
}

export interface TrainStartArgs extends ModelArgs {
  classNames: string[];
  /** Model input size; the checkpoint's own when undefined. */
  imageSize?: number;
  settings: Omit<TrainSettings, 'mean' | 'std'>;
}

export interface TrainInfo {
  config: ViTConfig;
  changes: string[];
  plannedBytes: number;
  mean: Rgb;
  std: Rgb;
}

export interface EvalInfo {
  config: ViTConfig;
  classNames?: string[];
}

const imagenet = (): { mean: Rgb; std: Rgb } => ({ mean: IMAGENET_MEAN, std: IMAGENET_STD });

/**
 * Everything a host offers the command line, on one device: plain functions of bytes and
 * typed arrays, so the Chromium host can call them through page.evaluate. One training
 * and one evaluation session at a time.
 */
export function hostApi(gpu: Gpu) {
  let training: TrainingSession | undefined;
  let evaluation: EvalSession | undefined;
  const need = <T>(s: T | undefined, what: string): T => {
    if (!s) throw new Error(`no ${what} has been started`);
    return s;
  };
  return {
    infer: (a: InferArgs) => inferCommand(gpu, a),
    grad: (a: GradArgs) => gradCommand(gpu, a),
    async trainStart(a: TrainStartArgs): Promise<TrainInfo> {
      const model = loadModelFile(a.model, {
        ...loadOptions(a), numClasses: a.classNames.length, classNames: a.classNames, imageSize: a.imageSize, seed: a.settings.seed,
      });
      model.classNames = a.classNames;
      model.normalization ??= imagenet();
      training = new TrainingSession(gpu, model, { ...a.settings, ...model.normalization });
      return { config: model.config, changes: model.changes, plannedBytes: training.plannedBytes, ...model.normalization };
    },
    trainStep: (pixels: Uint32Array, labels: Uint32Array, step: number): Promise<StepRecord> => need(training, 'training run').step(pixels, labels, step),
    trainLogits: (pixels: Uint32Array, count: number) => need(training, 'training run').logits(pixels, count),
    /** The fine-tuned checkpoint, named as the file it started from. */
    async trainSave(): Promise<Uint8Array> {
      const s = need(training, 'training run');
      return saveModelFile({ ...s.model, weights: await s.weights() });
    },
    async evalStart(a: ModelArgs & { batch: number }): Promise<EvalInfo> {
      const model = loadModelFile(a.model, loadOptions(a));
      evaluation = new EvalSession(gpu, model, a.batch, model.normalization ?? imagenet());
      return { config: model.config, classNames: model.classNames };
    },
    evalLogits: (pixels: Uint32Array, count: number) => need(evaluation, 'evaluation').logits(pixels, count),
  };
}

export type HostApi = ReturnType<typeof hostApi>;
