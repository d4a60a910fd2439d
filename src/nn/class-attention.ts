// The class token's attention in every block and head (the usual ViT attention maps: where the
// token that is classified looks), computed on the GPU without an N×N matrix.
import type { Gpu } from '../gpu/gpu.ts';
import { check, checkShape, type Tensor } from '../gpu/tensor.ts';
import { classTokenAttention } from './ops/attention.ts';
import { studentForward } from './stochca-step.ts';
import { vitDims } from './vit-arch.ts';
import type { VitBuffers } from './vit-buffers.ts';

/**
 * The student's forward with self-attention everywhere (as at evaluation; logits and loss as
 * studentForward writes them) and, per block i, the class token's attention probabilities over
 * all tokens into maps[i] [B, heads, N]: one tensor per block, as a storage binding must start
 * on a 256-byte boundary.
 */
export function classAttention(gpu: Gpu, net: VitBuffers, maps: readonly Tensor[]): void {
  const c = net.plan.config;
  const { N, H } = vitDims(c);
  const op = 'classAttention';
  check(maps.length === c.depth, op, () => `${maps.length} maps for ${c.depth} blocks`);
  maps.forEach((m, i) => checkShape(m, [net.plan.options.batch, H, N], op, `maps[${i}]`));
  // Right after each block: its qkv and lse are overwritten by the next one in an inference network.
  studentForward(gpu, net, undefined, undefined, (i, acts) =>
    classTokenAttention(gpu, acts.qkv, acts.qkv, acts.lse, maps[i], H),
  );
}
