// A run as the page keeps it: its settings, its curves and how it ended. Persisted in IndexedDB
// (persist.ts); the fine-tuned models and optimizer state live in OPFS (train/opfs-store.ts).
import type { DataRef, ModelRef } from '../../train/settings.ts';
import type { EvalPoint, Prediction, RunInfo, TestScores, TrainPoint } from '../../train/records.ts';
import type { RunSettings } from '../../train/settings.ts';
import type { ErrorKind } from '../../worker/protocol.ts';
import { bestEvaluation } from '../../train/best.ts';

/** 'shared': curves that came with a link, shown but not kept or resumable; 'elsewhere': training in
 *  another tab of this browser. */
export type RunStatus =
  'queued' | 'running' | 'paused' | 'finished' | 'stopped' | 'failed' | 'interrupted' | 'shared' | 'elsewhere';

export interface RunRecord {
  id: string;
  label: string;
  /** Index into the palette, fixed when the run is created, so a run keeps its colour. */
  colour: number;
  model: ModelRef;
  /** SHA-256 of the model file's bytes the run starts from (and uses as its teacher). */
  modelSha256?: string;
  data: DataRef;
  settings: RunSettings;
  /** The Compare the run is one of (its runs share it): the page sums its seeds up together. */
  comparison?: string;
  status: RunStatus;
  createdAt: number;
  info?: RunInfo;
  train: TrainPoint[];
  val: EvalPoint[];
  /** The step the OPFS checkpoint holds. */
  checkpointStep?: number;
  decode?: { decoded: number; total: number; ratePerSec: number; secondsLeft: number };
  confusion?: number[][];
  /** Every validation image's prediction by the final weights, in the order of the split. */
  predictions?: Prediction[];
  /** The test split's accuracy, scored when the run finished and the data has one. */
  test?: TestScores;
  error?: { kind: ErrorKind; message: string };
  /** What the run could not do while it went on (a checkpoint not saved), in words. */
  warning?: string;
  /** A run trained outside the page (the exported PyTorch script), imported with its curves and models. */
  external?: ExternalHost;
}

/** Where an imported run trained, from its config.json. */
export interface ExternalHost {
  host: string;
  device: string;
  processes: number;
}

export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
];

const METHOD_LABELS: Record<RunSettings['method'], (s: Pick<RunSettings, 'p'>) => string> = {
  stochca: (s) => `StochCA p=${s.p}`,
  finetune: () => 'fine-tuning',
  'linear-probe': () => 'linear probe',
};

/** The method of a run in words, without its seed: 'StochCA p=0.1', 'fine-tuning', 'linear probe'. */
export const methodLabel = (s: Pick<RunSettings, 'method' | 'p'>) => METHOD_LABELS[s.method](s);

export const runLabel = (s: RunSettings) => `${methodLabel(s)} · seed ${s.seed}`;

export interface RunSummary {
  bestValAccuracy?: number;
  bestStep?: number;
  finalAccuracy?: number;
  seconds: number;
}

export function summarize(r: Pick<RunRecord, 'train' | 'val'>): RunSummary {
  const best = bestEvaluation(r.val);
  return {
    bestValAccuracy: best?.accuracy,
    bestStep: best?.step,
    finalAccuracy: r.val.at(-1)?.accuracy,
    seconds: r.train.at(-1)?.seconds ?? 0,
  };
}

/** What a person should change after a failure, by kind. */
export function advice(kind: ErrorKind): string {
  switch (kind) {
    case 'device-lost':
      return 'The GPU was reset or taken away. The curves and the last checkpoint are kept: press Resume to continue from it.';
    case 'out-of-memory':
      return 'Lower the batch size or the image size, or close other GPU-heavy tabs, then start again.';
    case 'nan':
      return 'The training diverged: lower the learning rate (or raise the warm-up) and start again.';
    case 'data':
      return 'Check the dataset: one folder per class, images inside (PNG, JPEG, WebP, BMP, GIF).';
    case 'model':
      return 'Use a ViT checkpoint in safetensors format (torchvision, timm or Hugging Face names), with its config.json if it has one.';
    default:
      return 'If it happens again, reload the page; the runs and their checkpoints are kept.';
  }
}
