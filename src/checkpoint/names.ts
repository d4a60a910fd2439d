// Tensor names of the three checkpoint conventions (torchvision, timm, HF transformers) and the
// canonical names the engine uses (src/nn/vit-params.ts), with the shapes each expects.
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
import { CheckpointError, shapeString, type StoredTensor } from './safetensors.ts';
import { checkConfig, describeConfig, type CheckpointConfig } from './checkpoint-config.ts';
import { distilledDeitAdvice } from './zoo.ts';

export type Naming = 'torchvision' | 'timm' | 'hf';

const NAMINGS: readonly Naming[] = ['torchvision', 'timm', 'hf'];

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

const BLOCK_PREFIX: Record<Naming, (i: number) => string> = {
  torchvision: (i) => `encoder.layers.encoder_layer_${i}.`,
  timm: (i) => `blocks.${i}.`,
  hf: (i) => `vit.encoder.layer.${i}.`,
};

// The block index in a checkpoint name. HF's bare ViTModel saves names without "vit.".
const BLOCK_INDEX: Record<Naming, RegExp> = {
  torchvision: /^encoder\.layers\.encoder_layer_(\d+)\./,
  timm: /^blocks\.(\d+)\./,
  hf: /^(?:vit\.)?encoder\.layer\.(\d+)\./,
};

// Names that only this convention has, to tell them apart.
const SIGNATURE: Record<Naming, RegExp> = {
  torchvision: /^(conv_proj\.|class_token$|encoder\.pos_embedding$|encoder\.layers\.encoder_layer_\d+\.)/,
  timm: /^(patch_embed\.proj\.|cls_token$|pos_embed$|blocks\.\d+\.)/,
  hf: /^(vit\.)?(embeddings\.|encoder\.layer\.\d+\.)/,
};

// HF's ViTModel (no "vit." prefix, e.g. the ImageNet-21k checkpoints) has a pooler that
// ViTForImageClassification lacks: the classifier reads the class token, so the pooler is dropped.
const IGNORED: Record<Naming, RegExp | undefined> = {
  torchvision: undefined,
  timm: undefined,
  hf: /^pooler\.dense\.(weight|bias)$/,
};

/** The tensors of a checkpoint that the model does not use, and why, in words; undefined when none. */
export function unusedTensors(names: Iterable<string>, naming: Naming): string | undefined {
  const unused = [...names].filter((n) => IGNORED[naming]?.test(n));
  return unused.length
    ? `${listNames(unused)} left unused (a ViTModel's pooler: the classifier reads the class token)`
    : undefined;
}

// A distilled DeiT's second token: timm's `dist_token`, HF's `deit.embeddings.distillation_token`.
const DISTILLATION_TOKEN = /^(dist_token|(deit\.)?embeddings\.distillation_token)$/;

/** Refuses a distilled DeiT by its distillation token, naming the zoo model to take instead. */
export function refuseDistilled(tensors: TensorMap): void {
  const token = [...tensors.keys()].find((n) => DISTILLATION_TOKEN.test(n));
  if (token) throw new CheckpointError(`${token}: ${distilledDeitAdvice(tensors.get(token)!.shape.at(-1) ?? 0)}`);
}

/** One canonical tensor and the checkpoint names it is stored under. */
interface Slot {
  canonical: string;
  names: string[];
  lead: number;
}

