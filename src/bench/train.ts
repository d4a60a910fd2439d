// The training-step benchmark: one StochCA training step (teacher forward per the
// drawn mask, student forward, backward, AdamW) on our engine against the same step
// written with TensorFlow.js (tfjs-vit.ts) on the same GPUDevice, for plain fine-tuning
// (p = 0), the linear probe (forward, then the head's gradients and AdamW alone) and StochCA
// at p = 0.1 and 0.5. Both engines start every case from the same
// weights and batch and run the same mask sequence, alternating step by step; the first
// step's losses must agree, which guards against comparing different work.
// In a page (train-page.ts) or in Node (node-suites.ts). ?models=a,b picks TRAIN_MODELS
// entries; ?batch=N, ?warmup=N and ?steps=N override their batch, untimed and timed steps.
// With timestamp-query, our engine then runs the timed masks once more with every dispatch
// timed, for each kernel's share of the GPU time.
// TF.js's declarations reference an older copy of @webgpu/types; see tfjs-device.ts.
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Gpu } from '../gpu/gpu.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { checkPlanFits, planVit, type VitPlan } from '../nn/planner.ts';
import { computeGradients, optimizerStep } from '../nn/stochca-step.ts';
import { allocateVit, type VitBuffers } from '../nn/vit-buffers.ts';
import { adapterFields, type BenchPage, type CaseInfo, type TrainResult } from './page.ts';
import { shareDevice, tfjsDone } from './tfjs-device.ts';
import { TfVit, type AdamWSettings } from './tfjs-vit.ts';
import { benchBatch, benchWeights, maskDraws, stepFlops, type HostWeights } from './train-data.ts';
import {
  DEFAULT_TRAIN_MODELS,
  queryModels,
  queryOverrides,
  TRAIN_METHODS,
  trainModel,
  type TrainModel,
  type TrainOverrides,
} from './train-models.ts';

