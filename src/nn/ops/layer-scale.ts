// LayerScale (shaders/layer-scale.wgsl): a residual add whose branch is scaled per channel,
// out = x + γ ⊙ y, and its backward. DINOv2 scales both branches of every block so.
import type { Gpu } from '../../gpu/gpu.ts';
import { Kernel } from '../../gpu/kernel.ts';
import { check, checkDType, checkShape, describe, numel, type Tensor } from '../../gpu/tensor.ts';
import { colsum } from './colsum.ts';
import { checkOperands } from './elementwise.ts';

const layerScale = (entry: string) =>
  new Kernel({ shader: 'layer-scale', entry, workgroupSize: 64, uniforms: { n: 'u32', D: 'u32' } });

export const layerScaleKernels = {
  add: layerScale('layer_scale_add'),
  backward: layerScale('layer_scale_backward'),
};

/** The channels D of x [..., D] after checking gamma [D]. */
function channels(op: string, x: Tensor, gamma: Tensor): number {
  check(x.shape.length >= 1, op, () => `operands must be [..., D], got ${describe(x)}`);
  const D = x.shape[x.shape.length - 1];
  checkDType(gamma, ['f32'], op, 'gamma');
  checkShape(gamma, [D], op, 'gamma');
  return D;
}

/** out = x + γ ⊙ y. x, y, out: [..., D]; gamma: [D]. */
export function layerScaleAdd(gpu: Gpu, x: Tensor, gamma: Tensor, y: Tensor, out: Tensor): void {
  const op = `layerScaleAdd ${describe(x)}`;
  checkOperands(
    op,
    ['out', out],
    [
      ['x', x],
      ['y', y],
    ],
  );
  const D = channels(op, x, gamma);
  const n = numel(x.shape);
  const kernel = layerScaleKernels.add;
  gpu.dispatch({
    op,
    kernel,
    uniforms: { n, D },
    tensors: [x, gamma, y, out],
    workgroups: kernel.flatGrid(gpu.layout, n),
  });
}

/**
 * Backward of layerScaleAdd given dout: dy = γ ⊙ dout and dγ = Σ_rows dout ⊙ y (the gradient of x is dout).
 * y is overwritten with dout ⊙ y on the way. dout, y, dy: [..., D]; gamma, dgamma: [D]. With `accumulate`
 * dγ is added to what dgamma holds (the parameter's gradient over micro-batches).
 */
export function layerScaleBackward(
  gpu: Gpu,
  dout: Tensor,
  gamma: Tensor,
  y: Tensor,
  dy: Tensor,
  dgamma: Tensor,
  accumulate = false,
): void {
  const op = `layerScaleBackward ${describe(dout)}`;
  checkOperands(
    op,
    ['dy', dy],
    [
      ['dout', dout],
      ['y', y],
    ],
  );
  const D = channels(op, dout, gamma);
  checkShape(dgamma, [D], op, 'dgamma');
  const n = numel(dout.shape);
  const kernel = layerScaleKernels.backward;
  gpu.dispatch({
    op,
    kernel,
    uniforms: { n, D },
    tensors: [dout, gamma, y, dy],
    workgroups: kernel.flatGrid(gpu.layout, n),
  });
  colsum(gpu, y, dgamma, accumulate);
}
