// The one place that lays out everything a ViT step needs: parameters, their
// gradients, AdamW's two moments, the student's saved activations, the backward
// pass's working gradients and the frozen teacher's buffers. It reports the bytes
// before anything is allocated, so a configuration can be refused up front. A linear probe
// (`headOnly`) trains the head alone: gradients and moments of the head only, and the forward's
// activations as an evaluation keeps them, as nothing is backpropagated through the blocks.
import { vitDims, type VitArch } from './vit-arch.ts';
import { vitParamSpecs } from './vit-params.ts';

export type Shape = readonly number[];

/** Parameters are packed into one flat buffer; each starts on a 256-byte boundary so it can be bound alone. */
export const PARAM_ALIGN = 64; // elements

export interface ParamSlot {
  name: string;
  shape: Shape;
  /** Element offset in the flat parameter buffer (in the gradient and moment buffers, less the plan's trainOffset). */
  offset: number;
}

/** One transformer block's saved activations, per image batch. */
export type BlockShapes = Record<
  'a' | 'mean1' | 'rstd1' | 'qkv' | 'o' | 'lse' | 'h1' | 'a2' | 'mean2' | 'rstd2' | 'u' | 'g' | 'out',
  Shape
>;

export interface StepOptions {
  batch: number;
  /** Plan the backward pass, gradients and optimizer state. */
  training: boolean;
  /** Plan the frozen teacher (StochCA with p > 0). */
  teacher: boolean;
  /** Train the classifier head alone on the frozen rest (the linear probe): no teacher, no backward
   *  through the final LayerNorm, the blocks or the embedding. */
  headOnly?: boolean;
}

export interface VitPlan {
  config: VitArch;
  options: StepOptions;
  /** The frozen parameters (a linear probe's backbone) first, then the trained ones; within each, the
   *  weight-decayed parameters first, then the rest (see `decayed`): one range each for AdamW. */
  params: ParamSlot[];
  /** Elements of the flat parameter buffer, padding included. */
  paramElems: number;
  /** Elements [trainOffset, paramElems) hold the trained parameters (0: all of them). The gradients and
   *  AdamW's moments hold these alone, element k of theirs being element trainOffset + k of the parameters. */
  trainOffset: number;
  /** Elements [trainOffset, decayElems) hold the trained parameters `decayed` names; the exempt ones follow. */
  decayElems: number;
  /** Shapes of one transformer block's saved activations (student and teacher alike). */
  block: BlockShapes;
  bytes: {
    params: number;
    grads: number;
    optimizer: number;
    activations: number;
    backward: number;
    teacher: number;
    total: number;
  };
}

const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);
const bytesOf = (shapes: Shape[]): number => 4 * shapes.reduce((a, s) => a + size(s), 0);

export function blockShapes(c: VitArch, B: number): BlockShapes {
  const { N, D, H, M } = vitDims(c);
  const rows = B * N;
  return {
    a: [B, N, D],
    mean1: [rows],
    rstd1: [rows],
    qkv: [B, N, 3 * D],
    o: [B, N, D],
    lse: [B, H, N],
    h1: [B, N, D],
    a2: [B, N, D],
    mean2: [rows],
    rstd2: [rows],
    u: [B, N, M],
    g: [B, N, M],
    out: [B, N, D],
  };
}

/** Shapes outside the blocks: embedding, head, loss (student forward). With a pre-norm, `pre` is the first
 *  block's input, the LayerNorm of h0, with its statistics. */
export function stemShapes(c: VitArch, B: number) {
  const { P, N, D, C, K } = vitDims(c);
  return {
    images: [B, 3, c.imageSize, c.imageSize],
    labels: [B],
    patches: [B * P, K],
    tokens: [B, P, D],
    h0: [B, N, D],
    ...(c.preNorm ? { pre: [B, N, D], preMean: [B * N], preRstd: [B * N] } : {}),
    branch: [B, N, D],
    cls: [B, D],
    clsNorm: [B, D],
    headMean: [B],
    headRstd: [B],
    logits: [B, C],
    loss: [1],
    correct: [1],
  } satisfies Record<string, Shape>;
}

/** Gradients every training step holds: the loss's with respect to the logits, and the gradients' global norm. */
export function lossGradShapes(c: VitArch, B: number) {
  return { dlogits: [B, c.numClasses], gradNorm: [1] } satisfies Record<string, Shape>;
}

/** Working gradients of the backward pass below the classifier (reused by every block). */
export function backwardShapes(c: VitArch, B: number) {
  const { P, N, D, M } = vitDims(c);
  return {
    dclsNorm: [B, D],
    dcls: [B, D],
    dh: [B, N, D],
    dx: [B, N, D],
    dbranch: [B, N, D],
    dqkv: [B, N, 3 * D],
    dg: [B, N, M],
    du: [B, N, M],
    dtokens: [B, P, D],
  } satisfies Record<string, Shape>;
}

/** Whether a parameter takes weight decay under timm's convention: matrices and kernels do; biases,
 *  LayerNorm parameters, the class token and the position embedding do not. */
export const decayed = (name: string, shape: Shape): boolean => shape.length > 1 && name !== 'pos' && name !== 'cls';

/** The classifier's parameters: what a linear probe trains. */
export const isHead = (name: string): boolean => name.startsWith('head.');

/** Whether a plan keeps every block's activations for a backward through the blocks. */
export const savesBlocks = (o: StepOptions): boolean => o.training && !o.headOnly;

