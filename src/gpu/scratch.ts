// Temporary tensors an op needs between its own dispatches (partial sums...).
// One growing buffer per name; safe to reuse because dispatches run in order.
import type { Gpu } from './gpu.ts';
import { view, type DType, type Tensor } from './tensor.ts';

const pools = new WeakMap<Gpu, Map<string, Tensor>>();

export function scratch(gpu: Gpu, name: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
  let pool = pools.get(gpu);
  if (!pool) pools.set(gpu, (pool = new Map()));
  const n = shape.reduce((a, b) => a * b, 1);
  let t = pool.get(name);
  if (!t || t.shape[0] < n) {
    t = gpu.tensor([Math.max(n, 1024)], dtype, `scratch:${name}`);
    pool.set(name, t);
  }
  return view({ ...t, dtype }, shape, 0, `scratch:${name}`);
}
