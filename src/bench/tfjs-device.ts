// TensorFlow.js's WebGPU backend on the engine's own GPUDevice, so both engines run
// on the same adapter with the same limits and the ratio between them is meaningful.
// TF.js's declarations reference an older copy of @webgpu/types (nested in
// tfjs-core); naming ours first keeps the engine typed against the current one.
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Gpu } from '../gpu/gpu.ts';

/** TF.js's backend on our device, registered under the name its kernels are registered for. */
export async function shareDevice(gpu: Gpu): Promise<WebGPUBackend> {
  // Registered when its module loaded where navigator.gpu was (a page), with a device of its own.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  const info = { vendor: gpu.adapter.vendor, architecture: gpu.adapter.architecture } as GPUAdapterInfo;
  tf.registerBackend('webgpu', () => new WebGPUBackend(gpu.device, info));
  // Small inputs would otherwise be computed on the CPU.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its webgpu backend');
  return tf.backend() as WebGPUBackend;
}

/**
 * Resolves once the device has finished everything TF.js encoded. TF.js's own sync is
 * a read back; its submit sequence without the copy waits for the kernels alone.
 */
export async function tfjsDone(backend: WebGPUBackend): Promise<void> {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
  await backend.queue.onSubmittedWorkDone();
}
