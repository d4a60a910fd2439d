// The shape of a ViT (torchvision's vit_b_16 family, see STOCHCA.md "The backbone").

export interface VitConfig {
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

export function vitDims(c: VitConfig): VitDims {
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

/** Throws a readable error for a configuration the engine cannot build. */
export function checkVitConfig(c: VitConfig): void {
  const ints: (keyof VitConfig)[] = ['imageSize', 'patchSize', 'dim', 'depth', 'heads', 'mlpDim', 'numClasses'];
  for (const k of ints) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new RangeError(`ViT config: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.imageSize % c.patchSize) throw new RangeError(`ViT config: image size ${c.imageSize} is not a multiple of patch ${c.patchSize}`);
  if (c.dim % c.heads) throw new RangeError(`ViT config: dim ${c.dim} is not divisible by ${c.heads} heads`);
  if (!(c.layerNormEps > 0)) throw new RangeError(`ViT config: layerNormEps must be positive, got ${c.layerNormEps}`);
}
