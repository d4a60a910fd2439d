// ViT-Ti/16 at 224 px and photo-sized images, for the tests at the scale of the models the
// playground is for: real digits of the built-in MNIST pack, resized to 256×256 JPEGs.
import { openAsBlob } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { zipTree } from '../../src/data/zip-source.ts';
import { makeFolder, type Files } from '../data/fixtures.ts';
import { stochca } from './cli.ts';

/** `stochca init`'s flags for ViT-Ti/16 (timm's vit_tiny_patch16_224, 10 classes). */
const VIT_TI16 = [
  '--image-size',
  '224',
  '--patch',
  '16',
  '--dim',
  '192',
  '--depth',
  '12',
  '--heads',
  '3',
  '--mlp',
  '768',
  '--classes',
  '10',
];

/** Writes a ViT-Ti/16 initialised from scratch by `stochca init` to `dir`; returns its path. */
export async function initVitTi16(dir: string): Promise<string> {
  const out = join(dir, 'vit-ti16-224.safetensors');
  const r = await stochca('init', '--out', out, ...VIT_TI16, '--seed', '0');
  if (r.code !== 0) throw new Error(`stochca init failed: ${r.stderr}`);
  return out;
}

/** A folder `digits/<label>/<i>.jpg`: the first `perClass` training images of each label of the
 *  MNIST pack, 256×256 JPEGs (the size of a photo resized for a 224-px model); returns `digits`. */
export async function mnistPhotos(labels: string[], perClass: number): Promise<string> {
  const tree = await zipTree(await openAsBlob('public/packs/mnist.zip'), 'mnist.zip');
  const files: Files = {};
  const taken = new Map<string, number>();
  for (const entry of [...tree.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const [split, label] = entry.path.split('/');
    const n = taken.get(label) ?? 0;
    if (split !== 'train' || !labels.includes(label) || n >= perClass) continue;
    taken.set(label, n + 1);
    files[`digits/${label}/${n}.jpg`] = new Uint8Array(
      await sharp(await entry.read())
        .resize(256, 256)
        .jpeg()
        .toBuffer(),
    );
  }
  return join(await makeFolder(files), 'digits');
}
