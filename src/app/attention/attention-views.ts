// What the attention panel draws from one model's class-token attention [depth, heads, tokens]
// (token 0 the class token, then R register tokens (DINOv2 with registers; none in most models), then
// the patches row by row): one head's row, the head mean, and a rollout along the class token's path.
//
// Attention rollout (Abnar & Zuidema 2020) multiplies, block after block, the head-mean attention
// matrices with the identity added (Â = ½·A + ½·I). The engine gives only the class token's row of
// each block, so the rollout here follows the class token alone and takes every patch token as
// unmixed by the blocks (their rows of Â as the identity):
//   r₀ = e_cls,  r_l = Â_l[cls, cls]·r_{l−1} + Â_l[cls, patches]
// (each block the class token keeps Â_l[cls, cls] of what it had gathered and gathers the rest from
// the patches). It sums to 1 like the exact rollout's row, and equals it when patches attend only to
// themselves; where they mix, the exact rollout spreads further. Registers are rolled out as patches are.
import type { AttentionMaps } from '../../worker/protocol.ts';

/** One head's attention row in `block`: [tokens]. */
export function headRow(a: AttentionMaps, block: number, head: number): Float32Array {
  const at = (block * a.heads + head) * a.tokens;
  return a.maps.subarray(at, at + a.tokens);
}

/** The mean over heads of `block`'s rows: [tokens]. */
export function headMean(a: AttentionMaps, block: number): Float32Array {
  const out = new Float32Array(a.tokens);
  for (let h = 0; h < a.heads; h++) headRow(a, block, h).forEach((v, j) => (out[j] += v / a.heads));
  return out;
}

/** The class-path rollout after each block: depth × [tokens], each summing to 1. */
export function rollout(a: AttentionMaps): Float32Array[] {
  const out: Float32Array[] = [];
  let r = new Float32Array(a.tokens);
  r[0] = 1;
  for (let l = 0; l < a.depth; l++) {
    const hat = headMean(a, l).map((v, j) => 0.5 * v + (j === 0 ? 0.5 : 0)); // ½·A + ½·I, class row
    r = r.map((v, j) => hat[0] * v + (j === 0 ? 0 : hat[j]));
    out.push(r);
  }
  return out;
}

/** The patches' values of a row (the class token's and the `registers` dropped): [grid, grid] row by row,
 *  and the grid side. */
export function patchGrid(row: Float32Array, registers = 0): { values: Float32Array; grid: number } {
  const values = row.subarray(1 + registers);
  const grid = Math.round(Math.sqrt(values.length));
  if (grid * grid !== values.length) throw new RangeError(`${values.length} patches do not make a square grid`);
  return { values, grid };
}

/** What the register tokens hold of a row (tokens 1 … R): the class token's attention on no patch. */
export function registerShare(row: Float32Array, registers: number): number {
  return row.subarray(1, 1 + registers).reduce((a, b) => a + b, 0);
}
