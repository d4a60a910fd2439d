// The model zoo against the Hub's files: for every entry, a file of random weights with exactly the
// tensor names, shapes and dtypes the repository's file has (tests/fixtures/zoo/), loaded through the
// loader with the repository's config.json, gives the entry's architecture, classes, class names and
// normalisation, and folds into a file that reloads alone (as the page keeps it). A distilled DeiT is
// refused by name, saying which model to take instead.
import { describe, expect, it } from 'vitest';
import { loadModelFile, saveModelFile } from '../../src/checkpoint/model-file.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { hubFileUrl, ZOO, zooEntry } from '../../src/checkpoint/zoo.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { measured } from '../helpers/measure.ts';
import { fixtureParameters, zooFixture, zooWeights } from '../helpers/zoo-files.ts';

/** Which model family an entry is, by its repository's name. */
const familyOf = (repo: string) => (/clip/.test(repo) ? 'clip' : /dinov2/.test(repo) ? 'dinov2' : 'vit');

const POOLER =
  "pooler.dense.bias, pooler.dense.weight left unused (a ViTModel's pooler: the classifier reads the class token)";
const MASK_TOKEN = "embeddings.mask_token left unused (DINOv2's mask token, used only in its pretraining)";
/** What each file holds that the model does not read, and the load's word on it. */
const leftOut: Record<string, { pattern: RegExp; change: string } | undefined> = {
  'google/vit-base-patch16-224-in21k': { pattern: /^pooler\./, change: POOLER },
  'openai/clip-vit-base-patch16': {
    pattern: /^(text_model\.|text_projection|visual_projection|logit_scale)/,
    change:
      'logit_scale, text_model.* (196 tensors), text_projection.weight, visual_projection.weight left unused ' +
      "(CLIP's text tower, projections and index buffers: only the image tower is read)",
  },
  ...Object.fromEntries(
    ['small', 'base', 'with-registers-small', 'with-registers-base'].map((s) => [
      `facebook/dinov2-${s}`,
      { pattern: /^embeddings\.mask_token$/, change: MASK_TOKEN },
    ]),
  ),
};

const count = (m: Map<string, HostTensor>) => [...m.values()].reduce((n, t) => n + t.data.length, 0);
/** A task of 10 classes, for the file without a head. */
const TASK = Array.from({ length: 10 }, (_, i) => `class ${i}`);

