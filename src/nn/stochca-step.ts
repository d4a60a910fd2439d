// One StochCA training step, as the method's reference code does it (docs/method.md): one
// Bernoulli(p) draw per block, the frozen teacher run only as deep as the deepest
// cross-attending block keeping those blocks' qkv, the student attending to the
// teacher's K/V there, loss, backward (nothing flows into the teacher), AdamW.
// p = 0 is plain fine-tuning and runs no teacher at all; a network planned `headOnly` is the linear
// probe: p = 0, and the backward and AdamW stop at the classifier head.
import type { Gpu } from '../gpu/gpu.ts';
import { blockParams } from './block-params.ts';
import { adamw, gradNorm } from './ops/adamw.ts';
import { mix, seededRng } from './rng.ts';
import { view } from '../gpu/tensor.ts';
import { blockBackward, classifierBackward, embedBackward, headBackward } from './vit-backward.ts';
import type { BlockActs, VitBuffers } from './vit-buffers.ts';
import { blockForward, embedForward, headForward, lossForward, stemPreNorm } from './vit-forward.ts';

/** Keeps the masks' generator apart from the data's, which hashes the same seed. */
const MASK_STREAM = 0x6d61736b;

/** mask[i] = block i cross-attends at (1-based) `step`: a function of (seed, step) alone, so a
 *  resumed run draws the masks the uninterrupted run would have. */
export function drawMask(seed: number, step: number, depth: number, p: number): boolean[] {
  const rng = seededRng(mix(seed, step, MASK_STREAM));
  return Array.from({ length: depth }, () => rng() < p);
}

/** The teacher's forward up to the deepest cross-attending block, keeping those blocks' qkv. */
export function teacherForward(gpu: Gpu, net: VitBuffers, mask: readonly boolean[]): void {
  const deepest = mask.lastIndexOf(true);
  if (deepest < 0) return;
  const t = net.teacher;
  if (!t) throw new Error('this network was planned without a teacher (StochCA with p > 0 needs one)');
  const c = net.plan.config;
  const s = net.stem;
  // The blocks update t.work.out in place; a pre-norm reads h0 from t.work.h1 (free until block 0 writes it).
  const pre = { y: t.work.out, mean: t.work.mean1, rstd: t.work.rstd1 };
  embedForward(gpu, c, t.weights.at, s.images, s.patches, t.tokens, c.preNorm ? t.work.h1 : t.work.out, pre);
  for (let i = 0; i <= deepest; i++) {
    const acts: BlockActs = { ...t.work, qkv: t.qkv[i] };
    blockForward(gpu, c, blockParams(t.weights.at, i), t.work.out, acts, s.branch);
  }
}

/**
 * The student's forward pass and loss (stem.loss, stem.correct). With a mask, block i
 * attends to the teacher's K/V where mask[i]; without one (evaluation), self-attention
 * everywhere. dlogits are written when training. `afterBlock(i, acts)` is called once block
 * i's activations are dispatched, before the next block may reuse them (inference shares one set).
 */
export function studentForward(
  gpu: Gpu,
  net: VitBuffers,
  mask?: readonly boolean[],
  part: MicroBatch = WHOLE,
  afterBlock?: (i: number, acts: BlockActs) => void,
): void {
  const c = net.plan.config;
  const s = net.stem;
  const saved = net.blocks.length > 1;
  if (mask?.includes(true)) teacherForward(gpu, net, mask);
  let x = embedForward(gpu, c, net.weights.at, s.images, s.patches, s.tokens, s.h0, stemPreNorm(s));
  for (let i = 0; i < c.depth; i++) {
    const acts = net.blocks[saved ? i : 0];
    blockForward(
      gpu,
      c,
      blockParams(net.weights.at, i),
      x,
      acts,
      s.branch,
      mask?.[i] ? net.teacher!.qkv[i] : undefined,
    );
    afterBlock?.(i, acts);
    x = acts.out;
  }
  headForward(gpu, c, net.weights.at, x, s);
  lossForward(gpu, s, net.lossGrads?.dlogits, net.plan.options.batch * part.of);
}

/** Which micro-batch of a step's batch the network holds: `index` of `of`, each of the plan's batch size. */
export interface MicroBatch {
  index: number;
  of: number;
}

const WHOLE: MicroBatch = { index: 0, of: 1 };

/**
 * Gradients of the mean loss with respect to every trained student parameter (net.grads: all of them,
 * or the head's alone for a linear probe, whose backward ends there), given the mask.
 * With micro-batches (`part.of` > 1), each one's gradients are of the whole batch's mean loss: the first
 * writes net.grads and the others add to it, which then holds the batch's gradient. The batch the
 * optimizer sees is the experiment's, whatever fits the GPU's memory at once, at no memory beyond it.
 */
export function computeGradients(gpu: Gpu, net: VitBuffers, mask: readonly boolean[], part: MicroBatch = WHOLE): void {
  const { grads, lossGrads, bwd } = net;
  if (!grads || !lossGrads) throw new Error('this network was planned for inference only');
  const c = net.plan.config;
  const accumulate = part.index > 0;
  studentForward(gpu, net, mask, part);
  if (!bwd) classifierBackward(gpu, net.weights.at, grads.at, net.stem, lossGrads.dlogits, accumulate);
  else {
    headBackward(gpu, net.weights.at, grads.at, net.stem, lossGrads.dlogits, bwd, accumulate);
    for (let i = c.depth - 1; i >= 0; i--) {
      const x = i > 0 ? net.blocks[i - 1].out : (stemPreNorm(net.stem)?.y ?? net.stem.h0);
      const [p, g] = [blockParams(net.weights.at, i), blockParams(grads.at, i)];
      const kv = mask[i] ? net.teacher!.qkv[i] : undefined;
      blockBackward(gpu, c, p, g, x, net.blocks[i], bwd, accumulate, kv);
    }
    embedBackward(gpu, c, net.weights.at, grads.at, net.stem, bwd, accumulate);
  }
}

export interface OptimizerSettings {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Global-norm gradient clipping; none when undefined. */
  maxNorm?: number;
  /** No weight decay on biases, LayerNorm parameters, class token and position embedding (planner's `decayed`). */
  wdExempt?: boolean;
  /** 1-based step count for the bias corrections. */
  step: number;
}

/** AdamW over the trained student parameters (all, or the head's): one flat range, or with `wdExempt`
 *  the planner's two groups. */
export function optimizerStep(gpu: Gpu, net: VitBuffers, o: OptimizerSettings): void {
  const { grads, m, v, lossGrads } = net;
  if (!grads || !m || !v || !lossGrads) throw new Error('this network was planned for inference only');
  const g = grads.flat; // the whole batch's gradient, over all its micro-batches
  if (o.maxNorm !== undefined) gradNorm(gpu, g, lossGrads.gradNorm);
  const { trainOffset } = net.plan;
  // The trained parameters' range of the flat weights, which the gradients and moments match element for element.
  const params = trainOffset ? view(net.weights.flat, g.shape, trainOffset) : net.weights.flat;
  const buffers = { params, grads: g, m, v };
  const shared = {
    lr: o.lr,
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    step: o.step,
    maxNorm: o.maxNorm,
    norm: o.maxNorm !== undefined ? lossGrads.gradNorm : undefined,
  };
  if (!o.wdExempt) return adamw(gpu, buffers, { ...shared, weightDecay: o.weightDecay });
  const split = net.plan.decayElems - trainOffset;
  adamw(gpu, buffers, { ...shared, weightDecay: o.weightDecay, offset: 0, count: split });
  adamw(gpu, buffers, { ...shared, weightDecay: 0, offset: split });
}
