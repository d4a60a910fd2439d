// Checkpoint files in the three namings: load, save, reload with no options, same
// weights and the same logits from the engine; another image size; a new head.
import { describe, expect, it } from 'vitest';
import { loadModelFile, saveModelFile } from '../../src/checkpoint/model-file.ts';
import { fromCanonical } from '../../src/checkpoint/convert.ts';
import type { Naming } from '../../src/checkpoint/name-tables.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';
import { canonicalTensors, engineLogits, randomVitWeights } from '../helpers/model.ts';
import { normal } from '../helpers/random.ts';

const config: VitArch = {
  imageSize: 16,
  patchSize: 8,
  dim: 32,
  depth: 2,
  heads: 2,
  mlpDim: 64,
  numClasses: 5,
  layerNormEps: 1e-6,
};

/** A file as a library would write it: `naming`'s tensor names, no metadata of ours. */
function foreignFile(naming: Naming, seed: number): { bytes: Uint8Array; canonical: Map<string, HostTensor> } {
  const canonical = canonicalTensors(config, randomVitWeights(config, seed));
  return { bytes: writeSafetensors(fromCanonical(canonical, naming)), canonical };
}

const asRecord = (m: Map<string, HostTensor>) => Object.fromEntries([...m].map(([k, v]) => [k, v.data]));

describe('model files', () => {
  for (const naming of ['torchvision', 'timm', 'hf'] as const) {
    it(`${naming}: load, save, reload with no options, same logits`, async () => {
      const { bytes, canonical } = foreignFile(naming, 10);
      const first = loadModelFile(bytes, { heads: 2, layerNormEps: 1e-6 });
      expect(first.naming).toBe(naming);
      expect(first.config).toEqual({ ...config, channels: 3 });
      expect(first.changes).toEqual([]);
      for (const [name, t] of canonical) expect(first.weights.get(name)?.data, name).toEqual(t.data);

      const saved = saveModelFile({
        ...first,
        classNames: ['a', 'b', 'c', 'd', 'e'],
        normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      });
      const again = loadModelFile(saved);
      expect(again.naming).toBe(naming);
      expect(again.config).toEqual(first.config);
      expect(again.classNames).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(again.normalization).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });

      const images = normal(2 * 3 * config.imageSize ** 2, 3);
      const [a, b] = [
        await engineLogits(config, 2, asRecord(first.weights), images),
        await engineLogits(config, 2, asRecord(again.weights), images),
      ];
      expect(b).toEqual(a);
      expect(a.every(Number.isFinite)).toBe(true);
    });
  }

  it('resizes the position embedding for another image size, keeping the class token', () => {
    const { bytes, canonical } = foreignFile('torchvision', 20);
    const m = loadModelFile(bytes, { imageSize: 32, heads: 2 });
    expect(m.config.imageSize).toBe(32);
    expect(m.weights.get('pos')!.shape).toEqual([17, 32]);
    expect(m.weights.get('pos')!.data.subarray(0, 32)).toEqual(canonical.get('pos')!.data.subarray(0, 32));
    expect(m.changes).toEqual(['position embedding resized from 16 px to 32 px']);
  });

  it('replaces the head for another number of classes, like nn.Linear initialises one', () => {
    const m = loadModelFile(foreignFile('timm', 30).bytes, { numClasses: 7, seed: 1, heads: 2 });
    expect(m.config.numClasses).toBe(7);
    expect(m.weights.get('head.weight')!.shape).toEqual([7, 32]);
    const bound = 1 / Math.sqrt(32);
    expect(Math.max(...m.weights.get('head.weight')!.data.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(m.changes).toEqual(['new 7-class head']);
  });

  it('replaces the head for other classes of the same number, and keeps it for the same classes', () => {
    const { bytes } = foreignFile('timm', 31);
    const named = saveModelFile({ ...loadModelFile(bytes, { heads: 2 }), classNames: ['a', 'b', 'c', 'd', 'e'] });
    const same = loadModelFile(named, { numClasses: 5, classNames: ['a', 'b', 'c', 'd', 'e'] });
    expect(same.changes).toEqual([]);
    const other = loadModelFile(named, { numClasses: 5, classNames: ['0', '1', '2', '3', '4'], seed: 2 });
    expect(other.changes).toEqual(['new 5-class head']);
    expect(other.classNames).toEqual(['0', '1', '2', '3', '4']);
    expect(other.weights.get('head.weight')!.data).not.toEqual(same.weights.get('head.weight')!.data);
  });

  it('refuses a headless file without a number of classes, and accepts it with one', () => {
    const canonical = foreignFile('hf', 40).canonical;
    canonical.delete('head.weight');
    canonical.delete('head.bias');
    const bytes = writeSafetensors(fromCanonical(canonical, 'hf'));
    expect(() => loadModelFile(bytes)).toThrow(/no classifier head \(classifier\.weight\) and no numClasses given/);
    expect(loadModelFile(bytes, { numClasses: 4, heads: 2 }).config.numClasses).toBe(4);
  });
});