const OPTIMIZER: AdamWSettings = { lr: 1e-4, weightDecay: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
/** The student and the teacher get different weights, so the loss check also covers the cross-attention path. */
const SEEDS = { student: 1, teacher: 2, batch: 3, masks: 4 };
/** Relative difference allowed between the engines' first-step losses. */
const LOSS_TOLERANCE = 1e-3;
/** The same after the timed steps (a few AdamW updates apart from the start). */
const FINAL_LOSS_TOLERANCE = 1e-2;

interface TrainCase extends CaseInfo {
  model: string;
  method: string;
  p: number;
}

/** What a model's cases share: its inputs, its TF.js twin, and fine-tuning's step times. */
interface ModelRun {
  name: string;
  spec: TrainModel;
  student: HostWeights;
  teacher: HostWeights;
  images: Float32Array;
  labels: Uint32Array;
  /** Uniform draws for the warm-up and timed steps, [step][block]. */
  draws: number[][];
  tfjs: TfVit;
  finetune?: { ms: number; tfjsMs: number };
}

function openModel(name: string, overrides: TrainOverrides): ModelRun {
  const spec = trainModel(name, overrides);
  const c = spec.config;
  const student = benchWeights(c, SEEDS.student);
  const teacher = benchWeights(c, SEEDS.teacher);
  const { images, labels } = benchBatch(c, spec.batch, SEEDS.batch);
  const tfjs = new TfVit(c, spec.batch, name, student, teacher, images, labels, OPTIMIZER);
  return {
    name,
    spec,
    student,
    teacher,
    images,
    labels,
    draws: maskDraws(c.depth, spec.warmup + spec.steps, SEEDS.masks),
    tfjs,
  };
}

/** Host weights laid out as the plan's flat parameter buffer. */
function flatParams(plan: VitPlan, w: HostWeights): Float32Array {
  const flat = new Float32Array(plan.paramElems);
  for (const slot of plan.params) flat.set(w[slot.name], slot.offset);
  return flat;
}

function freeVit(net: VitBuffers): void {
  const t = net.teacher;
  const all: (Tensor | undefined)[] = [
    net.weights.flat,
    net.grads?.flat,
    net.m,
    net.v,
    ...Object.values(net.stem),
    ...net.blocks.flatMap((b) => Object.values(b)),
    ...Object.values(net.lossGrads ?? {}),
    ...Object.values(net.bwd ?? {}),
    t?.weights.flat,
    ...(t?.qkv ?? []),
    ...Object.values(t?.work ?? {}),
    t?.tokens,
  ];
  for (const x of all) x?.buffer.destroy();
}

/** One engine's training loop for one case, from the model's starting weights. */
interface Engine {
  /** Encodes one training step with this mask. */
  step(mask: boolean[]): void;
  /** Resolves once the device has finished every step encoded. */
  done(): Promise<void>;
  /** The loss of the last step (before its update). */
  loss(): Promise<number>;
  free(): void;
}

/** Whether a case trains the head alone. */
const headOnly = (c: TrainCase): boolean => c.method === 'linear-probe';

/** Our engine: a fresh network per case (the plan depends on p and the method). */
function ours(gpu: Gpu, m: ModelRun, c: TrainCase): Engine & { plannedBytes: number } {
  const { config, batch } = m.spec;
  const plan = planVit(config, { batch, training: true, teacher: c.p > 0, headOnly: headOnly(c) });
  checkPlanFits(plan, gpu.device.limits);
  const net = allocateVit(gpu, plan);
  gpu.write(net.weights.flat, flatParams(plan, m.student));
  if (net.teacher) gpu.write(net.teacher.weights.flat, flatParams(plan, m.teacher));
  gpu.write(net.stem.images, m.images);
  gpu.write(net.stem.labels, m.labels);
  let step = 0;
  return {
    plannedBytes: plan.bytes.total,
    step: (mask) => {
      computeGradients(gpu, net, mask);
      optimizerStep(gpu, net, { ...OPTIMIZER, step: ++step });
    },
    done: () => gpu.sync(),
    loss: async () => (await gpu.readF32(net.stem.loss))[0],
    free: () => freeVit(net),
  };
}

/** TF.js: the model's variables reset to the starting weights, a fresh optimizer. */
function theirs(backend: WebGPUBackend, m: ModelRun, c: TrainCase): Engine {
  m.tfjs.reset(m.student, headOnly(c));
  let last: tf.Scalar | undefined;
  return {
    step: (mask) => {
      last?.dispose();
      last = m.tfjs.step(mask);
    },
    done: () => tfjsDone(backend),
    loss: async () => (await last!.data())[0],
    free: () => last?.dispose(),
  };
}

/** Runs both engines step by step in turn, so background load on the machine hits both alike. */
async function runBoth(engines: Engine[], check: boolean[], warm: boolean[][], timed: boolean[][]) {
  const firstLoss: number[] = [];
  for (const e of engines) {
    e.step(check);
    firstLoss.push(await e.loss());
  }
  for (const mask of warm) for (const e of engines) e.step(mask);
  for (const e of engines) await e.done();
  const tensors = tf.memory().numTensors;
  const ms = engines.map(() => 0);
  for (const mask of timed) {
    for (const [i, e] of engines.entries()) {
      const start = performance.now();
      e.step(mask);
      await e.done();
      ms[i] += (performance.now() - start) / timed.length;
    }
  }
  const finalLoss: number[] = [];
  for (const e of engines) finalLoss.push(await e.loss());
  return { ms, firstLoss, finalLoss, tensorGrowth: tf.memory().numTensors - tensors };
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

async function measure(gpu: Gpu, backend: WebGPUBackend, m: ModelRun, c: TrainCase): Promise<TrainResult> {
  const { config, batch, warmup } = m.spec;
  const masks = m.draws.map((u) => u.map((x) => x < c.p));
  const warm = masks.slice(0, warmup);
  const timed = masks.slice(warmup);
  // The checked first step also compiles every pipeline: with p > 0 it mixes cross- and self-attending blocks.
  const check = Array.from({ length: config.depth }, (_, i) => c.p > 0 && i % 2 === 0);
  const engine = ours(gpu, m, c);
  const tfjs = theirs(backend, m, c);
  let run: Awaited<ReturnType<typeof runBoth>>;
  let kernelNs: Record<string, number> | null = null;
  try {
    run = await runBoth([engine, tfjs], check, warm, timed);
    // After the losses are read, so the extra steps do not enter the comparison with TF.js.
    if (gpu.hasTimestamps) kernelNs = await profile(gpu, engine, timed);
  } finally {
    engine.free();
    tfjs.free();
  }
  const [ms, tfjsMs] = run.ms;
  const [loss, tfjsLoss] = run.firstLoss;
  const [finalLoss, tfjsFinalLoss] = run.finalLoss;
  if (c.method === 'finetune') m.finetune = { ms, tfjsMs };
  const flops = timed.reduce((a, mask) => a + stepFlops(config, batch, mask, headOnly(c)), 0) / timed.length;
  const warnings: string[] = [];
  const first = relDiff(loss, tfjsLoss);
  if (!(first <= LOSS_TOLERANCE)) {
    warnings.push(
      `${c.name}: the first step's losses differ: ours ${loss}, TF.js ${tfjsLoss} ` +
        `(relative ${first.toExponential(2)} > ${LOSS_TOLERANCE}); the engines may not be doing the same work`,
    );
  }
  const last = relDiff(finalLoss, tfjsFinalLoss);
  if (!(last <= FINAL_LOSS_TOLERANCE)) {
    warnings.push(
      `${c.name}: the last timed step's losses differ: ours ${finalLoss}, TF.js ${tfjsFinalLoss} ` +
        `(relative ${last.toExponential(2)} > ${FINAL_LOSS_TOLERANCE})`,
    );
  }
  if (run.tensorGrowth !== 0)
    warnings.push(`${c.name}: TF.js holds ${run.tensorGrowth} more tensors after the timed steps`);
  const perSecond = (ms: number) => (1000 * batch) / ms;
  return {
    name: c.name,
    shape: c.shape,
    warnings,
    model: c.model,
    method: c.method,
    p: c.p,
    batch,
    steps: timed.length,
    cross_blocks: timed.reduce((a, mask) => a + mask.filter(Boolean).length, 0),
    teacher_blocks: timed.reduce((a, mask) => a + mask.lastIndexOf(true) + 1, 0),
    flops,
    ms,
    images_per_s: perSecond(ms),
    gflops: flops / ms / 1e6,
    tfjs_ms: tfjsMs,
    tfjs_images_per_s: perSecond(tfjsMs),
    tfjs_gflops: flops / tfjsMs / 1e6,
    ratio: tfjsMs / ms,
    cost_vs_finetune: m.finetune ? ms / m.finetune.ms : null,
    tfjs_cost_vs_finetune: m.finetune ? tfjsMs / m.finetune.tfjsMs : null,
    planned_bytes: engine.plannedBytes,
    loss,
    tfjs_loss: tfjsLoss,
    final_loss: finalLoss,
    tfjs_final_loss: tfjsFinalLoss,
    tfjs_tensor_growth: run.tensorGrowth,
    kernel_ns: kernelNs,
  };
}

/** GPU nanoseconds per kernel and step over the timed masks, every dispatch in its own timestamped pass. */
async function profile(gpu: Gpu, engine: Engine, masks: boolean[][]): Promise<Record<string, number>> {
  const ns = await gpu.timed(async () => {
    for (const mask of masks) engine.step(mask);
  });
  return Object.fromEntries([...ns].map(([op, t]) => [op, t / masks.length]));
}

function trainCases(models: string[], overrides: TrainOverrides): TrainCase[] {
  return models.flatMap((model) => {
    const { config: c, batch } = trainModel(model, overrides);
    const shape = `B${batch} ${c.imageSize}px/${c.patchSize} D${c.dim} H${c.heads} depth ${c.depth}`;
    return TRAIN_METHODS.map(({ method, p }) => ({ name: `${model} ${method} p=${p}`, shape, model, method, p }));
  });
}

/** The training benchmark on `gpu`, TF.js's webgpu backend on the same device; `query` as the page's.
 *  TF.js's gradient functions must be registered first (the page and the Node host do it). */
export async function trainSuite(gpu: Gpu, query: URLSearchParams): Promise<BenchPage<TrainResult>> {
  const models = queryModels(query) ?? DEFAULT_TRAIN_MODELS;
  const overrides = queryOverrides(query);
  const cases = trainCases(models, overrides);
  const backend = await shareDevice(gpu);
  let open: ModelRun | undefined;
  return {
    adapter: adapterFields(gpu),
    cases: cases.map(({ name, shape }) => ({ name, shape })),
    run: async (name) => {
      const c = cases.find((k) => k.name === name);
      if (!c) throw new Error(`no training case named ${name}`);
      if (open?.name !== c.model) {
        open?.tfjs.dispose();
        open = openModel(c.model, overrides);
      }
      return measure(gpu, backend, open, c);
    },
  };
}
