// A ViT checkpoint file in, a model ready for the engine out, and back: the naming is
// detected, the configuration inferred (or taken from an HF or timm config.json or options), the
// position embedding resized for another image size, a head for another number of classes
// made anew. Saving keeps the naming the file was loaded with and adds the metadata
// (config, class names, normalisation) that lets the file reload with no options.
import { linearInit } from '../nn/init.ts';
import type { Rgb } from '../nn/ops/normalize.ts';
import { seededRng } from '../nn/rng.ts';
import { checkVitArch } from '../nn/vit-arch.ts';
import { fromCanonical, toCanonical } from './convert.ts';
import { detectNaming, refuseDistilled, unusedTensors } from './detect.ts';
import { configMetadata, inferConfig } from './infer-config.ts';
import { HEAD_NAME, type Naming } from './name-tables.ts';
import { validateCheckpoint } from './validate.ts';
import { resizePosEmbedding, type ResizeOptions } from './resize.ts';
import type { HostTensor } from '../gpu/tensor.ts';
import { CheckpointError, isObject, parseSafetensors, writeSafetensors } from './safetensors.ts';
import { checkConfig, configHints, type CheckpointConfig, type Normalization } from './checkpoint-config.ts';

export interface ModelFile {
  config: CheckpointConfig;
  naming: Naming;
  /** Canonical names (src/nn/vit-params.ts) → tensors. */
  weights: Map<string, HostTensor>;
  classNames?: string[];
  normalization?: Normalization;
  /** What was changed on load, in words (resized position embedding, new head, tensors left unused). */
  changes: string[];
}

export interface LoadOptions {
  heads?: number;
  layerNormEps?: number;
  /** The config.json (parsed) that came with the file: HF transformers' or timm's. */
  hfConfig?: unknown;
  /** How the inputs were normalised, when neither the file's metadata nor its config.json says (the
   *  zoo knows it for Google's and Facebook's files). */
  normalization?: Normalization;
  /** Fine-tune at another input size: the position embedding is resized. */
  imageSize?: number;
  /** The file may lack a classifier head (HF's ViTModel) though no numClasses is given: the page's first
   *  look at a model, before it knows the task. The model then has no head, and its config the classes
   *  its config.json or our metadata names (else 1); the run makes the head. Otherwise such a file needs
   *  numClasses. */
  headOptional?: boolean;
  /** A new task: the classifier head is replaced by a fresh one when the number of classes differs. */
  numClasses?: number;
  /** The new task's class names: the head is replaced too when the checkpoint names other classes
   *  (MNIST digits after Fashion-MNIST articles: same count, another task). */
  classNames?: string[];
  /** Seed of the new head's initialisation. */
  seed?: number;
}

const META_CONFIG = 'stochca_config';
const META_CLASSES = 'stochca_class_names';
const META_NORM = 'stochca_normalization';

// Our metadata, checked by type before use: a file edited or written elsewhere may hold anything there.
function refuse(key: string, want: string, got: unknown): never {
  const text = JSON.stringify(got);
  throw new CheckpointError(
    `metadata ${key} must be ${want}, got ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`,
  );
}

function parseJson(metadata: Record<string, string>, key: string, want: string): unknown {
  if (metadata[key] === undefined) return undefined;
  try {
    return JSON.parse(metadata[key]);
  } catch {
    return refuse(key, `${want} (as JSON)`, metadata[key]);
  }
}

const CONFIG_INTEGERS = [
  'imageSize',
  'patchSize',
  'channels',
  'dim',
  'depth',
  'heads',
  'mlpDim',
  'numClasses',
] as const;

function savedConfig(metadata: Record<string, string>): Partial<CheckpointConfig> | undefined {
  const c = parseJson(metadata, META_CONFIG, 'an object of ViT config fields');
  if (c === undefined) return undefined;
  if (!isObject(c)) return refuse(META_CONFIG, 'an object of ViT config fields', c);
  for (const key of CONFIG_INTEGERS) {
    if (key in c && !(Number.isSafeInteger(c[key]) && (c[key] as number) > 0))
      refuse(`${META_CONFIG}.${key}`, 'a positive integer', c[key]);
  }
  const eps = c.layerNormEps;
  if ('layerNormEps' in c && !(typeof eps === 'number' && eps > 0 && Number.isFinite(eps))) {
    refuse(`${META_CONFIG}.layerNormEps`, 'a positive finite number', eps);
  }
  if ('activation' in c && c.activation !== 'gelu' && c.activation !== 'quick-gelu')
    refuse(`${META_CONFIG}.activation`, '"gelu" or "quick-gelu"', c.activation);
  return c as Partial<CheckpointConfig>;
}

/** `numClasses`: the rows of the file's head, when it has one. */
function savedClassNames(metadata: Record<string, string>, numClasses: number | undefined): string[] | undefined {
  const want = `a list of ${numClasses === undefined ? '' : `${numClasses} `}strings, one per class`;
  const names = parseJson(metadata, META_CLASSES, want);
  if (names === undefined) return undefined;
  const fits =
    Array.isArray(names) &&
    names.every((n) => typeof n === 'string') &&
    (numClasses === undefined || names.length === numClasses);
  return fits ? names : refuse(META_CLASSES, want, names);
}

