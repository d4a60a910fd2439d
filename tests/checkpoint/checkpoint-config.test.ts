// The ViT config: its checks, the sizes that follow from it, and HF config.json.
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/checkpoint/safetensors.ts';
import { checkConfig, configFromHfJson, type CheckpointConfig } from '../../src/checkpoint/checkpoint-config.ts';
import { vitDims } from '../../src/nn/vit-arch.ts';

const vitB: CheckpointConfig = {
  imageSize: 224,
  patchSize: 16,
  channels: 3,
  dim: 768,
  depth: 12,
  heads: 12,
  mlpDim: 3072,
  numClasses: 1000,
  layerNormEps: 1e-6,
};

function expectError(f: () => unknown, message: string): void {
  expect(f).toThrowError(CheckpointError);
  expect(f).toThrowError(message);
}

describe('checkConfig', () => {
  it('accepts ViT-B/16', () => {
    expect(checkConfig(vitB)).toBe(vitB);
  });

  it('needs dim divisible by heads and imageSize by patchSize', () => {
    expectError(() => checkConfig({ ...vitB, heads: 10 }), 'invalid ViT config: dim 768 is not divisible by heads 10');
    expectError(
      () => checkConfig({ ...vitB, imageSize: 200 }),
      'invalid ViT config: imageSize 200 is not divisible by patchSize 16',
    );
  });

  it('needs positive integers, RGB and a positive eps, and lists every problem', () => {
    expectError(
      () => checkConfig({ ...vitB, depth: 0, mlpDim: 3072.5, channels: 1, layerNormEps: 0 }),
      'invalid ViT config: depth must be a positive integer, got 0; mlpDim must be a positive integer, got 3072.5; ' +
        'layerNormEps must be a positive number, got 0; channels must be 3 (RGB), got 1',
    );
  });
});

describe('vitDims', () => {
  it('ViT-B/16 at 224 and 448 pixels', () => {
    expect(vitDims(vitB)).toMatchObject({ P: 196, N: 197, hd: 64, K: 768 });
    expect(vitDims({ ...vitB, imageSize: 448 })).toMatchObject({ P: 784, N: 785, hd: 64 });
  });
});

describe('configFromHfJson', () => {
  // The fields of google/vit-base-patch16-224's config.json, with 3 of its 1000 labels.
  const json = {
    architectures: ['ViTForImageClassification'],
    attention_probs_dropout_prob: 0.0,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.0,
    hidden_size: 768,
    id2label: { '0': 'tench, Tinca tinca', '1': 'goldfish, Carassius auratus', '2': 'great white shark' },
    label2id: { 'tench, Tinca tinca': 0, 'goldfish, Carassius auratus': 1, 'great white shark': 2 },
    image_size: 224,
    initializer_range: 0.02,
    intermediate_size: 3072,
    layer_norm_eps: 1e-12,
    model_type: 'vit',
    num_attention_heads: 12,
    num_channels: 3,
    num_hidden_layers: 12,
    patch_size: 16,
    qkv_bias: true,
  };

  it('maps every field, labels in id order', () => {
    expect(configFromHfJson(json)).toEqual({
      config: { ...vitB, numClasses: 3, layerNormEps: 1e-12 },
      labels: ['tench, Tinca tinca', 'goldfish, Carassius auratus', 'great white shark'],
    });
  });

  it("takes transformers' defaults for absent fields", () => {
    expect(configFromHfJson({})).toEqual({ config: { ...vitB, numClasses: 2, layerNormEps: 1e-12 } });
    expect(configFromHfJson({ num_labels: 10, image_size: [384, 384] }).config).toMatchObject({
      numClasses: 10,
      imageSize: 384,
    });
  });

  it('refuses what the engine cannot run', () => {
    expectError(
      () => configFromHfJson({ ...json, hidden_act: 'gelu_new' }),
      'config.json: hidden_act must be "gelu" or "quick_gelu", got "gelu_new"',
    );
    expectError(
      () => configFromHfJson({ ...json, model_type: 'deit' }),
      'config.json: model_type must be one of "vit", "clip", "clip_vision_model", "dinov2", "dinov2_with_registers", got "deit"',
    );
    expectError(() => configFromHfJson({ ...json, qkv_bias: false }), 'config.json: qkv_bias must be true');
    expectError(
      () => configFromHfJson({ ...json, hidden_size: '768' }),
      'config.json: hidden_size must be an integer, got "768"',
    );
    expectError(
      () => configFromHfJson({ ...json, image_size: [224, 160] }),
      'config.json: image_size must be an integer or a square [n, n], got [224,160]',
    );
    expectError(
      () => configFromHfJson({ ...json, id2label: { '0': 'a', '2': 'c' } }),
      'config.json: id2label must be labels for the ids 0..1',
    );
    expectError(
      () => configFromHfJson({ ...json, num_attention_heads: 5 }),
      'invalid ViT config: dim 768 is not divisible by heads 5',
    );
    expectError(() => configFromHfJson([]), 'config.json: expected a JSON object');
  });
});
