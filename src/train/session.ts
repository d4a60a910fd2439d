// A training run on the engine: one StochCA (or, with p = 0, fine-tuning; or a linear probe) step per batch of
// uint8 pixels, evaluation logits, and the fine-tuned weights. The loop, the data and the
// records live with the caller (the command line or the page's worker).
import type { ModelFile } from '../checkpoint/model-file.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { numel, type HostTensor, type Tensor } from '../gpu/tensor.ts';
import { normalizeImages, type Rgb } from '../nn/ops/normalize.ts';
import { learningRate } from '../nn/schedule.ts';
import { computeGradients, drawMask, optimizerStep, studentForward } from '../nn/stochca-step.ts';
import type { VitBuffers } from '../nn/vit-buffers.ts';
import { chooseMicroBatch } from '../nn/planner.ts';
import { allocateNet, classAttentionMaps, netFor, readClassAttention, splitParams } from './model-runner.ts';
import type { StepRecord } from './records.ts';
import type { RunSettings } from './settings.ts';

/** What a training session needs of a run's settings (src/train/settings.ts), with p already 0 for fine-tuning. */
export type TrainSettings = Pick<
  RunSettings,
  'steps' | 'batch' | 'lr' | 'weightDecay' | 'wdExempt' | 'warmup' | 'seed' | 'clip'
> & {
  /** Probability that a block cross-attends to the teacher in a step; 0 is plain fine-tuning. */
  p: number;
  /** Train the classifier head alone on the frozen rest (the linear probe, with p = 0). */
  headOnly?: boolean;
  /** Bytes of GPU memory the session may plan; the micro-batch is the largest that fits (planner.ts). */
  memoryBudget?: number;
};

/** Flat weights [paramElems] and AdamW's moments of the trained parameters (all, or a linear probe's head). */
export interface TrainState {
  weights: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

type Normalization = { mean: Rgb; std: Rgb };

/**
 * Images for the model: RGBA pixels packed one per u32 [n, S, S], normalised on the device, or float
 * images [n, 3, S, S] already at the model's normalisation (the command line's .npy input).
 */
export type ModelImages = Uint32Array | Float32Array;

/** Writes `data` into `t`, up to t's size: a short batch is padded with zeros (black, or 0 after normalisation). */
function writePadded(gpu: Gpu, t: Tensor, data: Uint32Array | Float32Array): void {
  const size = numel(t.shape);
  let full = data.subarray(0, size);
  if (full.length < size) {
    full = data instanceof Float32Array ? new Float32Array(size) : new Uint32Array(size);
    full.set(data);
  }
  gpu.write(t, full);
}

/** Uploads up to one batch of images into the network's input, normalising pixels into `target` first. */
function uploadBatch(
  gpu: Gpu,
  net: VitBuffers,
  target: Tensor,
  images: ModelImages,
  labels: Uint32Array | undefined,
  n: Normalization,
): void {
  if (images instanceof Float32Array) writePadded(gpu, net.stem.images, images);
  else {
    writePadded(gpu, target, images);
    normalizeImages(gpu, target, net.stem.images, n.mean, n.std);
  }
  const y = new Uint32Array(net.plan.options.batch);
  if (labels) y.set(labels.subarray(0, y.length));
  gpu.write(net.stem.labels, y);
}

/** The student's logits [count, C] (self-attention everywhere) for up to one batch of images. */
async function batchLogits(
  gpu: Gpu,
  net: VitBuffers,
  target: Tensor,
  images: ModelImages,
  count: number,
  n: Normalization,
): Promise<Float32Array> {
  uploadBatch(gpu, net, target, images, undefined, n);
  studentForward(gpu, net);
  const all = (await gpu.read(net.stem.logits)) as Float32Array;
  return all.slice(0, count * net.plan.config.numClasses);
}

/** Evaluation of a model, batch by batch: logits, or logits and attention maps. */
export class EvalSession {
  private readonly net: VitBuffers;
  private readonly pixels: Tensor; // [B, S, S] RGBA packed in u32
  private maps?: Tensor[]; // depth × [B, heads, N], made on the first attention()

  constructor(
    private readonly gpu: Gpu,
    readonly model: ModelFile,
    batch: number,
    private readonly norm: Normalization,
  ) {
    this.net = netFor(gpu, model, { batch, training: false, teacher: false });
    this.pixels = gpu.tensor([batch, model.config.imageSize, model.config.imageSize], 'u32', 'pixels');
  }

  /** Logits [count, C] of up to one batch. */
  logits(images: ModelImages, count: number): Promise<Float32Array> {
    return batchLogits(this.gpu, this.net, this.pixels, images, count, this.norm);
  }

  /** The class token's attention maps [count, depth, heads, N] and logits [count, C] of up to one batch. */
  attention(images: ModelImages, count: number): Promise<{ maps: Float32Array; logits: Float32Array }> {
    uploadBatch(this.gpu, this.net, this.pixels, images, undefined, this.norm);
    this.maps ??= classAttentionMaps(this.gpu, this.net);
    return readClassAttention(this.gpu, this.net, this.maps, count);
  }
}

export class TrainingSession {
  private readonly net: VitBuffers;
  private readonly pixels: Tensor; // [m, S, S] RGBA packed in u32, m = microBatch
  /** The step's losses and correct counts, one per micro-batch [k]. */
  private readonly parts: { loss: Tensor; correct: Tensor };
  readonly plannedBytes: number;
  /** Images per forward and backward pass: the batch, or a divisor of it that fits the GPU. */
  readonly microBatch: number;

