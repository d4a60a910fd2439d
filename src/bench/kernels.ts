// The kernel benchmark page: our matmul and attention against TensorFlow.js's
// WebGPU backend doing the same work on the same inputs, on one shared GPUDevice
// (tfjs-device.ts).
// TF.js's declarations reference an older copy of @webgpu/types (nested in
// tfjs-core); naming ours first keeps the engine typed against the current one.
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { requestBrowserGpu, urlLayout } from '../gpu/device-browser.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { attention } from '../nn/ops/attention.ts';
import { matmul } from '../nn/ops/matmul.ts';
import type { BenchPage, KernelResult } from './page.ts';
import { shareDevice, tfjsDone } from './tfjs-device.ts';
import { timeReps } from './timing.ts';

/** One case, its inputs uploaded to both engines. */
interface Built {
  /** Encodes one repetition on our engine. */
  engine(): void;
  /** Runs one repetition on TF.js and disposes its outputs. */
  tfjs(): void;
  free(): void;
}

interface Case {
  name: string;
  shape: string;
  flops: number;
  build(gpu: Gpu): Built;
}

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** The same random values in both engines. */
function inputs(gpu: Gpu, shapes: Record<string, number[]>) {
  const ours: Record<string, Tensor> = {};
  const theirs: Record<string, tf.Tensor> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const data = random(shape.reduce((a, b) => a * b, 1));
    ours[name] = gpu.upload(data, shape, name);
    theirs[name] = tf.tensor(data, shape);
  }
  const free = () => {
    for (const t of Object.values(ours)) t.buffer.destroy();
    for (const t of Object.values(theirs)) t.dispose();
  };
  return { ours, theirs, free };
}

/** C[n, n] = A[n, n]·B[n, n]. */
function square(n: number): Case {
  return {
    name: `matmul ${n}³`,
    shape: `[${n}x${n}]·[${n}x${n}]`,
    flops: 2 * n ** 3,
    build(gpu) {
      const { ours, theirs, free } = inputs(gpu, { a: [n, n], b: [n, n] });
      const c = gpu.tensor([n, n], 'f32', 'c');
      return {
        engine: () => matmul(gpu, ours.a, ours.b, c),
        tfjs: () => tf.matMul(theirs.a, theirs.b).dispose(),
        free: () => { free(); c.buffer.destroy(); },
      };
    },
  };
}

/** The first MLP Linear of a ViT block: y[B·N, 4D] = x[B·N, D]·w[4D, D]ᵀ + bias[4D]. */
function mlp(model: string, D: number, B = 8, N = 197): Case {
  const rows = B * N;
  return {
    name: `linear ${model} fc1`,
    shape: `[${rows}x${D}]·[${4 * D}x${D}]ᵀ+b`,
    flops: 2 * rows * D * 4 * D,
    build(gpu) {
      const { ours, theirs, free } = inputs(gpu, { x: [rows, D], w: [4 * D, D], bias: [4 * D] });
      const y = gpu.tensor([rows, 4 * D], 'f32', 'y');
      return {
        engine: () => matmul(gpu, ours.x, ours.w, y, { transB: true, bias: ours.bias }),
        tfjs: () => tf.fused.matMul({ a: theirs.x, b: theirs.w, transposeB: true, bias: theirs.bias }).dispose(),
        free: () => { free(); y.buffer.destroy(); },
      };
    },
  };
}

/**
 * Self-attention over N tokens, H heads of size hd. Ours reads the fused projection
 * qkv[B, N, 3·H·hd] and writes out[B, N, H·hd] and lse[B, H, N]; TF.js gets the same
 * values with the heads already split, q, k, v[B·H, N, hd], and runs matmul, scale,
 * softmax, matmul.
 */
function selfAttention(N: number, B = 2, H = 6, hd = 64): Case {
  const D = H * hd;
  return {
    name: `attention N=${N}`,
    shape: `B${B} H${H} N${N} hd${hd}`,
    flops: 4 * B * H * N * N * hd,
    build(gpu) {
      const { ours, theirs, free } = inputs(gpu, { qkv: [B, N, 3 * D] });
      const [q, k, v] = tf.tidy(() => {
        const heads = tf.transpose(tf.reshape(theirs.qkv, [B, N, 3, H, hd]), [2, 0, 3, 1, 4]);
        return tf.unstack(tf.reshape(heads, [3, B * H, N, hd]));
      });
      const scale = tf.scalar(1 / Math.sqrt(hd));
      const out = gpu.tensor([B, N, D], 'f32', 'out');
      const lse = gpu.tensor([B, H, N], 'f32', 'lse');
      return {
        engine: () => attention(gpu, ours.qkv, ours.qkv, out, lse, H),
        tfjs: () => tf.tidy(() => {
          tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)), v);
        }),
        free: () => {
          free();
          tf.dispose([q, k, v, scale]);
          out.buffer.destroy();
          lse.buffer.destroy();
        },
      };
    },
  };
}

const CASES: Case[] = [
  square(256),
  square(512),
  square(1024),
  mlp('ViT-Ti', 192),
  mlp('ViT-S', 384),
  selfAttention(65),
  selfAttention(197),
  selfAttention(785),
];

async function measure(gpu: Gpu, backend: WebGPUBackend, c: Case): Promise<KernelResult> {
  const built = c.build(gpu);
  try {
    // With timestamps, single repetitions read them; the second (after the warm-up) is reported.
    let gpuMs: number | null = null;
    const timedOnce = async () => {
      const ns = await gpu.timed(built.engine);
      gpuMs = [...ns.values()].reduce((a, b) => a + b, 0) / 1e6;
    };
    const ours = await timeReps(built.engine, () => gpu.sync(), gpu.hasTimestamps ? timedOnce : undefined);
    const theirs = await timeReps(built.tfjs, () => tfjsDone(backend));
    const gflops = (ms: number) => c.flops / ms / 1e6;
    return {
      name: c.name,
      shape: c.shape,
      flops: c.flops,
      reps: ours.reps,
      ms: ours.ms,
      gpu_ms: gpuMs,
      gflops: gflops(ours.ms),
      tfjs_reps: theirs.reps,
      tfjs_ms: theirs.ms,
      tfjs_gflops: gflops(theirs.ms),
      ratio: theirs.ms / ours.ms,
    };
  } finally {
    built.free();
    await gpu.sync();
  }
}

try {
  const gpu = await requestBrowserGpu({ layout: urlLayout() });
  const backend = await shareDevice(gpu);
  const page: BenchPage<KernelResult> = {
    adapter: {
      vendor: gpu.adapter.vendor,
      architecture: gpu.adapter.architecture,
      description: gpu.adapter.description,
      timestamps: gpu.hasTimestamps,
      layout: gpu.layout.name,
    },
    cases: CASES.map(({ name, shape }) => ({ name, shape })),
    run: (name) => {
      const c = CASES.find((k) => k.name === name);
      if (!c) throw new Error(`no kernel case named ${name}`);
      return measure(gpu, backend, c);
    },
  };
  window.stochcaBench = page;
} catch (e) {
  window.stochcaBenchError = String(e);
}