function savedNormalization(metadata: Record<string, string>): Normalization | undefined {
  const want = '{"mean": [r, g, b], "std": [r, g, b]}: three finite numbers each, no std 0';
  const norm = parseJson(metadata, META_NORM, want);
  if (norm === undefined) return undefined;
  const rgb = (v: unknown, nonZero: boolean): v is Rgb =>
    Array.isArray(v) &&
    v.length === 3 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x) && !(nonZero && x === 0));
  if (!isObject(norm) || !rgb(norm.mean, false) || !rgb(norm.std, true)) return refuse(META_NORM, want, norm);
  return { mean: norm.mean, std: norm.std };
}

export function loadModelFile(bytes: Uint8Array | ArrayBuffer, options: LoadOptions = {}): ModelFile {
  const { tensors, metadata } = parseSafetensors(bytes, { finite: true });
  refuseDistilled(tensors);
  const naming = detectNaming(tensors.keys());
  const hints = options.hfConfig === undefined ? undefined : configHints(options.hfConfig);
  const saved = savedConfig(metadata);
  const headInFile = hasHead(tensors, naming);
  const stored = inferConfig(tensors, naming, {
    heads: options.heads ?? hints?.heads ?? saved?.heads,
    layerNormEps: options.layerNormEps ?? hints?.layerNormEps ?? saved?.layerNormEps,
    activation: hints?.activation ?? saved?.activation,
    numClasses: headInFile
      ? undefined
      : (options.numClasses ?? (options.headOptional ? (hints?.numClasses ?? saved?.numClasses ?? 1) : undefined)),
    metadata,
  });
  validateCheckpoint(tensors, naming, stored);
  const weights = toCanonical(tensors, naming);
  const unused = unusedTensors(tensors.keys(), naming);
  const changes: string[] = unused ? [unused] : [];
  const config: CheckpointConfig = { ...stored };

  if (options.imageSize !== undefined && options.imageSize !== stored.imageSize) {
    config.imageSize = options.imageSize;
    checkConfig(config);
    const grid = config.imageSize / config.patchSize;
    weights.set('pos', resizePosEmbedding(weights.get('pos')!, grid, resizeOptions(naming, stored)));
    changes.push(`position embedding resized from ${stored.imageSize} px to ${config.imageSize} px`);
  }
  const wantClasses = options.numClasses ?? stored.numClasses;
  const storedNames = savedClassNames(metadata, headInFile ? stored.numClasses : undefined);
  const otherTask =
    options.classNames !== undefined &&
    storedNames !== undefined &&
    options.classNames.join('\n') !== storedNames.join('\n');
  const headless = !headInFile && options.numClasses === undefined;
  if (headless) changes.push('no classifier head in the file: a run makes one of its classes');
  else if (!weights.has('head.weight') || wantClasses !== stored.numClasses || otherTask) {
    config.numClasses = wantClasses;
    checkVitArch(config);
    const head = linearInit(config.dim, wantClasses, seededRng(options.seed ?? 0));
    weights.set('head.weight', { shape: [wantClasses, config.dim], data: head.weight });
    weights.set('head.bias', { shape: [wantClasses], data: head.bias });
    changes.push(`new ${wantClasses}-class head`);
  }
  const classNames = otherTask ? options.classNames : (storedNames ?? hints?.labels);
  const savedNorm = savedNormalization(metadata);
  return {
    config,
    naming,
    weights,
    classNames: classNames?.length === config.numClasses ? classNames : undefined,
    normalization: options.normalization ?? hints?.normalization ?? savedNorm,
    changes,
  };
}

/**
 * How the position embedding is resized: torchvision's interpolate_embeddings (align_corners=True),
 * which the plain ViTs of every convention have always been resized with here; CLIP and DINOv2 as
 * their references do (align_corners=False): timm's resample_abs_pos_embed and transformers' DINOv2
 * antialiased, transformers' CLIP not.
 */
function resizeOptions(naming: Naming, c: CheckpointConfig): ResizeOptions {
  const family = naming === 'hf-clip' || naming === 'hf-dinov2' || c.preNorm || c.layerScale || (c.registers ?? 0) > 0;
  return family ? { alignCorners: false, antialias: naming !== 'hf-clip' } : { alignCorners: true };
}

function hasHead(tensors: ReadonlyMap<string, unknown>, naming: Naming): boolean {
  return tensors.has(HEAD_NAME[naming]);
}

/** The safetensors bytes of a model, named as it was loaded, with metadata to reload it with no options. */
export function saveModelFile(
  m: Pick<ModelFile, 'config' | 'naming' | 'weights' | 'classNames' | 'normalization'>,
): Uint8Array {
  const metadata: Record<string, string> = { ...configMetadata(m.config), [META_CONFIG]: JSON.stringify(m.config) };
  if (m.classNames) metadata[META_CLASSES] = JSON.stringify(m.classNames);
  if (m.normalization) metadata[META_NORM] = JSON.stringify(m.normalization);
  return writeSafetensors(fromCanonical(m.weights, m.naming), { metadata });
}
