// The models and datasets that ship with the playground, by the ids that links and experiment files
// use (`builtin:<id>`, `pack:<id>`). Paths are relative to the site root, which is the checkout's
// public/ folder for the command line. The packs' own list is public/packs/index.json.

export const BUILTIN_MODELS: Record<string, { file: string; name: string }> = {
  'vit-fmnist': { file: 'models/vit-fmnist.safetensors', name: 'ViT pretrained on Fashion-MNIST (built in)' },
  'vit-mnist': { file: 'models/vit-mnist.safetensors', name: 'ViT pretrained on MNIST (built in)' },
};

/** A built-in pack as public/packs/index.json lists it. */
export interface PackInfo {
  id: string;
  name: string;
  file: string;
  bytes: number;
  classes: string[];
  /** Images per split; `val` where the pack has a val/ folder (else validation is drawn from train/). */
  counts: { train: number; val?: number; test: number };
  /** The images' width and height in pixels, as stored (a run resizes them to the model's input). */
  imageSize: number;
  description: string;
  source: string;
  license: string;
}

export const PACK_INDEX = 'packs/index.json';

/** The built-in model of `id`, looked up by own property only (`constructor` is no model). */
export const builtinModel = (id: string) => (Object.hasOwn(BUILTIN_MODELS, id) ? BUILTIN_MODELS[id] : undefined);
