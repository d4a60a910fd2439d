// Float64 reference: erf and exact GELU, 0.5·x·(1 + erf(x/√2)), and its derivative; QuickGELU x·σ(1.702x)
// (CLIP's) and its derivative.
import type { Activation } from '../../src/nn/vit-arch.ts';

export function erf(x: number): number {
  // Chebyshev fit of erfc (Numerical Recipes, 3rd ed., Erf::erfccheb): ~1e-16 accurate.
  const z = Math.abs(x);
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  const cof = [
    -1.3026537197817094, 6.419697923564902e-1, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
    3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8,
    -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12,
    -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16,
    -2.8e-17,
  ];
  let d = 0;
  let dd = 0;
  for (let j = cof.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + cof[j];
    dd = tmp;
  }
  const erfc = t * Math.exp(-z * z + 0.5 * (cof[0] + ty * d) - dd);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** d/dx GELU = Φ(x) + x·φ(x). */
export function geluGrad(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function quickGelu(x: number): number {
  return x * sigmoid(1.702 * x);
}

/** d/dx x·σ(ax) = σ(ax) + a·x·σ(ax)·(1 − σ(ax)). */
export function quickGeluGrad(x: number): number {
  const s = sigmoid(1.702 * x);
  return s + 1.702 * x * s * (1 - s);
}

/** The activation a ViT's MLP applies, and its derivative. */
export function activationRef(a: Activation = 'gelu'): { f: (x: number) => number; grad: (x: number) => number } {
  return a === 'gelu' ? { f: gelu, grad: geluGrad } : { f: quickGelu, grad: quickGeluGrad };
}
