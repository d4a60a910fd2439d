// Tensor names of the checkpoint conventions (torchvision, timm, HF transformers' ViT, HF's CLIP image
// tower and HF's DINOv2) and the canonical names the engine uses (src/nn/vit-params.ts), with the
// shapes each expects: the tables that detection (detect.ts), validation (validate.ts), conversion
// (convert.ts) and config inference (infer-config.ts) read.
//
// Canonical names and shapes (D = dim, M = mlpDim, C = numClasses, P = patchSize, G² patches, R registers):
//   patch.weight [D, 3, P, P]   patch.bias [D]          patch embedding, a stride-P convolution (CLIP: no bias)
//   cls [D]                     pos [1 + G², D]         class token, position embedding (row 0: class token)
//   registers [R, D]                                    DINOv2's register tokens (no position embedding)
//   preNorm.weight [D]          preNorm.bias [D]        CLIP's LayerNorm before the first block
//   blocks.{i}.ln1.weight [D]   blocks.{i}.ln1.bias [D]
//   blocks.{i}.qkv.weight [3D, D]  blocks.{i}.qkv.bias [3D]   rows: q, then k, then v
//   blocks.{i}.proj.weight [D, D]  blocks.{i}.proj.bias [D]   attention output projection
//   blocks.{i}.ln2.weight [D]   blocks.{i}.ln2.bias [D]
//   blocks.{i}.fc1.weight [M, D]   blocks.{i}.fc1.bias [M]
//   blocks.{i}.fc2.weight [D, M]   blocks.{i}.fc2.bias [D]
//   blocks.{i}.ls1 [D]          blocks.{i}.ls2 [D]      DINOv2's LayerScale of the attention and MLP branches
//   norm.weight [D]             norm.bias [D]           final LayerNorm
//   head.weight [C, D]          head.bias [C]           classifier
// Checkpoints mostly store the class token as [1, 1, D] and the position embedding as [1, N, D] (HF's
// CLIP as [D] and [N, D]); HF stores q, k and v as three [D, D] weights and three [D] biases, stacked
// here in that order. timm's models with registers keep no position row for the class token (their
// no_embed_class): see POS_WITHOUT_CLASS_ROW.
import { vitParamSpecs } from '../nn/vit-params.ts';
import type { HostTensor } from '../gpu/tensor.ts';
import { CheckpointError, type StoredTensor } from './safetensors.ts';
import type { CheckpointConfig } from './checkpoint-config.ts';

export type Naming = 'torchvision' | 'timm' | 'hf' | 'hf-clip' | 'hf-dinov2';

export const NAMINGS: readonly Naming[] = ['torchvision', 'timm', 'hf', 'hf-clip', 'hf-dinov2'];

/** What a checkpoint name map takes: tensors straight from parseSafetensors, or HostTensors. */
export type TensorMap = ReadonlyMap<string, StoredTensor | HostTensor>;

// One tensor as a convention stores it: a list of names is stacked along dim 0; `lead` counts the
// leading 1-dims the checkpoint has and the canonical shape drops.
interface Stored {
  names: string | readonly string[];
  lead: number;
}

// One canonical tensor in the conventions that have it.
type Row = { canonical: string } & Partial<Record<Naming, Stored>>;

const at = (names: string | readonly string[], lead = 0): Stored => ({ names, lead });

// The three plain-ViT conventions, which share the leading 1-dims.
const row = (canonical: string, torchvision: string, timm: string, hf: string | string[], lead = 0): Row => ({
  canonical,
  torchvision: at(torchvision, lead),
  timm: at(timm, lead),
  hf: at(hf, lead),
});

const qkv = (param: string) => ['query', 'key', 'value'].map((p) => `attention.attention.${p}.${param}`);
const clipQkv = (param: string) => ['q', 'k', 'v'].map((p) => `self_attn.${p}_proj.${param}`);
const CLIP = 'vision_model.';

const EMBEDDING: Row[] = [
  {
    ...row(
      'patch.weight',
      'conv_proj.weight',
      'patch_embed.proj.weight',
      'vit.embeddings.patch_embeddings.projection.weight',
    ),
    'hf-clip': at(`${CLIP}embeddings.patch_embedding.weight`),
    'hf-dinov2': at('embeddings.patch_embeddings.projection.weight'),
  },
  {
    ...row('patch.bias', 'conv_proj.bias', 'patch_embed.proj.bias', 'vit.embeddings.patch_embeddings.projection.bias'),
    'hf-dinov2': at('embeddings.patch_embeddings.projection.bias'),
  },
  {
    ...row('cls', 'class_token', 'cls_token', 'vit.embeddings.cls_token', 2),
    'hf-clip': at(`${CLIP}embeddings.class_embedding`),
    'hf-dinov2': at('embeddings.cls_token', 2),
  },
  {
    ...row('pos', 'encoder.pos_embedding', 'pos_embed', 'vit.embeddings.position_embeddings', 1),
    'hf-clip': at(`${CLIP}embeddings.position_embedding.weight`),
    'hf-dinov2': at('embeddings.position_embeddings', 1),
  },
  { canonical: 'registers', timm: at('reg_token', 1), 'hf-dinov2': at('embeddings.register_tokens', 1) },
  { canonical: 'preNorm.weight', timm: at('norm_pre.weight'), 'hf-clip': at(`${CLIP}pre_layrnorm.weight`) },
  { canonical: 'preNorm.bias', timm: at('norm_pre.bias'), 'hf-clip': at(`${CLIP}pre_layrnorm.bias`) },
];

