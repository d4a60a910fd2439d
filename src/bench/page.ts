// What a benchmark page offers the command line (src/cli/bench.ts) on window:
// the adapter, the list of cases, and a function that measures one case.

export interface AdapterFields {
  vendor: string;
  architecture: string;
  description: string;
  /** The engine's device has timestamp-query, so gpu_ms is measured. */
  timestamps: boolean;
}

export interface CaseInfo {
  name: string;
  shape: string;
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

export interface BenchPage {
  adapter: AdapterFields;
  cases: CaseInfo[];
  run(name: string): Promise<KernelResult>;
}

declare global {
  interface Window {
    stochcaBench?: BenchPage;
    stochcaBenchError?: string;
  }
}
