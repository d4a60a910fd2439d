// Allocates what planVit laid out. Activations get a buffer each: WebGPU forbids a
// dispatch to read and write the same buffer, so they cannot share one arena.
import type { Gpu } from '../gpu/gpu.ts';
import { view, type Tensor } from '../gpu/tensor.ts';
import {
  backwardShapes,
  blockShapes,
  lossGradShapes,
  savesBlocks,
  stemShapes,
  type BlockShapes,
  type VitPlan,
} from './planner.ts';
import { vitDims } from './vit-arch.ts';

export type BlockActs = { [K in keyof BlockShapes]: Tensor };
export type StemActs = { [K in keyof ReturnType<typeof stemShapes>]: Tensor };
export type LossGrads = { [K in keyof ReturnType<typeof lossGradShapes>]: Tensor };
export type BackwardActs = { [K in keyof ReturnType<typeof backwardShapes>]: Tensor };

/** A flat parameter-shaped buffer and a view per named parameter. */
export interface ParamSet {
  flat: Tensor;
  at: Record<string, Tensor>;
}

export interface TeacherBuffers {
  weights: ParamSet;
  /** qkv of each block [B, N, 3D], kept for the student's cross-attention. */
  qkv: Tensor[];
  work: BlockActs;
  tokens: Tensor;
}

export interface VitBuffers {
  plan: VitPlan;
  weights: ParamSet;
  /** The trained parameters' gradients [paramElems − trainOffset], a view per trained parameter; with
   *  micro-batches, their sum over a step's micro-batches (stochca-step.ts computeGradients). */
  grads?: ParamSet;
  m?: Tensor;
  v?: Tensor;
  stem: StemActs;
  /** One per block when the backward goes through the blocks (it needs them all); one shared otherwise. */
  blocks: BlockActs[];
  /** When training. */
  lossGrads?: LossGrads;
  /** When training goes below the head (not for a linear probe). */
  bwd?: BackwardActs;
  teacher?: TeacherBuffers;
}

function tensors<T extends Record<string, readonly number[]>>(
  gpu: Gpu,
  shapes: T,
  prefix: string,
): { [K in keyof T]: Tensor } {
  const out = {} as { [K in keyof T]: Tensor };
  for (const k of Object.keys(shapes) as (keyof T)[]) {
    out[k] = gpu.tensor(shapes[k], k === 'labels' || k === 'correct' ? 'u32' : 'f32', `${prefix}${String(k)}`);
  }
  return out;
}

/** The parameters' flat buffer from element `from` on (0: all of them; trainOffset: the trained ones). */
function paramSet(gpu: Gpu, plan: VitPlan, label: string, from = 0): ParamSet {
  const flat = gpu.tensor([plan.paramElems - from], 'f32', label);
  const at: Record<string, Tensor> = {};
  for (const p of plan.params) {
    if (p.offset >= from) at[p.name] = view(flat, p.shape, p.offset - from, `${label}:${p.name}`);
  }
  return { flat, at };
}

export function allocateVit(gpu: Gpu, plan: VitPlan): VitBuffers {
  const { config: c, options: o } = plan;
  const B = o.batch;
  const buffers: VitBuffers = {
    plan,
    weights: paramSet(gpu, plan, 'weights'),
    stem: tensors(gpu, stemShapes(c, B), ''),
    blocks: Array.from({ length: savesBlocks(o) ? c.depth : 1 }, (_, i) =>
      tensors(gpu, blockShapes(c, B), `block${i}.`),
    ),
  };
  if (o.training) {
    const grads = paramSet(gpu, plan, 'grads', plan.trainOffset);
    const n = grads.flat.shape;
    buffers.grads = grads;
    buffers.m = gpu.tensor(n, 'f32', 'adam.m');
    buffers.v = gpu.tensor(n, 'f32', 'adam.v');
    buffers.lossGrads = tensors(gpu, lossGradShapes(c, B), 'grad.');
    if (!o.headOnly) buffers.bwd = tensors(gpu, backwardShapes(c, B), 'grad.');
  }
  if (o.teacher) {
    const { P, D } = vitDims(c);
    buffers.teacher = {
      weights: paramSet(gpu, plan, 'teacher'),
      qkv: Array.from({ length: c.depth }, (_, i) => gpu.tensor(plan.block.qkv, 'f32', `teacher${i}.qkv`)),
      work: tensors(gpu, blockShapes(c, B), 'teacher.'),
      tokens: gpu.tensor([B, P, D], 'f32', 'teacher.tokens'),
    };
  }
  return buffers;
}
