// The built-in models (public/models/): their metadata, and their accuracy on real test images of
// the data they were pretrained on (the 1,000 of the built-in pack's test/ folder, the first 100 of
// each class of the original test set) through `stochca eval`, named as links name them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { parseSafetensors } from '../../src/checkpoint/safetensors.ts';
import { BUILTIN_MODELS } from '../../src/train/builtins.ts';
import { stochca } from '../helpers/cli.ts';

/** Each model's classes in ImageFolder order (sorted folder names), its output order, and the floor of
 *  its accuracy on its pack's test images. The floors sit under what was measured when the files were
 *  made (see their records, experiments/pretrain-fmnist and experiments/pretrain-mnist: 86.8 % and
 *  97.8 %): room for float rounding across adapters, not for a different model. */
const EXPECTED: Record<string, { pack: string; classes: string[]; floor: number }> = {
  'vit-fmnist': {
    pack: 'fashion-mnist',
    classes: ['Ankle boot', 'Bag', 'Coat', 'Dress', 'Pullover', 'Sandal', 'Shirt', 'Sneaker', 'T-shirt_top', 'Trouser'],
    floor: 0.84,
  },
  'vit-mnist': { pack: 'mnist', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], floor: 0.97 },
};

describe('the built-in models', () => {
  it('are the ones this test knows', () => {
    expect(Object.keys(BUILTIN_MODELS).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  describe.each(Object.entries(EXPECTED))('%s', (id, want) => {
    const path = `public/${BUILTIN_MODELS[id].file}`;

    it('carries its config, class names and normalisation, and is small', () => {
      const bytes = readFileSync(path);
      expect(bytes.length).toBeLessThan(4 * 2 ** 20);
      const { metadata } = parseSafetensors(bytes);
      expect(Object.keys(metadata)).toEqual(
        expect.arrayContaining(['stochca_config', 'stochca_class_names', 'stochca_normalization']),
      );
      const model = loadModelFile(bytes);
      expect(model.config).toMatchObject({
        imageSize: 28,
        patchSize: 7,
        dim: 64,
        depth: 4,
        heads: 4,
        mlpDim: 128,
        numClasses: 10,
      });
      expect(model.classNames).toEqual(want.classes);
      expect(model.normalization?.mean).toHaveLength(3);
      expect(model.changes).toEqual([]);
    });

    it(`classifies real test images of its pretraining data above ${100 * want.floor} %`, async () => {
      // By the references links and `train` use: builtin:ID and pack:ID.
      const r = await stochca(
        'eval',
        '--model',
        `builtin:${id}`,
        '--data',
        `pack:${want.pack}`,
        '--split',
        'test',
        '--json',
      );
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout);
      console.log(`${id}: ${(100 * report.accuracy).toFixed(2)} % on ${report.count} test images of pack:${want.pack}`);
      expect(report.data).toBe(`pack:${want.pack}`);
      expect(report.count).toBe(1000);
      expect(report.accuracy).toBeGreaterThan(want.floor);
    });
  });
});
