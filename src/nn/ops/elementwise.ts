// Elementwise ops (shaders/elementwise.wgsl): standalone GELU (exact, or QuickGELU) and its backward,
// residual add and gradient accumulation. Every operand has the same shape, any size.
//
// The backward of out = a + b is the identity to both inputs: da = db = dout. Where a
// gradient already holds a value (a residual stream's), add dout into it with addInto.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { byteSize, check, checkDType, checkShape, describe, numel, type Tensor } from '../../gpu/tensor.ts';
import type { Activation } from '../vit-arch.ts';

const elementwise = (entry: string) =>
  new Kernel({ shader: 'elementwise', entry, workgroupSize: 64, uniforms: { n: 'u32' } });

export const elementwiseKernels = {
  geluForward: elementwise('gelu_forward'),
  geluBackward: elementwise('gelu_backward'),
  quickGeluForward: elementwise('quick_gelu_forward'),
  quickGeluBackward: elementwise('quick_gelu_backward'),
  add: elementwise('add'),
  addInto: elementwise('add_into'),
};

/** Checks f32 operands of one shape, and that the written one shares no bytes with the others (WebGPU forbids it). */
export function checkOperands(op: string, written: [string, Tensor], read: [string, Tensor][]): void {
  const [wName, w] = written;
  checkDType(w, ['f32'], op, wName);
  for (const [name, t] of read) {
    checkDType(t, ['f32'], op, name);
    checkShape(t, w.shape, op, name);
    const overlap = t.buffer === w.buffer && t.offset < w.offset + byteSize(w) && w.offset < t.offset + byteSize(t);
    check(!overlap, op, () => `${wName} ${describe(w)} overlaps ${name} ${describe(t)} in memory`);
  }
}

function run(gpu: Gpu, op: string, kernel: Kernel<{ n: 'u32' }>, tensors: Tensor[], n: number): void {
  gpu.dispatch({ op, kernel, uniforms: { n }, tensors, workgroups: kernel.flatGrid(gpu.layout, n) });
}

/** y = GELU(x): exact (erf form), or QuickGELU x·σ(1.702x). x, y: [...] (same shape). */
export function gelu(gpu: Gpu, x: Tensor, y: Tensor, activation: Activation = 'gelu'): void {
  const op = `${activation} ${describe(x)}`;
  checkOperands(op, ['y', y], [['x', x]]);
  const kernel = activation === 'gelu' ? elementwiseKernels.geluForward : elementwiseKernels.quickGeluForward;
  run(gpu, op, kernel, [x, y], numel(x.shape));
}

/** dx = dy · GELU'(x), of the exact GELU or QuickGELU. x, dy, dx: [...] (same shape). */
export function geluBackward(gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor, activation: Activation = 'gelu'): void {
  const op = `${activation}Backward ${describe(x)}`;
  checkOperands(
    op,
    ['dx', dx],
    [
      ['x', x],
      ['dy', dy],
    ],
  );
  const kernel = activation === 'gelu' ? elementwiseKernels.geluBackward : elementwiseKernels.quickGeluBackward;
  run(gpu, op, kernel, [x, dy, dx], numel(x.shape));
}

/** out = a + b. a, b, out: [...] (same shape; out must not overlap a or b: use addInto). */
export function add(gpu: Gpu, a: Tensor, b: Tensor, out: Tensor): void {
  const op = `add ${describe(a)}`;
  checkOperands(
    op,
    ['out', out],
    [
      ['a', a],
      ['b', b],
    ],
  );
  run(gpu, op, elementwiseKernels.add, [a, b, out], numel(a.shape));
}

/** acc += b. acc, b: [...] (same shape). */
export function addInto(gpu: Gpu, acc: Tensor, b: Tensor): void {
  const op = `addInto ${describe(acc)}`;
  checkOperands(op, ['acc', acc], [['b', b]]);
  run(gpu, op, elementwiseKernels.addInto, [acc, b], numel(acc.shape));
}
