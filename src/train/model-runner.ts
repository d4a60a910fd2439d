// A loaded model on the engine: its network planned and allocated with the model's weights, the
// class token's attention maps of the images in it, and the loss and gradients of one StochCA step
// with a given mask (no update). Evaluation (session.ts) and the command line build on it.
import type { ModelFile } from '../checkpoint/model-file.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { checkLabelRange } from '../nn/ops/cross-entropy.ts';
import { checkPlanFits, planVit, type StepOptions, type VitPlan } from '../nn/planner.ts';
import { numel, shapeStr, type HostTensor, type Tensor } from '../gpu/tensor.ts';
import { classAttention } from '../nn/class-attention.ts';
import { computeGradients } from '../nn/stochca-step.ts';
import { allocateVit, type ParamSet, type VitBuffers } from '../nn/vit-buffers.ts';
import { sameBackbone, vitDims, type VitArch } from '../nn/vit-arch.ts';

/** Named tensors (copies) of a flat parameter-shaped buffer read back from the device. */
export function splitParams(plan: VitPlan, flat: Float32Array): Map<string, HostTensor> {
  return new Map(
    plan.params.map((p) => [p.name, { shape: [...p.shape], data: flat.slice(p.offset, p.offset + numel(p.shape)) }]),
  );
}

/** Plans (refusing what does not fit the device), allocates and loads a model's weights. */
export function netFor(gpu: Gpu, model: Pick<ModelFile, 'config' | 'weights'>, options: StepOptions): VitBuffers {
  const plan = planVit(model.config, options);
  checkPlanFits(plan, gpu.adapter.limits);
  return allocateNet(gpu, model, plan);
}

/** Allocates a plan that fits and loads a model's weights. */
export function allocateNet(gpu: Gpu, model: Pick<ModelFile, 'weights'>, plan: VitPlan): VitBuffers {
  const net = allocateVit(gpu, plan);
  writeWeights(gpu, net.weights, model.weights);
  return net;
}

function writeWeights(
  gpu: Gpu,
  set: ParamSet,
  weights: ReadonlyMap<string, HostTensor>,
  skip: (name: string) => boolean = () => false,
): void {
  for (const [name, view] of Object.entries(set.at)) {
    if (skip(name)) continue;
    const t = weights.get(name);
    if (!t) throw new Error(`the model has no tensor ${name}`);
    gpu.write(view, t.data);
  }
}

/** The number of images n of a shape [n, 3, S, S] at the model's own size. */
export function checkImages(c: VitArch, shape: readonly number[], what: string): number {
  const want = [3, c.imageSize, c.imageSize];
  if (shape.length !== 4 || want.some((d, i) => shape[i + 1] !== d)) {
    throw new RangeError(
      `${what} is ${shapeStr(shape, ', ')}; the model expects [N, 3, ${c.imageSize}, ${c.imageSize}]`,
    );
  }
  return shape[0];
}

/** Per block, a [B, heads, N] tensor for classAttention on an inference network of batch B. */
export function classAttentionMaps(gpu: Gpu, net: VitBuffers): Tensor[] {
  const { N, H } = vitDims(net.plan.config);
  return Array.from({ length: net.plan.config.depth }, (_, i) =>
    gpu.tensor([net.plan.options.batch, H, N], 'f32', `class-attention${i}`),
  );
}

/**
 * The forward of the images already in `net` with the class token's attention (classAttention):
 * maps [count, depth, heads, N] and logits [count, C] of its first `count` images.
 */
export async function readClassAttention(
  gpu: Gpu,
  net: VitBuffers,
  maps: readonly Tensor[],
  count: number,
): Promise<{ maps: Float32Array; logits: Float32Array }> {
  const c = net.plan.config;
  const { N, H } = vitDims(c);
  const map = H * N; // one block's [heads, N] of one image
  classAttention(gpu, net, maps);
  const [logits, ...got] = await gpu.readAll([net.stem.logits, ...maps]); // depth × [B, H, N] → [count, depth, H, N]
  const out = new Float32Array(count * c.depth * map);
  for (let k = 0; k < count; k++) {
    got.forEach((m, i) => out.set(m.subarray(k * map, (k + 1) * map), (k * c.depth + i) * map));
  }
  return { maps: out, logits: (logits as Float32Array).slice(0, count * c.numClasses) };
}

export interface StepGradients {
  loss: number;
  correct: number;
  /** Canonical names → gradients shaped like the parameters. */
  grads: Map<string, HostTensor>;
}

/**
 * Loss and gradients of one StochCA step on one batch, mask[i] = block i cross-attends to
 * the teacher (same architecture; its head is never used). No parameter is updated.
 */
export async function stepGradients(
  gpu: Gpu,
  student: Pick<ModelFile, 'config' | 'weights'>,
  teacher: Pick<ModelFile, 'config' | 'weights'> | undefined,
  images: Float32Array,
  shape: readonly number[],
  labels: Uint32Array,
  mask: readonly boolean[],
): Promise<StepGradients> {
  const c = student.config;
  const B = checkImages(c, shape, 'the input');
  if (labels.length !== B) throw new RangeError(`${labels.length} labels for ${B} images`);
  checkLabelRange(labels, c.numClasses);
  if (mask.length !== c.depth) throw new RangeError(`the mask has ${mask.length} blocks, the model ${c.depth}`);
  const crosses = mask.includes(true);
  if (crosses && !teacher) throw new RangeError('a mask with cross-attending blocks needs a teacher');
  if (teacher) {
    if (!sameBackbone(teacher.config, c))
      throw new RangeError('the teacher and the student must have the same architecture (all but the head)');
  }
  const net = netFor(gpu, student, { batch: B, training: true, teacher: crosses });
  if (crosses) writeWeights(gpu, net.teacher!.weights, teacher!.weights, (name) => name.startsWith('head.'));
  gpu.write(net.stem.images, images);
  gpu.write(net.stem.labels, labels);
  computeGradients(gpu, net, mask);
  const [flat, loss, correct] = await gpu.readAll([net.grads!.flat, net.stem.loss, net.stem.correct]);
  return { loss: loss[0], correct: correct[0], grads: splitParams(net.plan, flat as Float32Array) };
}
