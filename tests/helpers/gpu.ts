// One Node WebGPU device per test file (each file runs in its own process).
import type { Gpu } from '../../src/gpu/gpu.ts';
import { requestNodeGpu } from '../../src/gpu/device-node.ts';
import type { HostArray, Tensor } from '../../src/gpu/tensor.ts';

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  return (shared ??= requestNodeGpu());
}

/** Uploads float64 test data as an f32 tensor. */
export function f32Tensor(gpu: Gpu, data: ArrayLike<number>, shape: readonly number[], label = 't'): Tensor {
  return gpu.upload(Float32Array.from(data), shape, label);
}

export async function readF64(gpu: Gpu, t: Tensor): Promise<Float64Array> {
  const host: HostArray = await gpu.read(t);
  return Float64Array.from(host);
}