// Names inside block i, after the block's prefix.
const BLOCK: Row[] = [
  {
    ...row('ln1.weight', 'ln_1.weight', 'norm1.weight', 'layernorm_before.weight'),
    'hf-clip': at('layer_norm1.weight'),
    'hf-dinov2': at('norm1.weight'),
  },
  {
    ...row('ln1.bias', 'ln_1.bias', 'norm1.bias', 'layernorm_before.bias'),
    'hf-clip': at('layer_norm1.bias'),
    'hf-dinov2': at('norm1.bias'),
  },
  {
    ...row('qkv.weight', 'self_attention.in_proj_weight', 'attn.qkv.weight', qkv('weight')),
    'hf-clip': at(clipQkv('weight')),
    'hf-dinov2': at(qkv('weight')),
  },
  {
    ...row('qkv.bias', 'self_attention.in_proj_bias', 'attn.qkv.bias', qkv('bias')),
    'hf-clip': at(clipQkv('bias')),
    'hf-dinov2': at(qkv('bias')),
  },
  {
    ...row('proj.weight', 'self_attention.out_proj.weight', 'attn.proj.weight', 'attention.output.dense.weight'),
    'hf-clip': at('self_attn.out_proj.weight'),
    'hf-dinov2': at('attention.output.dense.weight'),
  },
  {
    ...row('proj.bias', 'self_attention.out_proj.bias', 'attn.proj.bias', 'attention.output.dense.bias'),
    'hf-clip': at('self_attn.out_proj.bias'),
    'hf-dinov2': at('attention.output.dense.bias'),
  },
  {
    ...row('ln2.weight', 'ln_2.weight', 'norm2.weight', 'layernorm_after.weight'),
    'hf-clip': at('layer_norm2.weight'),
    'hf-dinov2': at('norm2.weight'),
  },
  {
    ...row('ln2.bias', 'ln_2.bias', 'norm2.bias', 'layernorm_after.bias'),
    'hf-clip': at('layer_norm2.bias'),
    'hf-dinov2': at('norm2.bias'),
  },
  {
    ...row('fc1.weight', 'mlp.0.weight', 'mlp.fc1.weight', 'intermediate.dense.weight'),
    'hf-clip': at('mlp.fc1.weight'),
    'hf-dinov2': at('mlp.fc1.weight'),
  },
  {
    ...row('fc1.bias', 'mlp.0.bias', 'mlp.fc1.bias', 'intermediate.dense.bias'),
    'hf-clip': at('mlp.fc1.bias'),
    'hf-dinov2': at('mlp.fc1.bias'),
  },
  {
    ...row('fc2.weight', 'mlp.3.weight', 'mlp.fc2.weight', 'output.dense.weight'),
    'hf-clip': at('mlp.fc2.weight'),
    'hf-dinov2': at('mlp.fc2.weight'),
  },
  {
    ...row('fc2.bias', 'mlp.3.bias', 'mlp.fc2.bias', 'output.dense.bias'),
    'hf-clip': at('mlp.fc2.bias'),
    'hf-dinov2': at('mlp.fc2.bias'),
  },
  { canonical: 'ls1', timm: at('ls1.gamma'), 'hf-dinov2': at('layer_scale1.lambda1') },
  { canonical: 'ls2', timm: at('ls2.gamma'), 'hf-dinov2': at('layer_scale2.lambda1') },
];

// Neither HF CLIP nor HF DINOv2 file has a classifier on the class token; a fine-tuned one is saved
// under HF's name for it.
const FINAL: Row[] = [
  {
    ...row('norm.weight', 'encoder.ln.weight', 'norm.weight', 'vit.layernorm.weight'),
    'hf-clip': at(`${CLIP}post_layernorm.weight`),
    'hf-dinov2': at('layernorm.weight'),
  },
  {
    ...row('norm.bias', 'encoder.ln.bias', 'norm.bias', 'vit.layernorm.bias'),
    'hf-clip': at(`${CLIP}post_layernorm.bias`),
    'hf-dinov2': at('layernorm.bias'),
  },
  {
    ...row('head.weight', 'heads.head.weight', 'head.weight', 'classifier.weight'),
    'hf-clip': at('classifier.weight'),
    'hf-dinov2': at('classifier.weight'),
  },
  {
    ...row('head.bias', 'heads.head.bias', 'head.bias', 'classifier.bias'),
    'hf-clip': at('classifier.bias'),
    'hf-dinov2': at('classifier.bias'),
  },
];

/** The checkpoint name of each convention's classifier weight. */
export const HEAD_NAME: Record<Naming, string> = Object.fromEntries(
  NAMINGS.map((n) => [n, [FINAL.find((r) => r.canonical === 'head.weight')![n]!.names].flat()[0]]),
) as Record<Naming, string>;

