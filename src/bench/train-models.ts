// The ViTs the training benchmark runs (npm run bench -- train [--model a,b]). The
// defaults are cut down to run in a few minutes on SwiftShader (WebGPU on the CPU);
// their names say how: real ViT-Ti/S widths and heads, fewer blocks, small images.
// The 224-px presets are the real ViT-Ti/16, ViT-S/16 and ViT-B/16 shapes, for GPUs; on a
// CPU adapter they run at a smaller batch and fewer steps (--batch, --warmup, --steps).
import type { VitArch } from '../nn/vit-arch.ts';

export interface TrainModel {
  config: VitArch;
  batch: number;
  /** Untimed steps after the first (checked) one. */
  warmup: number;
  /** Timed steps per engine and case. */
  steps: number;
}

const vit = (
  dim: number,
  heads: number,
  depth: number,
  imageSize: number,
  patchSize: number,
  numClasses: number,
): VitArch => ({
  imageSize,
  patchSize,
  dim,
  depth,
  heads,
  mlpDim: 4 * dim,
  numClasses,
  layerNormEps: 1e-6,
});

export const TRAIN_MODELS: Record<string, TrainModel> = {
  'vit-ti-d2-16px': { config: vit(192, 3, 2, 16, 4, 10), batch: 4, warmup: 0, steps: 5 },
  'vit-s-d2-16px': { config: vit(384, 6, 2, 16, 4, 10), batch: 1, warmup: 0, steps: 3 },
  // A few milliseconds a step anywhere: gpu-report --allow-software, so CI runs the report's every path.
  'vit-tiny-16px': { config: vit(32, 2, 2, 16, 4, 10), batch: 2, warmup: 0, steps: 2 },
  'vit-ti16-224': { config: vit(192, 3, 12, 224, 16, 200), batch: 32, warmup: 2, steps: 10 },
  'vit-s16-224': { config: vit(384, 6, 12, 224, 16, 200), batch: 32, warmup: 2, steps: 10 },
  'vit-b16-224': { config: vit(768, 12, 12, 224, 16, 200), batch: 32, warmup: 2, steps: 10 },
};

/** What --batch, --warmup and --steps change in every model of a run. */
export interface TrainOverrides {
  batch?: number;
  warmup?: number;
  steps?: number;
}

/** The models a benchmark page's query names (?models=a,b); an unknown name is an error. */
export function queryModels(query: URLSearchParams): string[] | undefined {
  const models = query.get('models')?.split(',');
  const unknown = models?.filter((m) => !(m in TRAIN_MODELS)) ?? [];
  if (unknown.length > 0) throw new Error(`no benchmark model named ${unknown.join(', ')}`);
  return models;
}

/** The overrides a benchmark page gets in its query (?batch=N&warmup=N&steps=N), checked by the command line. */
export function queryOverrides(query: URLSearchParams): TrainOverrides {
  const number = (key: string) => (query.has(key) ? Number(query.get(key)) : undefined);
  return { batch: number('batch'), warmup: number('warmup'), steps: number('steps') };
}

/** The model `name` with the overrides applied. */
export function trainModel(name: string, o: TrainOverrides = {}): TrainModel {
  const spec = TRAIN_MODELS[name];
  return { ...spec, batch: o.batch ?? spec.batch, warmup: o.warmup ?? spec.warmup, steps: o.steps ?? spec.steps };
}

export const DEFAULT_TRAIN_MODELS = ['vit-ti-d2-16px', 'vit-s-d2-16px'];

/** The methods of every model: plain fine-tuning, the linear probe (the head alone), and StochCA at the
 *  paper's p and a high one. Fine-tuning comes first: the others' cost is relative to it. */
export const TRAIN_METHODS = [
  { method: 'finetune', p: 0 },
  { method: 'linear-probe', p: 0 },
  { method: 'stochca', p: 0.1 },
  { method: 'stochca', p: 0.5 },
] as const;
