// Tensor names of the three checkpoint conventions (torchvision, timm, HF transformers) and the
// canonical names the engine uses (src/nn/vit-params.ts), with the shapes each expects: the tables
// that detection (detect.ts), validation (validate.ts), conversion (convert.ts) and config inference
// (infer-config.ts) read.
//
// Canonical names and shapes (D = dim, M = mlpDim, C = numClasses, P = patchSize, N = tokens):
//   patch.weight [D, 3, P, P]   patch.bias [D]          patch embedding, a stride-P convolution
//   cls [D]                     pos [N, D]              class token, position embedding (row 0: class token)
//   blocks.{i}.ln1.weight [D]   blocks.{i}.ln1.bias [D]
//   blocks.{i}.qkv.weight [3D, D]  blocks.{i}.qkv.bias [3D]   rows: q, then k, then v
//   blocks.{i}.proj.weight [D, D]  blocks.{i}.proj.bias [D]   attention output projection
//   blocks.{i}.ln2.weight [D]   blocks.{i}.ln2.bias [D]
//   blocks.{i}.fc1.weight [M, D]   blocks.{i}.fc1.bias [M]
//   blocks.{i}.fc2.weight [D, M]   blocks.{i}.fc2.bias [D]
//   norm.weight [D]             norm.bias [D]           final LayerNorm
//   head.weight [C, D]          head.bias [C]           classifier
// Checkpoints store the class token as [1, 1, D] and the position embedding as [1, N, D]; HF
// stores q, k and v as three [D, D] weights and three [D] biases, stacked here in that order.
import { vitParamSpecs } from '../nn/vit-params.ts';
import type { HostTensor } from '../gpu/tensor.ts';
import { CheckpointError, type StoredTensor } from './safetensors.ts';
import type { CheckpointConfig } from './checkpoint-config.ts';

export type Naming = 'torchvision' | 'timm' | 'hf';

export const NAMINGS: readonly Naming[] = ['torchvision', 'timm', 'hf'];

/** What a checkpoint name map takes: tensors straight from parseSafetensors, or HostTensors. */
export type TensorMap = ReadonlyMap<string, StoredTensor | HostTensor>;

// One tensor in every convention. A list of checkpoint names is stacked along dim 0; `lead`
// counts the leading 1-dims the checkpoint has and the canonical shape drops.
interface Row {
  canonical: string;
  names: Record<Naming, string | readonly string[]>;
  lead: number;
}

const row = (canonical: string, torchvision: string, timm: string, hf: string | string[], lead = 0): Row => ({
  canonical,
  names: { torchvision, timm, hf },
  lead,
});

const qkv = (param: string) => ['query', 'key', 'value'].map((p) => `attention.attention.${p}.${param}`);

const EMBEDDING: Row[] = [
  row(
    'patch.weight',
    'conv_proj.weight',
    'patch_embed.proj.weight',
    'vit.embeddings.patch_embeddings.projection.weight',
  ),
  row('patch.bias', 'conv_proj.bias', 'patch_embed.proj.bias', 'vit.embeddings.patch_embeddings.projection.bias'),
  row('cls', 'class_token', 'cls_token', 'vit.embeddings.cls_token', 2),
  row('pos', 'encoder.pos_embedding', 'pos_embed', 'vit.embeddings.position_embeddings', 1),
];

// Names inside block i, after the block's prefix.
const BLOCK: Row[] = [
  row('ln1.weight', 'ln_1.weight', 'norm1.weight', 'layernorm_before.weight'),
  row('ln1.bias', 'ln_1.bias', 'norm1.bias', 'layernorm_before.bias'),
  row('qkv.weight', 'self_attention.in_proj_weight', 'attn.qkv.weight', qkv('weight')),
  row('qkv.bias', 'self_attention.in_proj_bias', 'attn.qkv.bias', qkv('bias')),
  row('proj.weight', 'self_attention.out_proj.weight', 'attn.proj.weight', 'attention.output.dense.weight'),
  row('proj.bias', 'self_attention.out_proj.bias', 'attn.proj.bias', 'attention.output.dense.bias'),
  row('ln2.weight', 'ln_2.weight', 'norm2.weight', 'layernorm_after.weight'),
  row('ln2.bias', 'ln_2.bias', 'norm2.bias', 'layernorm_after.bias'),
  row('fc1.weight', 'mlp.0.weight', 'mlp.fc1.weight', 'intermediate.dense.weight'),
  row('fc1.bias', 'mlp.0.bias', 'mlp.fc1.bias', 'intermediate.dense.bias'),
  row('fc2.weight', 'mlp.3.weight', 'mlp.fc2.weight', 'output.dense.weight'),
  row('fc2.bias', 'mlp.3.bias', 'mlp.fc2.bias', 'output.dense.bias'),
];

const FINAL: Row[] = [
  row('norm.weight', 'encoder.ln.weight', 'norm.weight', 'vit.layernorm.weight'),
  row('norm.bias', 'encoder.ln.bias', 'norm.bias', 'vit.layernorm.bias'),
  row('head.weight', 'heads.head.weight', 'head.weight', 'classifier.weight'),
  row('head.bias', 'heads.head.bias', 'head.bias', 'classifier.bias'),
];

