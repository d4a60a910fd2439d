// The configuration a ViT checkpoint describes (torchvision's VisionTransformer, docs/method.md "The
// backbone"): the engine's architecture plus its input channels, its checks, and the reading of the
// config.json that comes with a checkpoint on the Hub (HF transformers' or timm's).
import type { Rgb } from '../nn/ops/normalize.ts';
import { vitArchProblems, type Activation, type VitArch } from '../nn/vit-arch.ts';
import { CheckpointError, isObject } from './safetensors.ts';
import { distilledDeitAdvice } from './zoo.ts';

/** The per-channel statistics the inputs were normalised with, (x - mean) / std. */
export interface Normalization {
  mean: Rgb;
  std: Rgb;
}

/** The engine's VitArch plus the input channels, which a checkpoint's patch embedding has. */
export interface CheckpointConfig extends VitArch {
  /** 3, RGB. */
  channels: number;
}

export function describeConfig(c: CheckpointConfig): string {
  const features = [
    c.preNorm && 'pre-norm',
    c.activation === 'quick-gelu' && 'QuickGELU',
    c.patchBias === false && 'no patch bias',
    c.layerScale && 'LayerScale',
    c.registers && `${c.registers} registers`,
  ].filter(Boolean);
  return (
    `ViT image ${c.imageSize} patch ${c.patchSize} dim ${c.dim} depth ${c.depth} heads ${c.heads} ` +
    `mlp ${c.mlpDim} classes ${c.numClasses}${features.map((f) => `, ${f}`).join('')}`
  );
}

/** Returns `c` when it describes a ViT this project can build; otherwise throws, listing every problem. */
export function checkConfig(c: CheckpointConfig): CheckpointConfig {
  const problems = vitArchProblems(c);
  // The input pipeline normalises RGB images with per-channel mean and std.
  if (c.channels !== 3) problems.push(`channels must be 3 (RGB), got ${c.channels}`);
  if (problems.length > 0) throw new CheckpointError(`invalid ViT config: ${problems.join('; ')}`);
  return c;
}

// transformers' model types the engine builds, and the activations it computes: "gelu" is the exact
// erf GELU, "quick_gelu" CLIP's x·σ(1.702x); the tanh approximations are neither.
const HF_MODEL_TYPES = ['vit', 'clip', 'clip_vision_model', 'dinov2', 'dinov2_with_registers'];
const HF_ACTIVATIONS: Record<string, Activation> = { gelu: 'gelu', quick_gelu: 'quick-gelu' };

/**
 * The CheckpointConfig of an HF transformers config.json (already JSON.parse'd) of a ViT, a CLIP
 * (its `vision_config`: the image tower) or a DINOv2 with or without registers, and its class names
 * when it has id2label. Absent fields take transformers' defaults for the model type; without
 * id2label or num_labels a model has 2 labels, transformers' default.
 */
export function configFromHfJson(json: unknown): { config: CheckpointConfig; labels?: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError('config.json: expected a JSON object');
  }
  const top = json as Record<string, unknown>;
  const modelType = top.model_type ?? 'vit';
  if (typeof modelType !== 'string' || !HF_MODEL_TYPES.includes(modelType)) {
    throw new CheckpointError(
      `config.json: model_type must be one of ${HF_MODEL_TYPES.map((t) => `"${t}"`).join(', ')}, got ${JSON.stringify(modelType)}`,
    );
  }
  if (modelType === 'clip' && !isObject(top.vision_config ?? {}))
    throw new CheckpointError(`config.json: vision_config must be an object, got ${JSON.stringify(top.vision_config)}`);
  const j = modelType === 'clip' ? ((top.vision_config ?? {}) as Record<string, unknown>) : top;
  const where = modelType === 'clip' ? 'vision_config.' : '';
  const bad = (key: string, want: string): never => {
    throw new CheckpointError(`config.json: ${where}${key} must be ${want}, got ${JSON.stringify(j[key])}`);
  };
  const clip = modelType.startsWith('clip');
  const dinov2 = modelType.startsWith('dinov2');
  const act = String(j.hidden_act ?? (clip ? 'quick_gelu' : 'gelu'));
  const activation = Object.hasOwn(HF_ACTIVATIONS, act) ? HF_ACTIVATIONS[act] : undefined;
  if (!activation) bad('hidden_act', '"gelu" or "quick_gelu"');
  if (j.qkv_bias === false) bad('qkv_bias', 'true (the engine has q, k, v biases)');
  if (j.use_swiglu_ffn === true) bad('use_swiglu_ffn', 'false (the engine has a GELU MLP)');
  const int = (key: string, fallback: number): number => {
    const v = j[key] ?? fallback;
    if (!Number.isSafeInteger(v)) bad(key, 'an integer');
    return v as number;
  };
  // image_size and patch_size may be [h, w] pairs; the engine handles squares.
  const side = (key: string, fallback: number): number => {
    const v = j[key] ?? fallback;
    if (Array.isArray(v) && v.length === 2 && v[0] === v[1]) return v[0] as number;
    if (!Number.isSafeInteger(v)) bad(key, 'an integer or a square [n, n]');
    return v as number;
  };
  const eps = j.layer_norm_eps ?? (clip ? 1e-5 : dinov2 ? 1e-6 : 1e-12);
  if (typeof eps !== 'number') bad('layer_norm_eps', 'a number');
  const registers = modelType === 'dinov2_with_registers' ? int('num_register_tokens', 4) : 0;
  const mlpRatio = j.mlp_ratio ?? 4;
  if (dinov2 && !(typeof mlpRatio === 'number' && mlpRatio > 0)) bad('mlp_ratio', 'a positive number');
  const dim = int('hidden_size', 768);

  let labels: string[] | undefined;
  if (j.id2label !== undefined) {
    const id2label = j.id2label;
    if (typeof id2label !== 'object' || id2label === null) return bad('id2label', 'an object');
    const entries = Object.entries(id2label);
    labels = entries.map((_, i) => {
      const label = (id2label as Record<string, unknown>)[String(i)];
      if (typeof label !== 'string') bad('id2label', `labels for the ids 0..${entries.length - 1}`);
      return label as string;
    });
  }
  const config = checkConfig({
    imageSize: side('image_size', 224),
    patchSize: side('patch_size', clip ? 32 : dinov2 ? 14 : 16),
    channels: int('num_channels', 3),
    dim,
    depth: int('num_hidden_layers', 12),
    heads: int('num_attention_heads', 12),
    mlpDim: dinov2 ? Math.round(dim * (mlpRatio as number)) : int('intermediate_size', 3072),
    numClasses: labels?.length ?? int('num_labels', 2),
    layerNormEps: eps as number,
    ...(clip && { preNorm: true, patchBias: false }),
    ...(activation !== 'gelu' && { activation }),
    ...(dinov2 && { layerScale: true }),
    ...(registers > 0 && { registers }),
  });
  return labels ? { config, labels } : { config };
}

