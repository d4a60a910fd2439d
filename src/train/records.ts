// What a run reports as it goes, the same for the page (through its worker) and the command line.
import type { CheckpointConfig } from '../checkpoint/checkpoint-config.ts';
import type { Rgb } from '../nn/ops/normalize.ts';
import type { LeftOut } from '../data/entries.ts';

export interface StepRecord {
  step: number;
  loss: number;
  /** Share of the batch classified right. */
  accuracy: number;
  lr: number;
  /** The step's StochCA mask, one character per block: '1' cross-attended to the teacher. */
  mask: string;
}

export interface TrainPoint extends StepRecord {
  /** Seconds since the run started, its earlier sessions included. */
  seconds: number;
  epoch: number;
  imagesPerSec: number;
}

export interface EvalPoint {
  step: number;
  loss: number;
  accuracy: number;
  count: number;
}

/** The test split scored once training is over: the final weights, and the best-validation ones. */
export interface TestScores {
  final?: EvalPoint;
  /** The weights of the best validation accuracy (the final ones when it was at the last step). */
  atBest?: EvalPoint;
}

/** Bytes of validation pictures sent back with the predictions, at most: every image's at 28 px
 *  (3 KiB each), about 80 at 224 px. Mistakes are pictured first (evaluate.ts). */
export const PICTURE_BYTES = 16 * 2 ** 20;

/** A validation image as the run's final weights classify it, for the confusion matrix's gallery. */
export interface Prediction {
  label: number;
  predicted: number;
  /** softmax probability of the predicted class. */
  confidence: number;
  path: string;
  /** Its RGBA pixels [S, S, 4] as the model saw them, while PICTURE_BYTES last. */
  pixels?: Uint8Array;
}

/** What a run is about to train, once its data and model are open. */
export interface RunInfo {
  config: CheckpointConfig;
  parameters: number;
  plannedBytes: number;
  /** Images per forward and backward pass; the batch when it fits the GPU at once. */
  microBatch: number;
  classes: string[];
  counts: { train: number; val: number; test: number };
  /** What loading changed in the model (a new head, a resized position embedding), in words. */
  changes: string[];
  leftOut: LeftOut[];
  problems: string[];
  normalization: { mean: Rgb; std: Rgb };
}
