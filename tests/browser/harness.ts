// The engine in a page, for tests driven from Node: window.stochca holds the
// device, every op of src/nn/ops, the model code of src/nn, and helpers to move
// arrays in and out. `?layout=gpu|cpu` forces the kernel layout of its devices.
import { requestBrowserGpu, urlLayout } from '../../src/gpu/device-browser.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { Kernel } from '../../src/gpu/kernel.ts';
import type { DType, Tensor } from '../../src/gpu/tensor.ts';

type Module = Record<string, unknown>;
const opModules = import.meta.glob('../../src/nn/ops/*.ts', { eager: true }) as Record<string, Module>;
const nnModules = import.meta.glob('../../src/nn/*.ts', { eager: true }) as Record<string, Module>;
const ops: Module = Object.assign({}, ...Object.values(opModules));
const nn: Module = Object.assign({}, ...Object.values(nnModules));

export interface Harness {
  gpu: Gpu;
  ops: Record<string, (...args: any[]) => any>;
  /** Every export of src/nn/*.ts (model, planner, StochCA step). */
  nn: Record<string, any>;
  /** The kernel description class, for kernels a test makes up. */
  Kernel: typeof Kernel;
  up(data: ArrayLike<number>, shape: readonly number[], dtype?: DType): Tensor;
  empty(shape: readonly number[], dtype?: DType): Tensor;
  down(t: Tensor): Promise<number[]>;
  /** A second, independent device (for tests that destroy theirs). */
  newGpu(): Promise<Gpu>;
  /** onnxruntime-web in this page (loaded on first use). */
  runOnnx(model: Uint8Array, pixels: Float32Array, dims: number[]): Promise<{ data: number[]; dims: number[] }>;
}

declare global {
  interface Window {
    stochca?: Harness;
    stochcaError?: string;
  }
}

try {
  const layout = urlLayout();
  const gpu = await requestBrowserGpu({ layout });
  window.stochca = {
    gpu,
    ops: ops as Harness['ops'],
    nn,
    Kernel,
    up: (data, shape, dtype = 'f32') => {
      const host =
        dtype === 'f32' ? Float32Array.from(data) : dtype === 'u32' ? Uint32Array.from(data) : Int32Array.from(data);
      return gpu.upload(host, shape);
    },
    empty: (shape, dtype = 'f32') => gpu.tensor(shape, dtype),
    down: async (t) => Array.from(await gpu.read(t)),
    newGpu: () => requestBrowserGpu({ layout }),
    runOnnx: async (model, pixels, dims) => (await import('./ort-probe.ts')).runOnnx(model, pixels, dims),
  };
} catch (e) {
  window.stochcaError = String(e);
}
