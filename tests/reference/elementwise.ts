// Float64 references of the elementwise ops: GELU (exact, or QuickGELU), its derivative, and addition.
import type { Activation } from '../../src/nn/vit-arch.ts';
import { activationRef } from './gelu.ts';

export function geluRef(x: Float64Array, activation?: Activation): Float64Array {
  return x.map(activationRef(activation).f);
}

/** dx = dy · GELU'(x). */
export function geluBackwardRef(x: Float64Array, dy: Float64Array, activation?: Activation): Float64Array {
  const { grad } = activationRef(activation);
  return x.map((v, i) => dy[i] * grad(v));
}

export function addRef(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}
