// The architecture of a ViT the engine builds (torchvision's vit_b_16 family, docs/method.md "The backbone"),
// with the optional features of CLIP's image encoder and DINOv2. Every optional field absent is the plain ViT.

/** The MLP's activation: exact (erf) GELU, or CLIP's QuickGELU x·σ(1.702x). */
export type Activation = 'gelu' | 'quick-gelu';

export interface VitArch {
  imageSize: number;
  patchSize: number;
  dim: number;
  depth: number;
  heads: number;
  mlpDim: number;
  numClasses: number;
  layerNormEps: number;
  /** A LayerNorm of the tokens before the first block (CLIP's pre_layrnorm): `preNorm.weight`, `preNorm.bias` [D]. */
  preNorm?: boolean;
  /** Absent: 'gelu'. */
  activation?: Activation;
  /** Absent: true. false: the patch embedding has no `patch.bias` at all (CLIP). */
  patchBias?: boolean;
  /** LayerScale on both residual branches (DINOv2): x + γ ⊙ branch, with `blocks.{i}.ls1`, `blocks.{i}.ls2` [D]. */
  layerScale?: boolean;
  /** Register tokens (DINOv2 "with registers"): `registers` [R, D] between the class token and the patches,
   *  with no position embedding of their own. Absent: 0. */
  registers?: number;
  /** Absent: true. false: the class token has no position of its own (timm's no_embed_class, which its
   *  register models are built with): `pos` row 0 stays zero and gets no gradient, the class token alone
   *  is trained, as in timm. */
  classPosition?: boolean;
}

export interface VitDims {
  /** Patches per image, (imageSize/patchSize)². */
  P: number;
  /** Register tokens per image. */
  R: number;
  /** Tokens per image, 1 + R + P: class token, registers, patches. */
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
  const R = c.registers ?? 0;
  return {
    P: grid * grid,
    R,
    N: 1 + R + grid * grid,
    D: c.dim,
    H: c.heads,
    hd: c.dim / c.heads,
    M: c.mlpDim,
    C: c.numClasses,
    K: 3 * c.patchSize * c.patchSize,
  };
}

/** Whether two configurations build the same backbone (all but the head), the optional fields at their defaults. */
export function sameBackbone(a: VitArch, b: VitArch): boolean {
  const backbone = (c: VitArch) => [
    c.imageSize,
    c.patchSize,
    c.dim,
    c.depth,
    c.heads,
    c.mlpDim,
    c.preNorm ?? false,
    c.activation ?? 'gelu',
    c.patchBias ?? true,
    c.layerScale ?? false,
    c.registers ?? 0,
    c.classPosition ?? true,
  ];
  const [x, y] = [backbone(a), backbone(b)];
  return x.every((v, i) => v === y[i]);
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
  const flags = ['preNorm', 'patchBias', 'layerScale', 'classPosition'] as const;
  for (const key of flags) {
    if (c[key] !== undefined && typeof c[key] !== 'boolean')
      problems.push(`${key} must be true or false, got ${c[key]}`);
  }
  if (c.activation !== undefined && c.activation !== 'gelu' && c.activation !== 'quick-gelu') {
    problems.push(`activation must be 'gelu' or 'quick-gelu', got ${c.activation}`);
  }
  if (c.registers !== undefined && !(Number.isSafeInteger(c.registers) && c.registers >= 0)) {
    problems.push(`registers must be a whole number ≥ 0, got ${c.registers}`);
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