// `bare`: HF names without the "vit." prefix.
function layout(naming: Naming, depth: number, bare = false): Slot[] {
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

const isBareHf = (naming: Naming, names: Iterable<string>): boolean =>
  naming === 'hf' && ![...names].some((n) => n.startsWith('vit.'));

// The deepest ViTs have 32 blocks (ViT-H) and 48 (ViT-22B). A block index read from a name sizes the
// layout, so one above this cap is refused before anything is allocated for it.
export const MAX_BLOCKS = 256;

// Every block has at least 12 tensors, so a block index is also below the number of tensors:
// a tiny file cannot name block 999999.
function countBlocks(names: readonly string[], pattern: RegExp): number {
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

function listNames(names: readonly string[], max = 8): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} (and ${names.length - max} more)` : shown;
}

/** Which convention these checkpoint names follow. */
export function detectNaming(names: Iterable<string>): Naming {
  const all = [...names];
  const found = NAMINGS.filter((n) => all.some((name) => SIGNATURE[n].test(name)));
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    throw new CheckpointError(
      `unknown naming: no torchvision, timm or HF transformers ViT tensors among ${all.length} names` +
        (all.length ? `; saw ${listNames(all, 5)}` : ''),
    );
  }
  throw new CheckpointError(`ambiguous naming: the names mix the ${found.join(' and ')} conventions`);
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

const isHead = (canonical: string) => canonical.startsWith('head.');

function notFloat(name: string, t: StoredTensor | HostTensor): string | undefined {
  if (t.data instanceof Float32Array) return undefined;
  return `${name}: expected a floating-point tensor, got ${'dtype' in t ? t.dtype : 'integers'}`;
}

function asFloat(name: string, t: StoredTensor | HostTensor): HostTensor {
  const problem = notFloat(name, t);
  if (problem) throw new CheckpointError(problem);
  return { shape: t.shape, data: t.data as Float32Array };
}

/**
 * Checks a checkpoint against a config: every tensor present (the classifier head may be absent as
 * a whole: the caller makes a new one), none unexpected, every shape right. Throws one
 * CheckpointError that lists every problem by checkpoint name.
 */
export function validateCheckpoint(tensors: TensorMap, naming: Naming, config: CheckpointConfig): void {
  const bare = isBareHf(naming, tensors.keys());
  const headNames = new Set(
    layout(naming, 0, bare)
      .filter((s) => isHead(s.canonical))
      .flatMap((s) => s.names),
  );
  const noHead = ![...headNames].some((n) => tensors.has(n));
  const expected = checkpointShapes(config, naming, bare);
  const problems: string[] = [];
  const missing: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) {
      if (!(noHead && headNames.has(name))) missing.push(name);
      continue;
    }
    const wrongShape = shapeString(t.shape) !== shapeString(shape);
    const problem =
      notFloat(name, t) ??
      (wrongShape ? `${name}: expected ${shapeString(shape)}, got ${shapeString(t.shape)}` : undefined);
    if (problem) problems.push(problem);
  }
  const ignored = IGNORED[naming];
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n) && !ignored?.test(n));
  if (missing.length) problems.push(`missing: ${listNames(missing)}`);
  if (unexpected.length) problems.push(`unexpected: ${listNames(unexpected)}`);
  if (problems.length) {
    throw new CheckpointError(
      `${naming} checkpoint does not fit ${describeConfig(config)}:\n  ${problems.join('\n  ')}`,
    );
  }
}

/**
 * Checkpoint tensors -> canonical ones. Run validateCheckpoint first for a full report: this
 * throws on the first name it cannot place. Data is shared with the input, not copied, except
 * where HF's q, k, v are stacked.
 */
export function toCanonical(tensors: TensorMap, naming: Naming): Map<string, HostTensor> {
  const names = [...tensors.keys()];
  const slots = layout(naming, countBlocks(names, BLOCK_INDEX[naming]), isBareHf(naming, names));
  const known = new Set(slots.flatMap((s) => s.names));
  const unexpected = names.filter((n) => !known.has(n) && !IGNORED[naming]?.test(n));
  if (unexpected.length)
    throw new CheckpointError(`unexpected tensors in a ${naming} checkpoint: ${listNames(unexpected)}`);

  const out = new Map<string, HostTensor>();
  for (const s of slots) {
    const present = s.names.filter((n) => tensors.has(n));
    if (present.length === 0) continue;
    if (present.length < s.names.length) {
      throw new CheckpointError(`${s.canonical}: missing ${listNames(s.names.filter((n) => !tensors.has(n)))}`);
    }
    out.set(
      s.canonical,
      stack(
        s,
        s.names.map((n) => asFloat(n, tensors.get(n)!)),
      ),
    );
  }
  return out;
}

// Drops the leading 1-dims and stacks the parts along dim 0: k x [r, ...] -> [k*r, ...].
function stack(s: Slot, parts: HostTensor[]): HostTensor {
  const shapes = parts.map((t, k) => {
    const lead = t.shape.slice(0, s.lead);
    if (t.shape.length <= s.lead || lead.some((d) => d !== 1)) {
      throw new CheckpointError(
        `${s.names[k]}: expected ${s.lead} leading dimensions of size 1, got ${shapeString(t.shape)}`,
      );
    }
    return t.shape.slice(s.lead);
  });
  if (parts.length === 1) return { shape: shapes[0], data: parts[0].data };
  if (shapes.some((sh) => shapeString(sh) !== shapeString(shapes[0]))) {
    throw new CheckpointError(
      `${s.canonical}: ${s.names.map((n, k) => `${n} ${shapeString(shapes[k])}`).join(', ')} must have one shape to be stacked`,
    );
  }
  const data = new Float32Array(parts.length * parts[0].data.length);
  parts.forEach((t, k) => data.set(t.data, k * t.data.length));
  return { shape: [parts.length * shapes[0][0], ...shapes[0].slice(1)], data };
}

/**
 * Canonical tensors -> checkpoint tensors in one convention (HF: ViTForImageClassification
 * names, with "vit."), in checkpoint order. Data is shared with the input, not copied.
 */
export function fromCanonical(canonical: ReadonlyMap<string, HostTensor>, naming: Naming): Map<string, HostTensor> {
  const slots = layout(naming, countBlocks([...canonical.keys()], /^blocks\.(\d+)\./));
  const known = new Set(slots.map((s) => s.canonical));
  const unknown = [...canonical.keys()].filter((n) => !known.has(n));
  if (unknown.length) throw new CheckpointError(`not canonical ViT tensor names: ${listNames(unknown)}`);

  const out = new Map<string, HostTensor>();
  for (const s of slots) {
    const t = canonical.get(s.canonical);
    if (!t) continue;
    const k = s.names.length;
    const [rows, ...rest] = t.shape;
    if (t.shape.length === 0 || rows % k !== 0) {
      throw new CheckpointError(`${s.canonical}: ${shapeString(t.shape)} does not split into ${k} along dim 0`);
    }
    const size = t.data.length / k;
    s.names.forEach((name, j) => {
      out.set(name, {
        shape: [...Array(s.lead).fill(1), rows / k, ...rest],
        data: t.data.subarray(j * size, (j + 1) * size),
      });
    });
  }
  return out;
}

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
      throw new CheckpointError(`${name}: expected ${rank} dimensions, got ${shapeString(t.shape)}`);
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
    throw new CheckpointError(`${nameOf('patch.weight')}: patches must be square, got ${shapeString(patch)}`);
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
