// Messages between the page and the training worker. Everything here is structured-cloneable:
// Blobs and Files travel by reference, typed arrays by copy (or transfer).
import type { Experiment } from '../app/experiment.ts';
import type { ViTConfig } from '../checkpoint/vit-config.ts';
import type { LeftOut } from '../data/entries.ts';
import type { StepRecord } from '../train/session.ts';

/** The settings of one run: the experiment without its model and dataset. */
export type RunSettings = Omit<Experiment, 'model' | 'data'>;

/** A dataset as the worker can open it: a zip, or loose files with their paths below the root. */
export type DatasetSource =
  | { kind: 'zip'; name: string; blob: Blob }
  | { kind: 'files'; name: string; files: { path: string; file: Blob }[]; folders: string[] };

export type ToWorker =
  | {
      type: 'start';
      runId: string;
      /** The safetensors bytes of the starting (pretrained) model. */
      model: ArrayBuffer;
      data: DatasetSource;
      settings: RunSettings;
      /** Continue a run that stopped: its last checkpoint from OPFS is loaded. */
      resumeFromStep?: number;
      /** Training seconds of the run before it is resumed, so its wall-time axis continues. */
      secondsBefore?: number;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export interface EvalPoint {
  step: number;
  loss: number;
  accuracy: number;
  count: number;
}

export interface TrainPoint extends StepRecord {
  /** Seconds since the run (or its resumption) started, plus the seconds of earlier sessions. */
  seconds: number;
  epoch: number;
  imagesPerSec: number;
}

/** Misclassified images sent back with the confusion matrix, at most. */
export const MAX_MISTAKES = 400;

/** A misclassified validation image: its RGBA pixels at the model's size, for the confusion matrix. */
export interface Mistake {
  label: number;
  predicted: number;
  path: string;
  pixels: Uint8Array;
}

export interface RunInfo {
  config: ViTConfig;
  parameters: number;
  plannedBytes: number;
  classes: string[];
  counts: { train: number; val: number; test: number };
  changes: string[];
  leftOut: LeftOut[];
  problems: string[];
}

export type ErrorKind = 'device-lost' | 'out-of-memory' | 'nan' | 'data' | 'model' | 'other';

export type FromWorker =
  | { type: 'info'; runId: string; info: RunInfo }
  | { type: 'decode'; runId: string; decoded: number; total: number; ratePerSec: number; secondsLeft: number }
  | { type: 'step'; runId: string; point: TrainPoint }
  | { type: 'eval'; runId: string; point: EvalPoint }
  /** The run's checkpoint in OPFS now holds this step. */
  | { type: 'checkpoint'; runId: string; step: number }
  | { type: 'paused'; runId: string; step: number }
  | {
      type: 'done';
      runId: string;
      /** 'finished' after the last step, 'stopped' by the person, 'failed' after an error. */
      reason: 'finished' | 'stopped' | 'failed';
      /** confusion[true][predicted] over the validation split, when it has images. */
      confusion?: number[][];
      mistakes?: Mistake[];
    }
  | { type: 'error'; runId?: string; kind: ErrorKind; message: string };
