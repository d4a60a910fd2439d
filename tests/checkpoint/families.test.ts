// CLIP's image tower and DINOv2 (with and without registers) in HF's and timm's names, written by hand
// from transformers' and timm's modules at a tiny size: detection, the architecture features from the
// tensors and config.json, the canonical tensors and back bit for bit, what is left unused, and the
// position embedding resized as transformers' DINOv2 does (bicubic, antialiased, align_corners=False).
import { describe, expect, it } from 'vitest';
import { fromCanonical, toCanonical } from '../../src/checkpoint/convert.ts';
import { detectNaming, unusedTensors } from '../../src/checkpoint/detect.ts';
import { inferConfig } from '../../src/checkpoint/infer-config.ts';
import { loadModelFile, saveModelFile } from '../../src/checkpoint/model-file.ts';
import { canonicalShapes, checkpointShapes, type Naming } from '../../src/checkpoint/name-tables.ts';
import { parseSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { configFromHfJson } from '../../src/checkpoint/checkpoint-config.ts';
import { resizePosEmbedding, type ResizeOptions } from '../../src/checkpoint/resize.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { normal } from '../helpers/random.ts';
import { block, hfClipLayer, hfDinov2Layer, timmLayer, type Names } from '../helpers/vit-family-names.ts';

// D = 8, M = 12, patch 4, image 8 (a 2 x 2 grid), depth 2, 2 registers.
const D = 8;
const M = 12;

// transformers' CLIPModel: CLIPVisionTransformer under vision_model., beside a text tower.
function hfClip(text = true): Names {
  const v = 'vision_model.';
  const names: Names = [
    [`${v}embeddings.class_embedding`, [D]],
    [`${v}embeddings.patch_embedding.weight`, [D, 3, 4, 4]],
    [`${v}embeddings.position_embedding.weight`, [5, D]],
    [`${v}pre_layrnorm.weight`, [D]],
    [`${v}pre_layrnorm.bias`, [D]],
  ];
  const layer = (p: string, d: number, m: number) => block(p, hfClipLayer(d, m));
  for (const i of [0, 1]) names.push(...layer(`${v}encoder.layers.${i}.`, D, M));
  names.push([`${v}post_layernorm.weight`, [D]], [`${v}post_layernorm.bias`, [D]]);
  if (text) {
    names.push(
      ['text_model.embeddings.token_embedding.weight', [10, 4]],
      ['text_model.embeddings.position_embedding.weight', [6, 4]],
      ...layer('text_model.encoder.layers.0.', 4, 6),
      ['text_model.final_layer_norm.weight', [4]],
      ['text_model.final_layer_norm.bias', [4]],
      ['visual_projection.weight', [3, D]],
      ['text_projection.weight', [3, 4]],
      ['logit_scale', []],
    );
  }
  return names;
}

// transformers' Dinov2Model / Dinov2WithRegistersModel.
function hfDinov2(registers = 2): Names {
  const names: Names = [
    ['embeddings.cls_token', [1, 1, D]],
    ['embeddings.mask_token', [1, D]],
    ...(registers ? ([['embeddings.register_tokens', [1, registers, D]]] as Names) : []),
    ['embeddings.position_embeddings', [1, 5, D]],
    ['embeddings.patch_embeddings.projection.weight', [D, 3, 4, 4]],
    ['embeddings.patch_embeddings.projection.bias', [D]],
  ];
  for (const i of [0, 1]) names.push(...block(`encoder.layer.${i}.`, hfDinov2Layer(D, M)));
  names.push(['layernorm.weight', [D]], ['layernorm.bias', [D]]);
  return names;
}

// timm's VisionTransformer: CLIP (pre_norm, no patch bias, a head) or DINOv2 (init_values: ls1, ls2;
// with registers: reg_token and no_embed_class, a pos_embed of the patches alone).
function timm(kind: 'clip' | 'dinov2' | 'dinov2-reg'): Names {
  const clip = kind === 'clip';
  const reg = kind === 'dinov2-reg';
  const names: Names = [
    ['cls_token', [1, 1, D]],
    ...(reg ? ([['reg_token', [1, 2, D]]] as Names) : []),
    ['pos_embed', [1, reg ? 4 : 5, D]],
    ['patch_embed.proj.weight', [D, 3, 4, 4]],
    ...(clip
      ? ([
          ['norm_pre.weight', [D]],
          ['norm_pre.bias', [D]],
        ] as Names)
      : ([['patch_embed.proj.bias', [D]]] as Names)),
  ];
  for (const i of [0, 1]) names.push(...block(`blocks.${i}.`, timmLayer(D, M, !clip)));
  names.push(['norm.weight', [D]], ['norm.bias', [D]]);
  if (clip) names.push(['head.weight', [3, D]], ['head.bias', [3]]);
  return names;
}

function randomTensors(names: Names, seed = 7): Map<string, HostTensor> {
  return new Map(
    names.map(([name, shape], i) => [
      name,
      {
        shape,
        data: Float32Array.from(
          normal(
            shape.reduce((a, b) => a * b, 1),
            seed + i,
          ),
        ),
      },
    ]),
  );
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const cases: { name: string; naming: Naming; names: () => Names; features: object; used: (n: string) => boolean }[] = [
  {
    name: "HF's CLIPModel",
    naming: 'hf-clip',
    names: hfClip,
    features: { preNorm: true, activation: 'quick-gelu', patchBias: false, layerNormEps: 1e-5 },
    used: (n) => n.startsWith('vision_model.'),
  },
  {
    name: "HF's Dinov2WithRegistersModel",
    naming: 'hf-dinov2',
    names: hfDinov2,
    features: { layerScale: true, registers: 2, layerNormEps: 1e-6 },
    used: (n) => n !== 'embeddings.mask_token',
  },
  {
    name: "HF's Dinov2Model",
    naming: 'hf-dinov2',
    names: () => hfDinov2(0),
    features: { layerScale: true, layerNormEps: 1e-6 },
    used: (n) => n !== 'embeddings.mask_token',
  },
  {
    name: "timm's CLIP",
    naming: 'timm',
    names: () => timm('clip'),
    features: { preNorm: true, patchBias: false, layerNormEps: 1e-6 },
    used: () => true,
  },
  {
    name: "timm's DINOv2",
    naming: 'timm',
    names: () => timm('dinov2'),
    features: { layerScale: true, layerNormEps: 1e-6 },
    used: () => true,
  },
  {
    name: "timm's DINOv2 with registers",
    naming: 'timm',
    names: () => timm('dinov2-reg'),
    // no_embed_class: the class token's position is not a parameter of its own (see below).
    features: { layerScale: true, registers: 2, classPosition: false, layerNormEps: 1e-6 },
    used: () => true,
  },
];

describe('CLIP and DINOv2 names', () => {
  for (const c of cases) {
    it(`${c.name}: detected, its features read from its tensors, to canonical and back bit for bit`, () => {
      const original = randomTensors(c.names());
      const { tensors } = parseSafetensors(writeSafetensors(original));
      expect(detectNaming(tensors.keys())).toBe(c.naming);
      const config = inferConfig(tensors, c.naming, { heads: 2, numClasses: 3 });
      expect(config).toEqual({
        imageSize: 8,
        patchSize: 4,
        channels: 3,
        dim: D,
        depth: 2,
        heads: 2,
        mlpDim: M,
        numClasses: 3,
        ...c.features,
      });
      const used = new Map([...original].filter(([n]) => c.used(n)));
      // The names the tables expect of this config are the hand-written ones (a head where the file has one).
      const expected = checkpointShapes(config, c.naming);
      const head = c.naming === 'timm' ? /^head\./ : /^classifier\./;
      for (const [name, t] of used) expect(expected.get(name), name).toEqual(t.shape);
      expect([...expected.keys()].filter((n) => !used.has(n) && !head.test(n))).toEqual([]);

      const canonical = toCanonical(tensors, c.naming);
      const shapes = canonicalShapes({ ...config });
      for (const [name, t] of canonical) expect(t.shape, name).toEqual(shapes.get(name));
      const back = fromCanonical(canonical, c.naming);
      expect([...back.keys()].sort()).toEqual([...used.keys()].sort());
      for (const [name, t] of used) expect(bits(back.get(name)!.data), name).toEqual(bits(t.data));
    });
  }

  it("timm's register models: the class position is in cls_token, the engine's pos row 0 is zero (and not trained), saving adds it back", () => {
    const original = randomTensors(timm('dinov2-reg'));
    const canonical = toCanonical(original, 'timm');
    const pos = canonical.get('pos')!;
    expect(pos.shape).toEqual([5, D]);
    expect([...pos.data.subarray(0, D)]).toEqual(new Array(D).fill(0));
    expect(bits(pos.data.subarray(D))).toEqual(bits(original.get('pos_embed')!.data));
    expect(bits(canonical.get('cls')!.data)).toEqual(bits(original.get('cls_token')!.data));
    // A trained class position folds into the class token on the way out.
    pos.data.fill(0.5, 0, D);
    const back = fromCanonical(canonical, 'timm');
    expect([...back.get('cls_token')!.data]).toEqual(
      [...original.get('cls_token')!.data].map((v) => Math.fround(v + 0.5)),
    );
    expect(back.get('pos_embed')!.shape).toEqual([1, 4, D]);
  });

  it("names once what it leaves unused: CLIP's text tower, DINOv2's mask token", () => {
    expect(
      unusedTensors(
        hfClip().map(([n]) => n),
        'hf-clip',
      ),
    ).toBe(
      'logit_scale, text_model.* (20 tensors), text_projection.weight, visual_projection.weight left unused ' +
        "(CLIP's text tower, projections and index buffers: only the image tower is read)",
    );
    expect(
      unusedTensors(['vision_model.embeddings.position_ids', 'vision_model.pre_layrnorm.weight'], 'hf-clip'),
    ).toMatch(/^vision_model\.embeddings\.position_ids left unused/);
    expect(
      unusedTensors(
        hfDinov2().map(([n]) => n),
        'hf-dinov2',
      ),
    ).toBe("embeddings.mask_token left unused (DINOv2's mask token, used only in its pretraining)");
    expect(
      unusedTensors(
        hfClip(false).map(([n]) => n),
        'hf-clip',
      ),
    ).toBeUndefined();
  });

  it('reads the config.json of a CLIP, a CLIP vision model and a DINOv2 with registers', () => {
    const vision = {
      hidden_act: 'quick_gelu',
      hidden_size: 768,
      image_size: 224,
      intermediate_size: 3072,
      layer_norm_eps: 1e-5,
      model_type: 'clip_vision_model',
      num_attention_heads: 12,
      num_hidden_layers: 12,
      patch_size: 16,
    };
    const clip = { imageSize: 224, patchSize: 16, dim: 768, depth: 12, heads: 12, mlpDim: 3072, layerNormEps: 1e-5 };
    const features = { preNorm: true, activation: 'quick-gelu', patchBias: false };
    expect(configFromHfJson({ model_type: 'clip', vision_config: vision }).config).toMatchObject({
      ...clip,
      ...features,
    });
    expect(configFromHfJson(vision).config).toMatchObject({ ...clip, ...features });
    expect(() => configFromHfJson({ ...vision, hidden_act: 'gelu_pytorch_tanh' })).toThrow(
      'config.json: hidden_act must be "gelu" or "quick_gelu", got "gelu_pytorch_tanh"',
    );
    const dinov2 = {
      hidden_act: 'gelu',
      hidden_size: 384,
      image_size: 518,
      layer_norm_eps: 1e-6,
      mlp_ratio: 4,
      model_type: 'dinov2_with_registers',
      num_attention_heads: 6,
      num_hidden_layers: 12,
      num_register_tokens: 4,
      patch_size: 14,
    };
    expect(configFromHfJson(dinov2).config).toMatchObject({
      imageSize: 518,
      patchSize: 14,
      dim: 384,
      mlpDim: 1536,
      heads: 6,
      layerNormEps: 1e-6,
      layerScale: true,
      registers: 4,
    });
    expect(configFromHfJson({ ...dinov2, model_type: 'dinov2' }).config.registers).toBeUndefined();
    expect(() => configFromHfJson({ ...dinov2, use_swiglu_ffn: true })).toThrow('use_swiglu_ffn must be false');
  });
});

describe("DINOv2's 518 px grid at 224 px", () => {
  it("resizes 37 x 37 to 16 x 16 as transformers' DINOv2 does (bicubic, antialiased), the class row kept aside", () => {
    const names = hfDinov2().map(([n, s]): [string, number[]] =>
      n === 'embeddings.position_embeddings'
        ? [n, [1, 1 + 37 * 37, D]]
        : n === 'embeddings.patch_embeddings.projection.weight'
          ? [n, [D, 3, 14, 14]]
          : [n, s],
    );
    const original = randomTensors(names, 11);
    const file = writeSafetensors(original);
    const dinov2 = { model_type: 'dinov2_with_registers', hidden_size: D, num_attention_heads: 2, mlp_ratio: 1.5 };
    const model = loadModelFile(file, { hfConfig: dinov2, imageSize: 224, numClasses: 3 });
    expect(model.config).toMatchObject({ imageSize: 224, patchSize: 14, registers: 2, layerScale: true });
    expect(model.changes).toContain('position embedding resized from 518 px to 224 px');
    const pos = model.weights.get('pos')!;
    expect(pos.shape).toEqual([1 + 16 * 16, D]);

    const stored = original.get('embeddings.position_embeddings')!.data;
    expect(bits(pos.data.subarray(0, D))).toEqual(bits(stored.subarray(0, D)));
    // Each mode of resizePosEmbedding is PyTorch's interpolate (tests/torch/resize.test.ts).
    const as = (options: ResizeOptions) => resizePosEmbedding({ shape: [1 + 37 * 37, D], data: stored }, 16, options);
    expect(bits(pos.data)).toEqual(bits(as({ alignCorners: false, antialias: true }).data));
    expect(bits(pos.data)).not.toEqual(bits(as({ alignCorners: false }).data));

    // Saved and reloaded, the resized model keeps its registers, LayerScale and names.
    const again = loadModelFile(saveModelFile(model));
    expect(again.naming).toBe('hf-dinov2');
    expect(again.config).toEqual(model.config);
  });
});