  constructor(
    private readonly gpu: Gpu,
    readonly model: ModelFile,
    readonly settings: TrainSettings,
    private readonly norm: Normalization,
  ) {
    const s = settings;
    if (!(s.p >= 0 && s.p <= 1)) throw new RangeError(`p must be between 0 and 1, got ${s.p}`);
    if (s.headOnly && s.p > 0) throw new RangeError(`a linear probe trains with p = 0, got ${s.p}`);
    const { microBatch, plan } = chooseMicroBatch(
      model.config,
      s.batch,
      s.p > 0,
      gpu.adapter.limits,
      s.memoryBudget,
      s.headOnly,
    );
    this.microBatch = microBatch;
    this.net = allocateNet(gpu, model, plan);
    this.plannedBytes = plan.bytes.total;
    const k = s.batch / microBatch;
    this.parts = { loss: gpu.tensor([k], 'f32', 'step.losses'), correct: gpu.tensor([k], 'u32', 'step.correct') };
    if (this.net.teacher) {
      // The teacher is the pretrained model itself, frozen: W0 = the student's starting weights.
      this.gpu.copy(
        this.net.weights.flat.buffer,
        0,
        this.net.teacher.weights.flat.buffer,
        0,
        4 * this.net.plan.paramElems,
      );
    }
    this.pixels = gpu.tensor([microBatch, model.config.imageSize, model.config.imageSize], 'u32', 'pixels');
  }

  /** One optimisation step (1-based `step`) on a full batch: pixels [batch, S, S], labels [batch],
   *  in micro-batches that share the step's mask, their gradients summed before AdamW. */
  async step(pixels: Uint32Array, labels: Uint32Array, step: number): Promise<StepRecord> {
    const s = this.settings;
    const m = this.microBatch;
    const k = s.batch / m;
    const per = this.pixels.shape[1] * this.pixels.shape[2];
    const mask = drawMask(s.seed, step, this.model.config.depth, s.p);
    const lr = learningRate(step, s.steps, s.lr, s.warmup);
    for (let j = 0; j < k; j++) {
      uploadBatch(
        this.gpu,
        this.net,
        this.pixels,
        pixels.subarray(j * m * per, (j + 1) * m * per),
        labels.subarray(j * m, (j + 1) * m),
        this.norm,
      );
      computeGradients(this.gpu, this.net, mask, { index: j, of: k });
      this.gpu.copy(this.net.stem.loss.buffer, 0, this.parts.loss.buffer, 4 * j, 4);
      this.gpu.copy(this.net.stem.correct.buffer, 0, this.parts.correct.buffer, 4 * j, 4);
    }
    optimizerStep(this.gpu, this.net, {
      lr,
      weightDecay: s.weightDecay,
      wdExempt: s.wdExempt,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      maxNorm: s.clip > 0 ? s.clip : undefined,
      step,
    });
    const [losses, correct] = await this.gpu.readAll([this.parts.loss, this.parts.correct]);
    const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);
    return {
      step,
      loss: sum(losses) / k,
      accuracy: sum(correct) / s.batch,
      lr,
      mask: mask.map((b) => (b ? '1' : '0')).join(''),
    };
  }

  /** Logits [count, C] of the student alone for up to one batch of images, a micro-batch at a time. */
  async logits(pixels: Uint32Array, count: number): Promise<Float32Array> {
    const m = this.microBatch;
    if (count <= m) return batchLogits(this.gpu, this.net, this.pixels, pixels, count, this.norm);
    const per = this.pixels.shape[1] * this.pixels.shape[2];
    const C = this.model.config.numClasses;
    const out = new Float32Array(count * C);
    for (let at = 0; at < count; at += m) {
      const n = Math.min(m, count - at);
      out.set(
        await batchLogits(this.gpu, this.net, this.pixels, pixels.subarray(at * per, (at + n) * per), n, this.norm),
        at * C,
      );
    }
    return out;
  }

  /** Everything a resumed run needs besides the settings: flat weights and AdamW moments. */
  async state(): Promise<TrainState> {
    const net = this.net;
    const [weights, m, v] = await this.gpu.readAll([net.weights.flat, net.m!, net.v!]);
    return { weights: weights as Float32Array, m: m as Float32Array, v: v as Float32Array };
  }

  /** Puts back a state() of a run of the same model and settings; the teacher keeps the start weights. */
  restore(state: TrainState): void {
    const want = { weights: this.net.plan.paramElems, m: this.net.m!.shape[0], v: this.net.v!.shape[0] };
    for (const [name, t] of Object.entries(state)) {
      const n = want[name as keyof TrainState];
      if (t.length !== n) throw new RangeError(`the saved ${name} has ${t.length} values, this run ${n}`);
    }
    this.gpu.write(this.net.weights.flat, state.weights);
    this.gpu.write(this.net.m!, state.m);
    this.gpu.write(this.net.v!, state.v);
  }

  /** The student's current weights under canonical names. */
  async weights(): Promise<Map<string, HostTensor>> {
    return this.named((await this.gpu.read(this.net.weights.flat)) as Float32Array);
  }

  /** Flat weights (a state()'s, say) under canonical names, without reading the device again. */
  named(flat: Float32Array): Map<string, HostTensor> {
    return splitParams(this.net.plan, flat);
  }
}
