// Typed access to one block's parameter views (weights or gradients).
import type { Tensor } from '../gpu/tensor.ts';

export interface BlockParams {
  ln1w: Tensor;
  ln1b: Tensor;
  qkvW: Tensor;
  qkvB: Tensor;
  projW: Tensor;
  projB: Tensor;
  ln2w: Tensor;
  ln2b: Tensor;
  fc1W: Tensor;
  fc1B: Tensor;
  fc2W: Tensor;
  fc2B: Tensor;
  /** LayerScale's γ of the attention and MLP branches [D] (undefined without LayerScale). */
  ls1?: Tensor;
  ls2?: Tensor;
}

export function blockParams(at: Record<string, Tensor>, i: number): BlockParams {
  const p = (n: string): Tensor => at[`blocks.${i}.${n}`];
  return {
    ln1w: p('ln1.weight'),
    ln1b: p('ln1.bias'),
    qkvW: p('qkv.weight'),
    qkvB: p('qkv.bias'),
    projW: p('proj.weight'),
    projB: p('proj.bias'),
    ln2w: p('ln2.weight'),
    ln2b: p('ln2.bias'),
    fc1W: p('fc1.weight'),
    fc1B: p('fc1.bias'),
    fc2W: p('fc2.weight'),
    fc2B: p('fc2.bias'),
    ls1: p('ls1'),
    ls2: p('ls2'),
  };
}
