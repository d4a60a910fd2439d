// A checkpoint's ViT config from its tensors' shapes and names, with what shapes cannot tell (the
// head count, LayerNorm's epsilon) from options or the file's metadata, which configMetadata writes.
import { shapeStr } from '../gpu/tensor.ts';
import { CheckpointError } from './safetensors.ts';
import { checkConfig, type CheckpointConfig } from './checkpoint-config.ts';
import {
  BLOCK_INDEX,
  BLOCK_PREFIX,
  countBlocks,
  isBareHf,
  layout,
  type Naming,
  type TensorMap,
} from './name-tables.ts';

export interface InferOptions {
  /** Attention heads; otherwise the metadata's num_attention_heads, otherwise dim / 64. */
  heads?: number;
  /** Otherwise the metadata's layer_norm_eps, otherwise 1e-6 (torchvision, timm) or 1e-12 (HF). */
  layerNormEps?: number;
  /** Otherwise the rows of the classifier head, which must then be present. */
  numClasses?: number;
  /** The safetensors __metadata__, as configMetadata writes it. */
  metadata?: Record<string, string>;
}

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
  const nameOf = (canonical: string) => slots.find((s) => s.canonical === canonical)!.names[0];
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
  const tokens = shapeOf('pos', 3)[1]; // [1, N, D]
  const grid = Math.round(Math.sqrt(tokens - 1));
  if (grid * grid !== tokens - 1) {
    throw new CheckpointError(`${nameOf('pos')}: ${tokens} rows are not a class token plus a square grid of patches`);
  }
  const head = tensors.get(nameOf('head.weight'));
  const metadata = options.metadata ?? {};
  const numClasses = options.numClasses ?? head?.shape[0];
  if (numClasses === undefined) {
    throw new CheckpointError(
      `cannot infer the ViT config: no classifier head (${nameOf('head.weight')}) and no numClasses given`,
    );
  }
  return checkConfig({
    imageSize: grid * patchSize,
    patchSize,
    channels,
    dim,
    depth,
    heads: options.heads ?? metadataNumber(metadata, 'num_attention_heads') ?? defaultHeads(dim),
    mlpDim: shapeOf('blocks.0.fc1.weight', 2)[0],
    numClasses,
    layerNormEps:
      options.layerNormEps ?? metadataNumber(metadata, 'layer_norm_eps') ?? (naming === 'hf' ? 1e-12 : 1e-6),
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