export const BLOCK_PREFIX: Record<Naming, (i: number) => string> = {
  torchvision: (i) => `encoder.layers.encoder_layer_${i}.`,
  timm: (i) => `blocks.${i}.`,
  hf: (i) => `vit.encoder.layer.${i}.`,
};

// The block index in a checkpoint name. HF's bare ViTModel saves names without "vit.".
export const BLOCK_INDEX: Record<Naming, RegExp> = {
  torchvision: /^encoder\.layers\.encoder_layer_(\d+)\./,
  timm: /^blocks\.(\d+)\./,
  hf: /^(?:vit\.)?encoder\.layer\.(\d+)\./,
};

// Names that only this convention has, to tell them apart.
export const SIGNATURE: Record<Naming, RegExp> = {
  torchvision: /^(conv_proj\.|class_token$|encoder\.pos_embedding$|encoder\.layers\.encoder_layer_\d+\.)/,
  timm: /^(patch_embed\.proj\.|cls_token$|pos_embed$|blocks\.\d+\.)/,
  hf: /^(vit\.)?(embeddings\.|encoder\.layer\.\d+\.)/,
};

// HF's ViTModel (no "vit." prefix, e.g. the ImageNet-21k checkpoints) has a pooler that
// ViTForImageClassification lacks: the classifier reads the class token, so the pooler is dropped.
export const IGNORED: Record<Naming, RegExp | undefined> = {
  torchvision: undefined,
  timm: undefined,
  hf: /^pooler\.dense\.(weight|bias)$/,
};

/** One canonical tensor and the checkpoint names it is stored under. */
export interface Slot {
  canonical: string;
  names: string[];
  lead: number;
}

// `bare`: HF names without the "vit." prefix.
export function layout(naming: Naming, depth: number, bare = false): Slot[] {
  const slot = (r: Row, prefix = '', canonicalPrefix = ''): Slot => {
    const names = [r.names[naming]].flat().map((n) => prefix + n);
    return {
      canonical: canonicalPrefix + r.canonical,
      names: bare ? names.map((n) => n.replace(/^vit\./, '')) : names,
      lead: r.lead,
    };
  };
  const blocks = Array.from({ length: depth }, (_, i) =>
    BLOCK.map((r) => slot(r, BLOCK_PREFIX[naming](i), `blocks.${i}.`)),
  );
  return [...EMBEDDING.map((r) => slot(r)), ...blocks.flat(), ...FINAL.map((r) => slot(r))];
}

export const isBareHf = (naming: Naming, names: Iterable<string>): boolean =>
  naming === 'hf' && ![...names].some((n) => n.startsWith('vit.'));

// The deepest ViTs have 32 blocks (ViT-H) and 48 (ViT-22B). A block index read from a name sizes the
// layout, so one above this cap is refused before anything is allocated for it.
export const MAX_BLOCKS = 256;

// Every block has at least 12 tensors, so a block index is also below the number of tensors:
// a tiny file cannot name block 999999.
export function countBlocks(names: readonly string[], pattern: RegExp): number {
  let depth = 0;
  for (const n of names) {
    const m = pattern.exec(n);
    if (!m) continue;
    const index = Number(m[1]);
    if (index >= MAX_BLOCKS) {
      throw new CheckpointError(
        `${n}: block ${m[1]} is beyond the ${MAX_BLOCKS} blocks a ViT can have here (the deepest have 48)`,
      );
    }
    if (index >= names.length) {
      throw new CheckpointError(
        `${n}: block ${m[1]} cannot exist in a checkpoint of ${names.length} tensor${names.length === 1 ? '' : 's'} (a block has 12 or more)`,
      );
    }
    depth = Math.max(depth, index + 1);
  }
  return depth;
}

export function listNames(names: readonly string[], max = 8): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} (and ${names.length - max} more)` : shown;
}

/** Canonical names and shapes of a ViT with this config: the engine's parameters, in its order. */
export function canonicalShapes(config: CheckpointConfig): Map<string, number[]> {
  return new Map(vitParamSpecs(config).map((p) => [p.name, p.shape]));
}

/**
 * Checkpoint names and shapes of a ViT with this config in one convention, in checkpoint order.
 * `bare`: HF names without "vit.", as a saved ViTModel has them.
 */
export function checkpointShapes(config: CheckpointConfig, naming: Naming, bare = false): Map<string, number[]> {
  if (config.depth > MAX_BLOCKS)
    throw new CheckpointError(`depth ${config.depth} is beyond the ${MAX_BLOCKS} blocks a ViT can have here`);
  const canonical = canonicalShapes(config);
  const out = new Map<string, number[]>();
  for (const s of layout(naming, config.depth, bare)) {
    const [rows, ...rest] = canonical.get(s.canonical)!;
    for (const name of s.names) out.set(name, [...Array(s.lead).fill(1), rows / s.names.length, ...rest]);
  }
  return out;
}