export const BLOCK_PREFIX: Record<Naming, (i: number) => string> = {
  torchvision: (i) => `encoder.layers.encoder_layer_${i}.`,
  timm: (i) => `blocks.${i}.`,
  hf: (i) => `vit.encoder.layer.${i}.`,
  'hf-clip': (i) => `${CLIP}encoder.layers.${i}.`,
  'hf-dinov2': (i) => `encoder.layer.${i}.`,
};

// The block index in a checkpoint name. HF's bare ViTModel saves names without "vit.".
export const BLOCK_INDEX: Record<Naming, RegExp> = {
  torchvision: /^encoder\.layers\.encoder_layer_(\d+)\./,
  timm: /^blocks\.(\d+)\./,
  hf: /^(?:vit\.)?encoder\.layer\.(\d+)\./,
  'hf-clip': /^vision_model\.encoder\.layers\.(\d+)\./,
  'hf-dinov2': /^encoder\.layer\.(\d+)\./,
};

// Names that only this convention has, to tell them apart. HF's DINOv2 shares its embeddings' and
// attention's names with HF's ViT, so its own are its blocks' norms, MLP and LayerScale (detect.ts
// takes it over HF's ViT when both match).
export const SIGNATURE: Record<Naming, RegExp> = {
  torchvision: /^(conv_proj\.|class_token$|encoder\.pos_embedding$|encoder\.layers\.encoder_layer_\d+\.)/,
  timm: /^(patch_embed\.proj\.|cls_token$|pos_embed$|blocks\.\d+\.)/,
  hf: /^(vit\.)?(embeddings\.|encoder\.layer\.\d+\.)/,
  'hf-clip': /^vision_model\.(embeddings\.|pre_layrnorm\.|encoder\.layers\.\d+\.|post_layernorm\.)/,
  'hf-dinov2': /^(embeddings\.register_tokens$|encoder\.layer\.\d+\.(norm[12]|mlp\.fc[12]|layer_scale[12])\.)/,
};

// The tensors a file may hold that the model does not use, and why, in words.
export const IGNORED: Record<Naming, { names: RegExp; why: string } | undefined> = {
  torchvision: undefined,
  timm: undefined,
  // HF's ViTModel (no "vit." prefix, e.g. the ImageNet-21k checkpoints) has a pooler that
  // ViTForImageClassification lacks: the classifier reads the class token, so the pooler is dropped.
  hf: { names: /^pooler\.dense\.(weight|bias)$/, why: "a ViTModel's pooler: the classifier reads the class token" },
  // A whole CLIPModel file holds the text tower and both projections beside the image tower; older
  // saves also hold the position_ids index buffers (0..N-1), which the position embedding's row order is.
  'hf-clip': {
    names:
      /^(text_model\.|text_projection\.weight$|visual_projection\.weight$|logit_scale$|vision_model\.embeddings\.position_ids$)/,
    why: "CLIP's text tower, projections and index buffers: only the image tower is read",
  },
  // DINOv2's mask token stands in for masked patches in its self-supervised pretraining only.
  'hf-dinov2': { names: /^embeddings\.mask_token$/, why: "DINOv2's mask token, used only in its pretraining" },
};

// timm's ViTs with register tokens are built with no_embed_class: the class token carries its own
// position (timm's conversion adds it in), pos_embed holds the patches' rows only. The canonical pos
// keeps a class row, zero on load; saving adds it back into the class token.
export const POS_WITHOUT_CLASS_ROW = (naming: Naming, registers: boolean) => naming === 'timm' && registers;

/** One canonical tensor and the checkpoint names it is stored under. */
export interface Slot {
  canonical: string;
  names: string[];
  lead: number;
}

// `bare`: HF names without the "vit." prefix. The slots of the conventions that have each tensor; a
// config has only some of them (canonicalShapes says which).
export function layout(naming: Naming, depth: number, bare = false): Slot[] {
  const slots = (rows: Row[], prefix = '', canonicalPrefix = ''): Slot[] =>
    rows.flatMap((r) => {
      const stored = r[naming];
      if (!stored) return [];
      const names = [stored.names].flat().map((n) => prefix + n);
      return [
        {
          canonical: canonicalPrefix + r.canonical,
          names: bare ? names.map((n) => n.replace(/^vit\./, '')) : names,
          lead: stored.lead,
        },
      ];
    });
  const blocks = Array.from({ length: depth }, (_, i) => slots(BLOCK, BLOCK_PREFIX[naming](i), `blocks.${i}.`));
  return [...slots(EMBEDDING), ...blocks.flat(), ...slots(FINAL)];
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
    const shape = canonical.get(s.canonical);
    if (!shape) continue; // a tensor of an architecture feature this config does not have
    const [rows, ...rest] = shape;
    const own = s.canonical === 'pos' && POS_WITHOUT_CLASS_ROW(naming, (config.registers ?? 0) > 0) ? rows - 1 : rows;
    for (const name of s.names) out.set(name, [...Array(s.lead).fill(1), own / s.names.length, ...rest]);
  }
  return out;
}