describe('the model zoo', () => {
  for (const entry of ZOO) {
    it(`${entry.repo}: the Hub's names and shapes load with its config.json`, async () => {
      const fixture = zooFixture(entry.repo);
      expect(fixture.repo).toBe(entry.repo);
      expect(fixture.file).toBe(entry.file);
      expect(fixtureParameters(fixture)).toBe(entry.parameters);
      const bytes = zooWeights(fixture);
      expect(bytes.length).toBe(entry.bytes);

      // As the page's model panel first loads it, before it knows the task.
      const { ms, result: model } = await measured(() =>
        loadModelFile(bytes, { hfConfig: fixture.config, normalization: entry.normalization, headOptional: true }),
      );
      console.log(
        `${entry.repo}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB loaded in ${ms.toFixed(0)} ms; changes: ${model.changes.join('; ') || 'none'}`,
      );
      // The architecture as the fixture's tensors and config.json say it, read here without the loader.
      const shape = (pattern: RegExp) =>
        fixture.tensors[Object.keys(fixture.tensors).find((n) => pattern.test(n))!].shape;
      const [dim, , patchSize] = shape(/(patch_embed\.proj|patch_embedding|patch_embeddings\.projection)\.weight$/);
      const family = familyOf(entry.repo);
      expect(model.naming).toBe(
        entry.repo.startsWith('timm/') ? 'timm' : { vit: 'hf', clip: 'hf-clip', dinov2: 'hf-dinov2' }[family],
      );
      expect(model.config).toMatchObject({
        imageSize: entry.imageSize,
        patchSize,
        dim,
        depth: 12,
        heads: dim / 64,
        mlpDim: 4 * dim,
        channels: 3,
        layerNormEps: family === 'clip' ? 1e-5 : family === 'dinov2' || entry.repo.startsWith('timm/') ? 1e-6 : 1e-12,
      });
      expect(model.config.preNorm).toBe(family === 'clip' || undefined);
      expect(model.config.activation).toBe(family === 'clip' ? 'quick-gelu' : undefined);
      expect(model.config.patchBias).toBe(family === 'clip' ? false : undefined);
      expect(model.config.layerScale).toBe(family === 'dinov2' || undefined);
      expect(model.config.registers).toBe(/reg4|registers/.test(entry.repo) ? 4 : undefined);
      expect(model.normalization).toEqual(entry.normalization);
      if (entry.classNames) {
        expect(model.classNames).toHaveLength(entry.classes);
        expect(model.classNames?.[0]).toBe('tench, Tinca tinca');
      } else expect(model.classNames).toBeUndefined();

      const left = leftOut[entry.repo];
      const unusedParameters = Object.entries(fixture.tensors)
        .filter(([n]) => left?.pattern.test(n))
        .reduce((sum, [, t]) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
      // timm's register models keep no class row in pos_embed; the engine's pos has one (zero).
      const classRow = /^timm\/.*reg4/.test(entry.repo) ? dim : 0;
      if (entry.classes) {
        expect(model.config.numClasses).toBe(entry.classes);
        expect(model.changes).toEqual(left ? [left.change] : []);
        expect(count(model.weights)).toBe(entry.parameters - unusedParameters);
      } else {
        // No head, which a run makes of its task's classes; the tensors of another use left out.
        expect(model.changes).toEqual([
          ...(left ? [left.change] : []),
          'no classifier head in the file: a run makes one of its classes',
        ]);
        expect(model.weights.has('head.weight')).toBe(false);
        expect(count(model.weights)).toBe(entry.parameters - unusedParameters + classRow);
        const task = loadModelFile(bytes, {
          hfConfig: fixture.config,
          normalization: entry.normalization,
          numClasses: TASK.length,
          classNames: TASK,
        });
        expect(task.config.numClasses).toBe(10);
        expect(task.changes.at(-1)).toBe('new 10-class head');
        expect(count(task.weights)).toBe(entry.parameters - unusedParameters + classRow + (dim * 10 + 10));
        // Evaluation, inference and gradients need a head: they do not make one up.
        const head = entry.repo.startsWith('timm/') ? 'head.weight' : 'classifier.weight';
        expect(() => loadModelFile(bytes, { hfConfig: fixture.config })).toThrow(
          `cannot infer the ViT config: no classifier head (${head}) and no numClasses given`,
        );
      }

      // As the page keeps it: config.json and normalisation folded into the file's metadata.
      const again = loadModelFile(saveModelFile(model), { headOptional: true });
      expect(again.config).toEqual(model.config);
      expect(again.normalization).toEqual(entry.normalization);
      expect(again.classNames).toEqual(model.classNames);
    });
  }

  it("timm's config.json alone gives timm's normalisation", () => {
    for (const entry of ZOO.filter((e) => e.repo.startsWith('timm/'))) {
      const fixture = zooFixture(entry.repo);
      const model = loadModelFile(zooWeights(fixture), { hfConfig: fixture.config, headOptional: true });
      expect(model.normalization, entry.repo).toEqual(entry.normalization);
    }
  });

  it('names the Hub address of a file, on huggingface.co or a mirror', () => {
    expect(hubFileUrl('https://huggingface.co', 'facebook/deit-tiny-patch16-224', 'model.safetensors')).toBe(
      'https://huggingface.co/facebook/deit-tiny-patch16-224/resolve/main/model.safetensors',
    );
    expect(hubFileUrl('https://hf-mirror.com/', 'timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k', 'config.json')).toBe(
      'https://hf-mirror.com/timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k/resolve/main/config.json',
    );
  });
});

describe('distilled DeiTs', () => {
  const D = 192;
  const t = (...shape: number[]): HostTensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

  it("refuses timm's, by its dist_token, naming the DeiT of the same size to take", () => {
    const file = writeSafetensors(
      new Map([
        ['cls_token', t(1, 1, D)],
        ['dist_token', t(1, 1, D)],
        ['pos_embed', t(1, 198, D)],
        ['patch_embed.proj.weight', t(D, 3, 16, 16)],
        ['head.weight', t(1000, D)],
        ['head_dist.weight', t(1000, D)],
      ]),
    );
    expect(() => loadModelFile(file)).toThrow(
      /^dist_token: a distilled DeiT .* take the DeiT of the same size trained without distillation, hub:facebook\/deit-tiny-patch16-224 \(timm's deit_tiny_patch16_224\)$/,
    );
  });

  it("refuses HF's, by deit.embeddings.distillation_token", () => {
    const file = writeSafetensors(
      new Map([
        ['deit.embeddings.cls_token', t(1, 1, 384)],
        ['deit.embeddings.distillation_token', t(1, 1, 384)],
        ['deit.embeddings.position_embeddings', t(1, 198, 384)],
        ['cls_classifier.weight', t(1000, 384)],
        ['distillation_classifier.weight', t(1000, 384)],
      ]),
    );
    expect(() => loadModelFile(file)).toThrow(
      /^deit\.embeddings\.distillation_token: a distilled DeiT .*hub:facebook\/deit-small-patch16-224/,
    );
  });

  it('refuses one named from the zoo or by its timm config.json', () => {
    expect(() => zooEntry('facebook/deit-base-distilled-patch16-224')).toThrow(
      /^a distilled DeiT .*hub:facebook\/deit-base-patch16-224 /,
    );
    expect(() => zooEntry('timm/nope')).toThrow(
      /^there is no zoo model 'timm\/nope'; the zoo has timm\/vit_tiny_patch16_224/,
    );
    const fixture = zooFixture('timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k');
    const config = { ...(fixture.config as object), architecture: 'deit_tiny_distilled_patch16_224' };
    expect(() => loadModelFile(zooWeights(fixture), { hfConfig: config })).toThrow(
      /^config\.json: deit_tiny_distilled_patch16_224: a distilled DeiT .*hub:facebook\/deit-tiny-patch16-224/,
    );
  });
});
