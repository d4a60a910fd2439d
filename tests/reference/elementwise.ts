// Float64 references of the elementwise ops: exact GELU, its derivative, and addition.
import { gelu, geluGrad } from './gelu.ts';

export function geluRef(x: Float64Array): Float64Array {
  return x.map(gelu);
}

/** dx = dy · GELU'(x). */
export function geluBackwardRef(x: Float64Array, dy: Float64Array): Float64Array {
  return x.map((v, i) => dy[i] * geluGrad(v));
}

export function addRef(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}
