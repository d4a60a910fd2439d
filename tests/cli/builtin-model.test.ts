// The built-in model the page loads by default (public/models/vit-fmnist.safetensors): its metadata,
// and its accuracy on real Fashion-MNIST test images (the 1,000 of the built-in pack's test/ folder,
// the first 100 of each class of the original test set) through `stochca eval`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { parseSafetensors } from '../../src/checkpoint/safetensors.ts';
import { stochca } from '../helpers/cli.ts';

const MODEL = 'public/models/vit-fmnist.safetensors';
/** Fashion-MNIST's classes in ImageFolder order (sorted folder names), the model's output order. */
const FASHION = ['Ankle boot', 'Bag', 'Coat', 'Dress', 'Pullover', 'Sandal', 'Shirt', 'Sneaker', 'T-shirt_top', 'Trouser'];
/** 86.8 % was measured on these 1,000 images when the file was made (see the README); the floor leaves
 *  room for float rounding across adapters, not for a different model. */
const ACCURACY_FLOOR = 0.84;

describe('the built-in model', () => {
  it('carries its config, class names and normalisation, and is small', () => {
    const bytes = readFileSync(MODEL);
    expect(bytes.length).toBeLessThan(4 * 2 ** 20);
    const { metadata } = parseSafetensors(bytes);
    expect(Object.keys(metadata)).toEqual(expect.arrayContaining(['stochca_config', 'stochca_class_names', 'stochca_normalization']));
    const model = loadModelFile(bytes);
    expect(model.config).toMatchObject({ imageSize: 28, patchSize: 7, dim: 64, depth: 4, heads: 4, mlpDim: 128, numClasses: 10 });
    expect(model.classNames).toEqual(FASHION);
    expect(model.normalization?.mean).toHaveLength(3);
    expect(model.changes).toEqual([]);
  });

  it(`classifies real Fashion-MNIST test images above ${100 * ACCURACY_FLOOR} %`, async () => {
    const r = await stochca('eval', '--model', MODEL, '--data', 'public/packs/fashion-mnist.zip', '--split', 'test', '--json');
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    console.log(`built-in model: ${(100 * report.accuracy).toFixed(2)} % on ${report.count} Fashion-MNIST test images`);
    expect(report.count).toBe(1000);
    expect(report.accuracy).toBeGreaterThan(ACCURACY_FLOOR);
  });
});
