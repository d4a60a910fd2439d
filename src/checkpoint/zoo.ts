// The model zoo: public ViT checkpoints on the Hugging Face Hub that people fine-tune, each with the
// file to fetch and what it holds. None of these files says how its inputs were normalised (timm's
// config.json does, Google's and Facebook's keep it in a preprocessor file), so each entry says it:
// timm's augreg and Google's ImageNet-21k weights were trained on inputs scaled to [-1, 1] (mean 0.5,
// std 0.5), DeiT and DINOv2 on ImageNet's mean and std, OpenAI's CLIP on its own. A file is fetched from
// `<hub>/<repo>/resolve/main/<file>`, the Hub's address for a file of a repository's main branch,
// with the repository's config.json beside it.
import { IMAGENET_MEAN, IMAGENET_STD } from '../nn/ops/normalize.ts';
import type { Normalization } from './checkpoint-config.ts';
import { CheckpointError } from './safetensors.ts';

export interface ZooEntry {
  /** The Hub repository, `org/name`. */
  repo: string;
  /** The weights in it. */
  file: string;
  /** In words, for the model panel. */
  name: string;
  /** Size of the weights file. */
  bytes: number;
  /** Parameters in the file (the ViTModel's pooler, CLIP's text tower included). */
  parameters: number;
  /** The checkpoint's own input size, its position embedding's grid times its patch (DINOv2: 518 px). */
  imageSize: number;
  normalization: Normalization;
  /** Classes of the file's head; 0 when it has none, and a new head is made for the task. */
  classes: number;
  /** Where the class names are, when the file or its config.json carries them. */
  classNames?: string;
  licence: string;
  /** The file holds more than the image model (a whole CLIP: its text tower too): only the image
   *  tower's tensors are fetched, by their byte ranges. */
  imageTower?: boolean;
}

/** Where the zoo is fetched from unless the page's "Hub address" or STOCHCA_HUB names a mirror. */
export const DEFAULT_HUB = 'https://huggingface.co';

/** Every repository of the zoo has one, beside its weights. */
export const ZOO_CONFIG_FILE = 'config.json';

