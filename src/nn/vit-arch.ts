// The architecture of a ViT the engine builds (torchvision's vit_b_16 family, docs/method.md "The backbone").

export interface VitArch {
  imageSize: number;
  patchSize: number;
  dim: number;
  depth: number;
  heads: number;
  mlpDim: number;
  numClasses: number;
  layerNormEps: number;
}

export interface VitDims {
  /** Patches per image, (imageSize/patchSize)². */
  P: number;
  /** Tokens per image, P + 1 (class token first). */
  N: number;
  D: number;
  H: number;
  hd: number;
  M: number;
  C: number;
  /** Values per patch, 3·p·p. */
  K: number;
}

export function vitDims(c: VitArch): VitDims {
  const grid = c.imageSize / c.patchSize;
  return {
    P: grid * grid,
    N: grid * grid + 1,
    D: c.dim,
    H: c.heads,
    hd: c.dim / c.heads,
    M: c.mlpDim,
    C: c.numClasses,
    K: 3 * c.patchSize * c.patchSize,
  };
}

/** Everything wrong with a configuration, in words (empty when the engine can build it). */
export function vitArchProblems(c: VitArch): string[] {
  const problems: string[] = [];
  for (const key of ['imageSize', 'patchSize', 'dim', 'depth', 'heads', 'mlpDim', 'numClasses'] as const) {
    if (!Number.isSafeInteger(c[key]) || c[key] < 1) problems.push(`${key} must be a positive integer, got ${c[key]}`);
  }
  if (!(c.layerNormEps > 0 && Number.isFinite(c.layerNormEps))) {
    problems.push(`layerNormEps must be a positive number, got ${c.layerNormEps}`);
  }
  if (problems.length === 0) {
    if (c.dim % c.heads !== 0) problems.push(`dim ${c.dim} is not divisible by heads ${c.heads}`);
    if (c.imageSize % c.patchSize !== 0)
      problems.push(`imageSize ${c.imageSize} is not divisible by patchSize ${c.patchSize}`);
  }
  return problems;
}

/** Throws a RangeError listing every problem of a configuration the engine cannot build. */
export function checkVitArch(c: VitArch): void {
  const problems = vitArchProblems(c);
  if (problems.length > 0) throw new RangeError(`invalid ViT config: ${problems.join('; ')}`);
}