/** What a config.json that came with a checkpoint adds to what its tensors' shapes tell. */
export interface ConfigHints {
  heads?: number;
  layerNormEps?: number;
  activation?: Activation;
  /** The classes the config names, also for a file without a head (HF's ViTModel). */
  numClasses?: number;
  labels?: string[];
  normalization?: Normalization;
}

/** The hints of a config.json (already JSON.parse'd): timm's, told by its `architecture` and
 *  `pretrained_cfg`, or HF transformers'. */
export function configHints(json: unknown): ConfigHints {
  if (isObject(json) && typeof json.architecture === 'string' && 'pretrained_cfg' in json)
    return configFromTimmJson(json);
  const { config, labels } = configFromHfJson(json);
  return {
    heads: config.heads,
    layerNormEps: config.layerNormEps,
    activation: config.activation ?? 'gelu',
    numClasses: config.numClasses,
    labels,
  };
}

/**
 * timm's config.json (timm's save_config_for_hf): the head's classes, their names when it has
 * `label_names`, and the normalisation in `pretrained_cfg`. The rest of the architecture is in the
 * tensors' shapes; the head count is dim / 64 for every timm ViT, DeiT, CLIP and DINOv2 of the zoo.
 * timm builds its CLIP towers (`vit_*_clip_*`) with LayerNorm eps 1e-5; OpenAI's CLIP weights were
 * trained with QuickGELU, which timm's `_quickgelu` architectures use and its plain ones approximate
 * with GELU (its pretrained_cfg notes "natively QuickGELU"): the engine runs them as trained.
 */
function configFromTimmJson(j: Record<string, unknown>): ConfigHints {
  const bad = (key: string, want: string, got: unknown): never => {
    throw new CheckpointError(`config.json: ${key} must be ${want}, got ${JSON.stringify(got)}`);
  };
  const arch = j.architecture as string;
  if (arch.includes('distilled'))
    throw new CheckpointError(
      `config.json: ${arch}: ${distilledDeitAdvice(/deit_(tiny|small|base)/.exec(arch)?.[1] ?? '')}`,
    );
  const numClasses = j.num_classes ?? 0;
  if (!(Number.isSafeInteger(numClasses) && (numClasses as number) >= 0))
    bad('num_classes', 'a whole number', numClasses);
  const cfg = j.pretrained_cfg;
  if (!isObject(cfg)) return bad('pretrained_cfg', 'an object', cfg);
  const rgb = (key: 'mean' | 'std'): Rgb | undefined => {
    const v = cfg[key];
    const ok =
      Array.isArray(v) &&
      v.length === 3 &&
      v.every((x) => typeof x === 'number' && Number.isFinite(x) && !(key === 'std' && x === 0));
    return v === undefined
      ? undefined
      : ok
        ? (v as unknown as Rgb)
        : bad(`pretrained_cfg.${key}`, 'three finite numbers (no std 0)', v);
  };
  const mean = rgb('mean');
  const std = rgb('std');
  const names = j.label_names;
  let labels: string[] | undefined;
  if (names !== undefined) {
    const list = Array.isArray(names)
      ? names
      : isObject(names)
        ? Array.from({ length: Object.keys(names).length }, (_, i) => names[String(i)])
        : undefined;
    if (!list || list.length !== numClasses || !list.every((n) => typeof n === 'string'))
      bad('label_names', `${numClasses} names, one per class`, names);
    labels = list as string[];
  }
  const clip = /_clip_/.test(arch);
  const quickGelu = arch.includes('quickgelu') || (clip && cfg.tag === 'openai');
  return {
    ...(clip && { layerNormEps: 1e-5 }),
    ...(quickGelu && { activation: 'quick-gelu' as const }),
    ...(numClasses ? { numClasses: numClasses as number } : {}),
    ...(labels && { labels }),
    ...(mean && std && { normalization: { mean, std } }),
  };
}