/** Inputs scaled to [-1, 1]: the statistics Google's ViT (and timm's ports of it) trained with. */
const HALF: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const IMAGENET: Normalization = { mean: IMAGENET_MEAN, std: IMAGENET_STD };
const IN1K_NAMES = 'config.json id2label (ImageNet-1k)';
/** OpenAI's CLIP preprocessing (its preprocessor_config.json; timm's OPENAI_CLIP_MEAN and _STD). */
const OPENAI_CLIP: Normalization = {
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

export const ZOO: readonly ZooEntry[] = [
  {
    repo: 'timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k',
    file: 'model.safetensors',
    name: 'ViT-Ti/16 (timm, AugReg IN-21k → IN-1k)',
    bytes: 22_883_344,
    parameters: 5_717_416,
    imageSize: 224,
    normalization: HALF,
    classes: 1000,
    licence: 'Apache-2.0',
  },
  {
    repo: 'timm/vit_small_patch16_224.augreg_in21k_ft_in1k',
    file: 'model.safetensors',
    name: 'ViT-S/16 (timm, AugReg IN-21k → IN-1k)',
    bytes: 88_216_496,
    parameters: 22_050_664,
    imageSize: 224,
    normalization: HALF,
    classes: 1000,
    licence: 'Apache-2.0',
  },
  {
    repo: 'timm/vit_base_patch16_224.augreg2_in21k_ft_in1k',
    file: 'model.safetensors',
    name: 'ViT-B/16 (timm, AugReg2 IN-21k → IN-1k)',
    bytes: 346_284_720,
    parameters: 86_567_656,
    imageSize: 224,
    normalization: HALF,
    classes: 1000,
    licence: 'Apache-2.0',
  },
  {
    repo: 'google/vit-base-patch16-224',
    file: 'model.safetensors',
    name: 'ViT-B/16 (Google, IN-21k → IN-1k)',
    bytes: 346_293_856,
    parameters: 86_567_656,
    imageSize: 224,
    normalization: HALF,
    classes: 1000,
    classNames: IN1K_NAMES,
    licence: 'Apache-2.0',
  },
  {
    repo: 'google/vit-base-patch16-224-in21k',
    file: 'model.safetensors',
    name: 'ViT-B/16 (Google, IN-21k, no head)',
    bytes: 345_579_424,
    parameters: 86_389_248,
    imageSize: 224,
    normalization: HALF,
    classes: 0,
    licence: 'Apache-2.0',
  },
  {
    repo: 'facebook/deit-tiny-patch16-224',
    file: 'model.safetensors',
    name: 'DeiT-Ti/16 (Facebook, IN-1k)',
    bytes: 22_892_424,
    parameters: 5_717_416,
    imageSize: 224,
    normalization: IMAGENET,
    classes: 1000,
    classNames: IN1K_NAMES,
    licence: 'Apache-2.0',
  },
  {
    repo: 'facebook/deit-small-patch16-224',
    file: 'model.safetensors',
    name: 'DeiT-S/16 (Facebook, IN-1k)',
    bytes: 88_225_584,
    parameters: 22_050_664,
    imageSize: 224,
    normalization: IMAGENET,
    classes: 1000,
    classNames: IN1K_NAMES,
    licence: 'Apache-2.0',
  },
  {
    repo: 'facebook/deit-base-patch16-224',
    file: 'model.safetensors',
    name: 'DeiT-B/16 (Facebook, IN-1k)',
    bytes: 346_293_856,
    parameters: 86_567_656,
    imageSize: 224,
    normalization: IMAGENET,
    classes: 1000,
    classNames: IN1K_NAMES,
    licence: 'Apache-2.0',
  },
  {
    repo: 'openai/clip-vit-base-patch16',
    file: 'model.safetensors',
    name: 'CLIP ViT-B/16 (OpenAI, image tower)',
    bytes: 598_530_372,
    parameters: 149_620_737,
    imageSize: 224,
    normalization: OPENAI_CLIP,
    classes: 0,
    licence: 'MIT',
    imageTower: true,
  },
  {
    repo: 'timm/vit_base_patch16_clip_224.openai',
    file: 'model.safetensors',
    name: 'CLIP ViT-B/16 (OpenAI, timm)',
    bytes: 344_786_776,
    parameters: 86_193_152,
    imageSize: 224,
    normalization: OPENAI_CLIP,
    classes: 512,
    licence: 'MIT',
  },
  {
    repo: 'facebook/dinov2-small',
    file: 'model.safetensors',
    name: 'DINOv2 ViT-S/14 (Meta)',
    bytes: 88_249_960,
    parameters: 22_056_576,
    imageSize: 518,
    normalization: IMAGENET,
    classes: 0,
    licence: 'Apache-2.0',
  },
  {
    repo: 'facebook/dinov2-base',
    file: 'model.safetensors',
    name: 'DINOv2 ViT-B/14 (Meta)',
    bytes: 346_345_912,
    parameters: 86_580_480,
    imageSize: 518,
    normalization: IMAGENET,
    classes: 0,
    licence: 'Apache-2.0',
  },
  {
    repo: 'facebook/dinov2-with-registers-small',
    file: 'model.safetensors',
    name: 'DINOv2 ViT-S/14, 4 registers (Meta)',
    bytes: 88_256_200,
    parameters: 22_058_112,
    imageSize: 518,
    normalization: IMAGENET,
    classes: 0,
    licence: 'Apache-2.0',
  },
  {
    repo: 'facebook/dinov2-with-registers-base',
    file: 'model.safetensors',
    name: 'DINOv2 ViT-B/14, 4 registers (Meta)',
    bytes: 346_358_296,
    parameters: 86_583_552,
    imageSize: 518,
    normalization: IMAGENET,
    classes: 0,
    licence: 'Apache-2.0',
  },
  {
    repo: 'timm/vit_small_patch14_dinov2.lvd142m',
    file: 'model.safetensors',
    name: 'DINOv2 ViT-S/14 (timm)',
    bytes: 88_240_512,
    parameters: 22_056_192,
    imageSize: 518,
    normalization: IMAGENET,
    classes: 0,
    licence: 'Apache-2.0',
  },
  {
    repo: 'timm/vit_base_patch14_dinov2.lvd142m',
    file: 'model.safetensors',
    name: 'DINOv2 ViT-B/14 (timm)',
    bytes: 346_334_872,
    parameters: 86_579_712,
    imageSize: 518,
    normalization: IMAGENET,
    classes: 0,
    licence: 'Apache-2.0',
  },
  {
    repo: 'timm/vit_small_patch14_reg4_dinov2.lvd142m',
    file: 'model.safetensors',
    name: 'DINOv2 ViT-S/14, 4 registers (timm)',
    bytes: 88_245_200,
    parameters: 22_057_344,
    imageSize: 518,
    normalization: IMAGENET,
    classes: 0,
    licence: 'Apache-2.0',
  },
  {
    repo: 'timm/vit_base_patch14_reg4_dinov2.lvd142m',
    file: 'model.safetensors',
    name: 'DINOv2 ViT-B/14, 4 registers (timm)',
    bytes: 346_344_168,
    parameters: 86_582_016,
    imageSize: 518,
    normalization: IMAGENET,
    classes: 0,
    licence: 'Apache-2.0',
  },
];

const DEIT_SIZES = ['tiny', 'small', 'base'] as const;
/** DeiT widths: Ti 192, S 384, B 768. */
const DEIT_DIMS: Record<number, (typeof DEIT_SIZES)[number]> = { 192: 'tiny', 384: 'small', 768: 'base' };

/**
 * Why a distilled DeiT (a class token and a distillation token, each with its head) is refused, and
 * which zoo model to take instead: the DeiT of the same size trained without distillation. `size` is
 * a width (a tensor's) or a size name (a repository's); anything else names all three.
 */
export function distilledDeitAdvice(size: number | string): string {
  const name = typeof size === 'number' ? DEIT_DIMS[size] : DEIT_SIZES.find((s) => s === size);
  const pick = (name ? [name] : DEIT_SIZES).map((s) => `hub:facebook/deit-${s}-patch16-224`).join(', ');
  return (
    'a distilled DeiT has a distillation token and a second head beside the class token, which this ViT does not have: ' +
    `take the DeiT of the same size trained without distillation, ${pick} (timm's deit_${name ?? '<size>'}_patch16_224)`
  );
}

/** The zoo entry of `repo`, or an error that says what to pick instead. */
export function zooEntry(repo: string): ZooEntry {
  const entry = ZOO.find((e) => e.repo === repo);
  if (entry) return entry;
  const distilled = /deit[-_](tiny|small|base)[-_]distilled/i.exec(repo);
  if (distilled) throw new CheckpointError(distilledDeitAdvice(distilled[1].toLowerCase()));
  throw new CheckpointError(`there is no zoo model '${repo}'; the zoo has ${ZOO.map((e) => e.repo).join(', ')}`);
}

/** The Hub's address of a file on a repository's main branch (huggingface.co answers it with a
 *  redirect to its CDN for large files). */
export function hubFileUrl(hub: string, repo: string, file: string): string {
  return `${hub.replace(/\/+$/, '')}/${repo}/resolve/main/${encodeURIComponent(file)}`;
}
