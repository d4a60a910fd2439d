// A checkpoint's ViT config from its tensors' shapes and names, with what shapes cannot tell (the
// head count, LayerNorm's epsilon, the activation) from options or the file's metadata, which
// configMetadata writes. The architecture features (CLIP's pre-norm and bias-free patch embedding,
// DINOv2's LayerScale and registers) are told by their tensors.
import { shapeStr } from '../gpu/tensor.ts';
import { CheckpointError } from './safetensors.ts';
import { checkConfig, type CheckpointConfig } from './checkpoint-config.ts';
import type { Activation } from '../nn/vit-arch.ts';
import {
  BLOCK_INDEX,
  BLOCK_PREFIX,
  countBlocks,
  isBareHf,
  layout,
  POS_WITHOUT_CLASS_ROW,
  type Naming,
  type TensorMap,
} from './name-tables.ts';

export interface InferOptions {
  /** Attention heads; otherwise the metadata's num_attention_heads, otherwise dim / 64. */
  heads?: number;
  /** Otherwise the metadata's layer_norm_eps, otherwise the convention's (LAYER_NORM_EPS). */
  layerNormEps?: number;
  /** Otherwise the convention's: QuickGELU for HF's CLIP, else exact GELU. */
  activation?: Activation;
  /** Otherwise the rows of the classifier head, which must then be present. */
  numClasses?: number;
  /** The safetensors __metadata__, as configMetadata writes it. */
  metadata?: Record<string, string>;
}

// What each convention's models use unless a config says otherwise: torchvision's and timm's ViTs
// 1e-6, HF's ViTConfig 1e-12, CLIPVisionConfig 1e-5, Dinov2Config 1e-6.
const LAYER_NORM_EPS: Record<Naming, number> = {
  torchvision: 1e-6,
  timm: 1e-6,
  hf: 1e-12,
  'hf-clip': 1e-5,
  'hf-dinov2': 1e-6,
};

/**
 * The config of a checkpoint, from its shapes: dim, channels and patch from the patch embedding,
 * image size from the position embedding's length, depth from the block names, mlpDim from block
 * 0's first MLP layer, numClasses from the head. No convention stores the head count: dim / 64 is
 * right for ViT-Ti/S/B/L (3, 6, 12, 16 heads) but not for ViT-H (1280 / 64 = 20, it has 16), so pass
 * `heads` for anything else.
 */
export function inferConfig(tensors: TensorMap, naming: Naming, options: InferOptions = {}): CheckpointConfig {
  const names = [...tensors.keys()];
  const depth = countBlocks(names, BLOCK_INDEX[naming]);
  const slots = layout(naming, depth, isBareHf(naming, names));
  const slotOf = (canonical: string) => slots.find((s) => s.canonical === canonical);
  const nameOf = (canonical: string) => slotOf(canonical)!.names[0];
  const has = (canonical: string) => {
    const slot = slotOf(canonical);
    return slot !== undefined && tensors.has(slot.names[0]);
  };
  const shapeOf = (canonical: string, rank: number): number[] => {
    const name = nameOf(canonical);
    const t = tensors.get(name);
    if (!t) throw new CheckpointError(`cannot infer the ViT config: ${name} is missing`);
    if (t.shape.length !== rank)
      throw new CheckpointError(`${name}: expected ${rank} dimensions, got ${shapeStr(t.shape, ', ')}`);
    return t.shape;
  };
  if (depth === 0) {
    throw new CheckpointError(
      `cannot infer the ViT config: no encoder blocks (names like ${BLOCK_PREFIX[naming](0)}*)`,
    );
  }
  const patch = shapeOf('patch.weight', 4); // [D, channels, P, P]
  const [dim, channels, patchSize] = patch;
  if (patch[3] !== patchSize) {
    throw new CheckpointError(`${nameOf('patch.weight')}: patches must be square, got ${shapeStr(patch, ', ')}`);
  }
  const registers = has('registers') ? shapeOf('registers', 3)[1] : 0; // [1, R, D]
  const posSlot = slotOf('pos')!;
  const tokens = shapeOf('pos', posSlot.lead + 2).at(-2)!; // [1, N, D] or [N, D]
  const classRow = POS_WITHOUT_CLASS_ROW(naming, registers > 0) ? 0 : 1;
  const grid = Math.round(Math.sqrt(tokens - classRow));
  if (grid * grid !== tokens - classRow) {
    throw new CheckpointError(
      `${nameOf('pos')}: ${tokens} rows are not ${classRow ? 'a class token plus ' : ''}a square grid of patches`,
    );
  }
  const head = tensors.get(nameOf('head.weight'));
  const metadata = options.metadata ?? {};
  const numClasses = options.numClasses ?? head?.shape[0];
  if (numClasses === undefined) {
    throw new CheckpointError(
      `cannot infer the ViT config: no classifier head (${nameOf('head.weight')}) and no numClasses given`,
    );
  }
  const activation = options.activation ?? (naming === 'hf-clip' ? 'quick-gelu' : 'gelu');
  return checkConfig({
    imageSize: grid * patchSize,
    patchSize,
    channels,
    dim,
    depth,
    heads: options.heads ?? metadataNumber(metadata, 'num_attention_heads') ?? defaultHeads(dim),
    mlpDim: shapeOf('blocks.0.fc1.weight', 2)[0],
    numClasses,
    layerNormEps: options.layerNormEps ?? metadataNumber(metadata, 'layer_norm_eps') ?? LAYER_NORM_EPS[naming],
    // The features only where the file has them: a plain ViT's config stays as it was.
    ...(has('preNorm.weight') && { preNorm: true }),
    ...(activation !== 'gelu' && { activation }),
    ...(!has('patch.bias') && { patchBias: false }),
    ...(has('blocks.0.ls1') && { layerScale: true }),
    ...(registers > 0 && { registers }),
    ...(classRow === 0 && { classPosition: false }),
  });
}

function defaultHeads(dim: number): number {
  if (dim % 64 !== 0) {
    throw new CheckpointError(
      `cannot infer the ViT config: the head count is not stored and dim ${dim} is not a multiple of 64; pass heads`,
    );
  }
  return dim / 64;
}

function metadataNumber(metadata: Record<string, string>, key: string): number | undefined {
  if (!(key in metadata)) return undefined;
  const v = Number(metadata[key]);
  if (metadata[key].trim() === '' || !Number.isFinite(v)) {
    throw new CheckpointError(`__metadata__.${key}: expected a number, got ${JSON.stringify(metadata[key])}`);
  }
  return v;
}

/**
 * The safetensors __metadata__ that lets inferConfig read back what shapes cannot tell. "format":
 * "pt" is what transformers' from_pretrained requires of a safetensors file.
 */
export function configMetadata(config: CheckpointConfig): Record<string, string> {
  return { format: 'pt', num_attention_heads: String(config.heads), layer_norm_eps: String(config.layerNormEps) };
}
