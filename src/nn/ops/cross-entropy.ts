// Softmax cross-entropy with integer labels (shaders/cross-entropy.wgsl): the mean loss,
// its gradient and the number of correct predictions, without a host round trip.
import { grid1d } from '../../gpu/grid.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { scratch } from '../../gpu/scratch.ts';
import { check, checkDType, checkRank, checkShape, describe, numel, type Tensor } from '../../gpu/tensor.ts';

const uniforms = { B: 'u32', C: 'u32', G: 'u32' } as const;

/** One workgroup per row: its loss, whether it is correct and (WITH_GRAD) its gradient. */
export const crossEntropyRowsKernel = new Kernel({
  shader: 'cross-entropy',
  entry: 'ce_rows',
  workgroupSize: (l) => l.reduceWorkgroup,
  variants: ['WITH_GRAD'],
  uniforms,
});

/** One workgroup: the rows' mean loss and number correct. */
export const crossEntropyTotalKernel = new Kernel({
  shader: 'cross-entropy',
  entry: 'ce_total',
  workgroupSize: (l) => l.reduceWorkgroup,
  uniforms,
});

/**
 * logits: [B, C] f32; labels: [B] u32 or i32 with values in [0, C);
 * loss: [1] f32 ← mean over the batch; correct: [1] u32 ← #rows whose argmax (lowest index
 * on ties) is the label; dlogits: [B, C] f32 ← (softmax − onehot) / gradRows, skipped when absent
 * (evaluation). gradRows is B, or the whole batch's rows when these are one micro-batch of it.
 * A GPU cannot throw, so the caller checks labels on the host before uploading them
 * (checkLabelRange); the kernel gives an out-of-range row loss 0, gradient 0 and not correct.
 */
export function crossEntropy(
  gpu: Gpu,
  logits: Tensor,
  labels: Tensor,
  loss: Tensor,
  correct: Tensor,
  dlogits?: Tensor,
  gradRows = logits.shape[0],
): void {
  const op = `crossEntropy ${describe(logits)} ${describe(labels)}`;
  checkRank(logits, 2, op, 'logits');
  checkDType(logits, ['f32'], op, 'logits');
  const [B, C] = logits.shape;
  check(B >= 1 && C >= 1, op, () => `logits must not be empty, got ${describe(logits)}`);
  checkShape(labels, [B], op, 'labels');
  checkDType(labels, ['u32', 'i32'], op, 'labels');
  check(numel(loss.shape) === 1, op, () => `loss must have 1 element, got ${describe(loss)}`);
  checkDType(loss, ['f32'], op, 'loss');
  check(numel(correct.shape) === 1, op, () => `correct must have 1 element, got ${describe(correct)}`);
  checkDType(correct, ['u32'], op, 'correct');
  if (dlogits) {
    checkShape(dlogits, [B, C], op, 'dlogits');
    checkDType(dlogits, ['f32'], op, 'dlogits');
  }
  check(
    Number.isInteger(gradRows) && gradRows >= B,
    op,
    () => `the gradient's rows must be a whole number of at least ${B}, got ${gradRows}`,
  );
  const rowLoss = scratch(gpu, 'cross-entropy-loss', [B]);
  const rowCorrect = scratch(gpu, 'cross-entropy-correct', [B], 'u32');
  gpu.dispatch({
    op,
    kernel: crossEntropyRowsKernel,
    constants: { WITH_GRAD: dlogits ? 1 : 0 },
    uniforms: { B, C, G: gradRows },
    tensors: [logits, labels, rowLoss, rowCorrect, dlogits ?? gpu.dummy(0)],
    workgroups: grid1d(B, 1),
  });
  gpu.dispatch({
    op,
    kernel: crossEntropyTotalKernel,
    uniforms: { B, C, G: gradRows },
    tensors: [rowLoss, rowCorrect, loss, correct],
    workgroups: [1],
  });
}

/** Throws a RangeError naming the first label that is not an integer in [0, classes). */
export function checkLabelRange(labels: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < classes)) {
      throw new RangeError(`label ${y} of row ${i} is outside the ${classes} classes [0, ${classes})`);
    }
  }
}
