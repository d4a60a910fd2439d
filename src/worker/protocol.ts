// Messages between the page and the training worker. Everything here is structured-cloneable:
// Blobs and Files travel by reference, typed arrays by copy (or transfer).
import type { DatasetSource } from '../data/dataset-source.ts';
import type { LeftOut } from '../data/entries.ts';
import type { EvalPoint, Prediction, RunInfo, TestScores, TrainPoint } from '../train/records.ts';
import type { RunSettings } from '../train/settings.ts';

export type ToWorker =
  | {
      type: 'start';
      runId: string;
      /** The safetensors bytes of the starting (pretrained) model. */
      model: ArrayBuffer;
      data: DatasetSource;
      settings: RunSettings;
      /** Continue a run that stopped from its last checkpoint in OPFS, which must hold this step. */
      resume?: {
        step: number;
        /** The best validation evaluation before it. */
        best?: EvalPoint;
        /** Training seconds of the run before, so its wall-time axis continues. */
        seconds: number;
      };
      /** End after this step as Stop would, with a checkpoint. */
      stopAfter?: number;
      /** Bytes of GPU memory the run may plan; a batch beyond it runs in micro-batches. */
      memoryBudget?: number;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** The class token's attention maps of one image in several models; computed after the run in
   *  progress, if any, as the worker runs one job on its device at a time. */
  | {
      type: 'attention';
      requestId: number;
      /** RGBA [S, S, 4] at the models' input size S, as a validation batch holds it. */
      pixels: Uint8Array;
      models: AttentionModel[];
    };

/** A model to see the attention of: a run's starting model, loaded as the run loads it (the teacher
 *  of a StochCA run), or a run's model at its last checkpoint in OPFS. */
export type AttentionModel =
  | { kind: 'pretrained'; model: ArrayBuffer; classNames: string[]; settings: RunSettings }
  | { kind: 'run'; runId: string };

export interface AttentionMaps {
  depth: number;
  heads: number;
  /** 1 + registers + patches: the class token first, then the register tokens (DINOv2's), then the patches. */
  tokens: number;
  registers: number;
  /** The class token's attention probabilities [depth, heads, tokens]. */
  maps: Float32Array;
  /** [classes] of the model's head. */
  logits: Float32Array;
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
  /** Something the run could not do, which does not stop it (a checkpoint not saved). */
  | { type: 'warning'; runId: string; message: string }
  | {
      type: 'done';
      runId: string;
      /** 'finished' after the last step, 'stopped' by the person, 'failed' after an error. */
      reason: 'finished' | 'stopped' | 'failed';
      /** confusion[true][predicted] over the validation split, when it has images. */
      confusion?: number[][];
      predictions?: Prediction[];
      /** The test split, scored when the run finished and the data has one. */
      test?: TestScores;
      /** Images found undecodable during the run. */
      skipped?: LeftOut[];
    }
  | { type: 'error'; runId?: string; kind: ErrorKind; message: string }
  /** One AttentionMaps per requested model, in order, or why there are none. */
  | { type: 'attention'; requestId: number; maps: AttentionMaps[] }
  | { type: 'attention'; requestId: number; error: string };
