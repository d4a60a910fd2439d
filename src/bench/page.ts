// What a benchmark page offers its driver (main.ts, `npm run bench`) on window:
// the adapter, the list of cases, and a function that measures one case.
// Each suite has its own result type; all share CaseInfo.
import type { Gpu } from '../gpu/gpu.ts';
import type { LayoutName } from '../gpu/layout.ts';

export interface AdapterFields {
  vendor: string;
  architecture: string;
  description: string;
  /** The engine's device has timestamp-query, so gpu_ms is measured. */
  timestamps: boolean;
  /** The engine's kernel layout (src/gpu/layout.ts); absent where no engine runs. */
  layout?: LayoutName;
  /** A fallback adapter (WebGPU on the CPU); absent where no engine runs. */
  fallback?: boolean;
}

/** The adapter of the engine's device, as the benchmark pages report it. */
export function adapterFields(gpu: Gpu): AdapterFields {
  const { vendor, architecture, description, fallback } = gpu.adapter;
  return { vendor, architecture, description, fallback, timestamps: gpu.hasTimestamps, layout: gpu.layout.name };
}

export interface CaseInfo {
  name: string;
  shape: string;
  /** Anything that makes the figures suspect (the CLI prints each on stderr). */
  warnings?: string[];
}

export interface KernelResult extends CaseInfo {
  /** Floating-point operations of one repetition. */
  flops: number;
  /** Repetitions timed for our engine. */
  reps: number;
  /** Our engine, wall-clock per repetition. */
  ms: number;
  /** Our engine, GPU timestamps per repetition (null without timestamp-query). */
  gpu_ms: number | null;
  gflops: number;
  tfjs_reps: number;
  /** TensorFlow.js webgpu backend, wall-clock per repetition. */
  tfjs_ms: number;
  tfjs_gflops: number;
  /** tfjs_ms / ms: above 1, our engine is faster. */
  ratio: number;
}

/** One training step of a ViT (src/bench/train.ts), ours against TF.js's. */
export interface TrainResult extends CaseInfo {
  model: string;
  /** 'finetune' (p = 0), 'linear-probe' (p = 0, the head alone) or 'stochca'. */
  method: string;
  p: number;
  batch: number;
  /** Steps timed per engine, each with its own mask (the same sequence for both engines). */
  steps: number;
  /** Cross-attending blocks, summed over the timed steps. */
  cross_blocks: number;
  /** Teacher blocks run (up to the deepest cross-attending one), summed over the timed steps. */
  teacher_blocks: number;
  /** Matmul and attention FLOPs of one step, the mean over the timed steps. */
  flops: number;
  ms: number;
  images_per_s: number;
  gflops: number;
  tfjs_ms: number;
  tfjs_images_per_s: number;
  tfjs_gflops: number;
  /** images_per_s / tfjs_images_per_s: above 1, our engine is faster. */
  ratio: number;
  /** ms per step divided by the same model's fine-tuning case (1 for it; null when it has not run). */
  cost_vs_finetune: number | null;
  tfjs_cost_vs_finetune: number | null;
  /** plan.bytes.total of our engine's plan. */
  planned_bytes: number;
  /** Loss of the first step from the same weights, batch and mask, both engines. */
  loss: number;
  tfjs_loss: number;
  /** Loss of the last timed step, after the same updates in both engines. */
  final_loss: number;
  tfjs_final_loss: number;
  /** TF.js tensors alive after the timed steps minus before them (0: nothing leaked). */
  tfjs_tensor_growth: number;
  /** Our engine's GPU nanoseconds per kernel (the op's first word) and step, from timestamps over the
   *  timed masks run once more with every dispatch timed; null without timestamp-query. */
  kernel_ns: Record<string, number> | null;
}

export interface BenchPage<R extends CaseInfo = CaseInfo> {
  adapter: AdapterFields;
  cases: CaseInfo[];
  run(name: string): Promise<R>;
}

declare global {
  interface Window {
    stochcaBench?: BenchPage;
    stochcaBenchError?: string;
  }
}