export function planVit(config: VitArch, options: StepOptions): VitPlan {
  const B = options.batch;
  if (options.headOnly && options.teacher) throw new RangeError('a linear probe runs no teacher');
  let offset = 0;
  const specs = vitParamSpecs(config);
  const trained = (name: string) => !options.headOnly || isHead(name);
  const byDecay = (ps: typeof specs) => [
    ...ps.filter((p) => decayed(p.name, p.shape)),
    ...ps.filter((p) => !decayed(p.name, p.shape)),
  ];
  const frozen = byDecay(specs.filter((p) => !trained(p.name)));
  const ordered = [...frozen, ...byDecay(specs.filter((p) => trained(p.name)))];
  let trainOffset = 0;
  let decayElems = 0;
  const params = ordered.map((p, i) => {
    if (i === frozen.length) trainOffset = offset;
    const slot = { name: p.name, shape: p.shape, offset };
    offset += Math.ceil(size(p.shape) / PARAM_ALIGN) * PARAM_ALIGN;
    if (i >= frozen.length && decayed(p.name, p.shape)) decayElems = offset;
    return slot;
  });
  const block = blockShapes(config, B);
  const blockBytes = bytesOf(Object.values(block));
  const stem = bytesOf(Object.values(stemShapes(config, B)));
  const paramBytes = 4 * offset;
  const trainedBytes = 4 * (offset - trainOffset);
  // The teacher: its own frozen weights, the qkv of every block that may cross-attend, and one
  // block's working set (its hidden state is updated in place block after block).
  const { P, D } = vitDims(config);
  const teacher = options.teacher
    ? paramBytes + config.depth * bytesOf([block.qkv]) + blockBytes + bytesOf([[B, P, D]])
    : 0;
  const bytes = {
    params: paramBytes,
    grads: options.training ? trainedBytes : 0,
    optimizer: options.training ? 2 * trainedBytes : 0,
    activations: stem + (savesBlocks(options) ? config.depth : 1) * blockBytes,
    backward: bytesOf(gradShapes(config, options)),
    teacher,
    total: 0,
  };
  bytes.total = bytes.params + bytes.grads + bytes.optimizer + bytes.activations + bytes.backward + bytes.teacher;
  return { config, options, params, paramElems: offset, trainOffset, decayElems, block, bytes };
}

/** The shapes of a plan's gradient buffers besides the parameters': none for inference, the loss's for a
 *  linear probe, and the backward's working set too when the whole network trains. */
function gradShapes(c: VitArch, o: StepOptions): Shape[] {
  if (!o.training) return [];
  const loss = Object.values(lossGradShapes(c, o.batch));
  return o.headOnly ? loss : [...loss, ...Object.values(backwardShapes(c, o.batch))];
}

export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** The largest single buffer of a plan: the flat parameters or the biggest activation. */
export function largestBuffer(plan: VitPlan): number {
  const { config: c, options: o } = plan;
  const shapes = [
    ...Object.values(blockShapes(c, o.batch)),
    ...Object.values(stemShapes(c, o.batch)),
    ...gradShapes(c, o),
  ];
  return Math.max(4 * plan.paramElems, ...shapes.map((s) => 4 * size(s)));
}

const MiB = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

/**
 * Refuses a plan whose buffers exceed the device's limits, saying what it needs and
 * the largest batch that would fit. `memoryBudget` (bytes) caps the total when known.
 */
export function checkPlanFits(plan: VitPlan, limits: DeviceLimits, memoryBudget = Infinity): void {
  const cap = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const largest = largestBuffer(plan);
  if (largest <= cap && plan.bytes.total <= memoryBudget) return;
  let batch = plan.options.batch;
  const fits = (b: number): boolean => {
    const p = planVit(plan.config, { ...plan.options, batch: b });
    return largestBuffer(p) <= cap && p.bytes.total <= memoryBudget;
  };
  while (batch > 1 && !fits(batch)) batch = Math.floor(batch / 2);
  const why =
    largest > cap
      ? `its largest buffer needs ${MiB(largest)} and this GPU allows ${MiB(cap)}`
      : `it needs ${MiB(plan.bytes.total)} and the budget is ${MiB(memoryBudget)}`;
  const advice = fits(batch) ? `use a batch of ${batch} or less` : 'use a smaller model or image size';
  throw new RangeError(`This run does not fit: ${why} (batch ${plan.options.batch}); ${advice}.`);
}

/**
 * The micro-batch a training step of `batch` images runs at: the largest divisor of `batch` whose plan
 * fits the device's buffers and `memoryBudget` (bytes). The micro-batches add their gradients into the
 * one gradient buffer, so a plan of `m` images costs the same whether `m` is the batch or a part of it.
 * Throws checkPlanFits's message when not even one image fits.
 */
export function chooseMicroBatch(
  config: VitArch,
  batch: number,
  teacher: boolean,
  limits: DeviceLimits,
  memoryBudget = Infinity,
  headOnly = false,
): { microBatch: number; plan: VitPlan } {
  const planFor = (m: number) => planVit(config, { batch: m, training: true, teacher, headOnly });
  const cap = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  for (let m = batch; m >= 1; m--) {
    if (batch % m !== 0) continue;
    const plan = planFor(m);
    if (largestBuffer(plan) <= cap && plan.bytes.total <= memoryBudget) return { microBatch: m, plan };
  }
  const one = planFor(1);
  checkPlanFits(one, limits, memoryBudget);
  return { microBatch: 1, plan: one };
}
