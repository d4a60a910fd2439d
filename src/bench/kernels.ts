// The kernel benchmark: our matmul and attention against TensorFlow.js's WebGPU
// backend doing the same work on the same inputs, on one shared GPUDevice
// (tfjs-device.ts); in a page (kernels-page.ts) or in Node (node-suites.ts).
// ?models=a,b (training benchmark models, ?batch=N overriding their batch) replaces the
// default cases with each model's block: its four Linears and its attention.
// TF.js's declarations reference an older copy of @webgpu/types (nested in
// tfjs-core); naming ours first keeps the engine typed against the current one.
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Gpu } from '../gpu/gpu.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { attention } from '../nn/ops/attention.ts';
import { matmul } from '../nn/ops/matmul.ts';
import { vitDims } from '../nn/vit-arch.ts';
import { adapterFields, type BenchPage, type KernelResult } from './page.ts';
import { shareDevice, tfjsDone } from './tfjs-device.ts';
import { timeReps } from './timing.ts';
import { queryModels, queryOverrides, trainModel, type TrainOverrides } from './train-models.ts';

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
        free: () => {
          free();
          c.buffer.destroy();
        },
      };
    },
  };
}

/** A ViT Linear over every token: y[rows, out] = x[rows, in]·w[out, in]ᵀ + bias[out]. */
function linear(name: string, rows: number, inDim: number, outDim: number): Case {
  return {
    name,
    shape: `[${rows}x${inDim}]·[${outDim}x${inDim}]ᵀ+b`,
    flops: 2 * rows * inDim * outDim,
    build(gpu) {
      const { ours, theirs, free } = inputs(gpu, { x: [rows, inDim], w: [outDim, inDim], bias: [outDim] });
      const y = gpu.tensor([rows, outDim], 'f32', 'y');
      return {
        engine: () => matmul(gpu, ours.x, ours.w, y, { transB: true, bias: ours.bias }),
        tfjs: () => tf.fused.matMul({ a: theirs.x, b: theirs.w, transposeB: true, bias: theirs.bias }).dispose(),
        free: () => {
          free();
          y.buffer.destroy();
        },
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
function selfAttention(N: number, B = 2, H = 6, hd = 64, name = `attention N=${N}`): Case {
  const D = H * hd;
  return {
    name,
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
        tfjs: () =>
          tf.tidy(() => {
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

/** The first MLP Linear of a ViT block over 8 images of 197 tokens. */
const fc1 = (model: string, D: number) => linear(`linear ${model} fc1`, 8 * 197, D, 4 * D);

const DEFAULT_CASES: Case[] = [
  square(256),
  square(512),
  square(1024),
  fc1('ViT-Ti', 192),
  fc1('ViT-S', 384),
  selfAttention(65),
  selfAttention(197),
  selfAttention(785),
];

/** One block of a training benchmark model at its batch: the Linears of attention and MLP, and attention. */
function blockCases(model: string, overrides: TrainOverrides): Case[] {
  const spec = trainModel(model, overrides);
  const { N, D, M, H, hd } = vitDims(spec.config);
  const rows = spec.batch * N;
  return [
    linear(`${model} qkv`, rows, D, 3 * D),
    linear(`${model} proj`, rows, D, D),
    linear(`${model} fc1`, rows, D, M),
    linear(`${model} fc2`, rows, M, D),
    selfAttention(N, spec.batch, H, hd, `${model} attention`),
  ];
}

function chooseCases(query: URLSearchParams): Case[] {
  return queryModels(query)?.flatMap((m) => blockCases(m, queryOverrides(query))) ?? DEFAULT_CASES;
}

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

/** The kernel benchmark on `gpu`, TF.js's webgpu backend on the same device; `query` as the page's. */
export async function kernelSuite(gpu: Gpu, query: URLSearchParams): Promise<BenchPage<KernelResult>> {
  const cases = chooseCases(query);
  const backend = await shareDevice(gpu);
  return {
    adapter: adapterFields(gpu),
    cases: cases.map(({ name, shape }) => ({ name, shape })),
    run: (name) => {
      const c = cases.find((k) => k.name === name);
      if (!c) throw new Error(`no kernel case named ${name}`);
      return measure(gpu, backend, c);
    },
  };
}
