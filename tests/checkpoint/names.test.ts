// Name maps: tiny random checkpoints written by hand in each convention go through safetensors
// bytes, detection, config inference, validation, the canonical names and back, bit for bit.
import { describe, expect, it } from 'vitest';
import { fromCanonical, toCanonical } from '../../src/checkpoint/convert.ts';
import { detectNaming } from '../../src/checkpoint/detect.ts';
import { configMetadata, inferConfig } from '../../src/checkpoint/infer-config.ts';
import { canonicalShapes, checkpointShapes, type Naming } from '../../src/checkpoint/name-tables.ts';
import { validateCheckpoint } from '../../src/checkpoint/validate.ts';
import {
  CheckpointError,
  parseSafetensors,
  writeSafetensors,
  type StoredTensor,
} from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { configFromHfJson, type CheckpointConfig } from '../../src/checkpoint/checkpoint-config.ts';
import { normal } from '../helpers/random.ts';

// D = 8, heads 2, M = 12, C = 3, P = 4, image 8: a 2 x 2 grid, N = 5 tokens.
const tiny: CheckpointConfig = {
  imageSize: 8,
  patchSize: 4,
  channels: 3,
  dim: 8,
  depth: 2,
  heads: 2,
  mlpDim: 12,
  numClasses: 3,
  layerNormEps: 1e-6,
};

type Names = [string, number[]][];

function torchvision(): Names {
  const names: Names = [
    ['conv_proj.weight', [8, 3, 4, 4]],
    ['conv_proj.bias', [8]],
    ['class_token', [1, 1, 8]],
    ['encoder.pos_embedding', [1, 5, 8]],
  ];
  for (const i of [0, 1]) {
    const p = `encoder.layers.encoder_layer_${i}.`;
    names.push(
      [`${p}ln_1.weight`, [8]],
      [`${p}ln_1.bias`, [8]],
      [`${p}self_attention.in_proj_weight`, [24, 8]],
      [`${p}self_attention.in_proj_bias`, [24]],
      [`${p}self_attention.out_proj.weight`, [8, 8]],
      [`${p}self_attention.out_proj.bias`, [8]],
      [`${p}ln_2.weight`, [8]],
      [`${p}ln_2.bias`, [8]],
      [`${p}mlp.0.weight`, [12, 8]],
      [`${p}mlp.0.bias`, [12]],
      [`${p}mlp.3.weight`, [8, 12]],
      [`${p}mlp.3.bias`, [8]],
    );
  }
  names.push(
    ['encoder.ln.weight', [8]],
    ['encoder.ln.bias', [8]],
    ['heads.head.weight', [3, 8]],
    ['heads.head.bias', [3]],
  );
  return names;
}

function timm(): Names {
  const names: Names = [
    ['cls_token', [1, 1, 8]],
    ['pos_embed', [1, 5, 8]],
    ['patch_embed.proj.weight', [8, 3, 4, 4]],
    ['patch_embed.proj.bias', [8]],
  ];
  for (const i of [0, 1]) {
    const p = `blocks.${i}.`;
    names.push(
      [`${p}norm1.weight`, [8]],
      [`${p}norm1.bias`, [8]],
      [`${p}attn.qkv.weight`, [24, 8]],
      [`${p}attn.qkv.bias`, [24]],
      [`${p}attn.proj.weight`, [8, 8]],
      [`${p}attn.proj.bias`, [8]],
      [`${p}norm2.weight`, [8]],
      [`${p}norm2.bias`, [8]],
      [`${p}mlp.fc1.weight`, [12, 8]],
      [`${p}mlp.fc1.bias`, [12]],
      [`${p}mlp.fc2.weight`, [8, 12]],
      [`${p}mlp.fc2.bias`, [8]],
    );
  }
  names.push(['norm.weight', [8]], ['norm.bias', [8]], ['head.weight', [3, 8]], ['head.bias', [3]]);
  return names;
}

function hf(prefix = 'vit.', classifier = true): Names {
  const e = `${prefix}embeddings.`;
  const names: Names = [
    [`${e}cls_token`, [1, 1, 8]],
    [`${e}position_embeddings`, [1, 5, 8]],
    [`${e}patch_embeddings.projection.weight`, [8, 3, 4, 4]],
    [`${e}patch_embeddings.projection.bias`, [8]],
  ];
  for (const i of [0, 1]) {
    const p = `${prefix}encoder.layer.${i}.`;
    names.push(
      [`${p}attention.attention.query.weight`, [8, 8]],
      [`${p}attention.attention.query.bias`, [8]],
      [`${p}attention.attention.key.weight`, [8, 8]],
      [`${p}attention.attention.key.bias`, [8]],
      [`${p}attention.attention.value.weight`, [8, 8]],
      [`${p}attention.attention.value.bias`, [8]],
      [`${p}attention.output.dense.weight`, [8, 8]],
      [`${p}attention.output.dense.bias`, [8]],
      [`${p}intermediate.dense.weight`, [12, 8]],
      [`${p}intermediate.dense.bias`, [12]],
      [`${p}output.dense.weight`, [8, 12]],
      [`${p}output.dense.bias`, [8]],
      [`${p}layernorm_before.weight`, [8]],
      [`${p}layernorm_before.bias`, [8]],
      [`${p}layernorm_after.weight`, [8]],
      [`${p}layernorm_after.bias`, [8]],
    );
  }
  names.push([`${prefix}layernorm.weight`, [8]], [`${prefix}layernorm.bias`, [8]]);
  if (classifier) names.push(['classifier.weight', [3, 8]], ['classifier.bias', [3]]);
  return names;
}

function randomTensors(names: Names): Map<string, HostTensor> {
  return new Map(
    names.map(([name, shape], i) => [
      name,
      {
        shape,
        data: Float32Array.from(
          normal(
            shape.reduce((a, b) => a * b, 1),
            100 + i,
          ),
        ),
      },
    ]),
  );
}

/** Tensors with the right shapes and no data: enough for everything that reads only shapes. */
function shapesOnly(shapes: Map<string, number[]>): Map<string, HostTensor> {
  return new Map([...shapes].map(([name, shape]) => [name, { shape, data: new Float32Array(0) }]));
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function expectSameTensors(
  actual: ReadonlyMap<string, StoredTensor | HostTensor>,
  expected: ReadonlyMap<string, HostTensor>,
): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, t] of expected) {
    const a = actual.get(name)!;
    expect(a.shape, name).toEqual(t.shape);
    expect(bits(a.data as Float32Array), name).toEqual(bits(t.data));
  }
}

function expectError(f: () => unknown, message: string): void {
  expect(f).toThrowError(CheckpointError);
  expect(f).toThrowError(message);
}

// Where each canonical tensor must come from: the checkpoint names stacked into it.
// The plain-ViT conventions; CLIP's and DINOv2's are in families.test.ts.
type Plain = Exclude<Naming, 'hf-clip' | 'hf-dinov2'>;

const sources: Record<Plain, Record<string, string[]>> = {
  torchvision: {
    cls: ['class_token'],
    pos: ['encoder.pos_embedding'],
    'blocks.1.qkv.bias': ['encoder.layers.encoder_layer_1.self_attention.in_proj_bias'],
    'blocks.0.fc2.weight': ['encoder.layers.encoder_layer_0.mlp.3.weight'],
    'head.weight': ['heads.head.weight'],
  },
  timm: {
    cls: ['cls_token'],
    'patch.weight': ['patch_embed.proj.weight'],
    'blocks.1.proj.weight': ['blocks.1.attn.proj.weight'],
    'norm.bias': ['norm.bias'],
  },
  hf: {
    pos: ['vit.embeddings.position_embeddings'],
    'blocks.1.qkv.weight': ['query', 'key', 'value'].map((p) => `vit.encoder.layer.1.attention.attention.${p}.weight`),
    'blocks.0.qkv.bias': ['query', 'key', 'value'].map((p) => `vit.encoder.layer.0.attention.attention.${p}.bias`),
    'blocks.0.ln2.weight': ['vit.encoder.layer.0.layernorm_after.weight'],
    'head.bias': ['classifier.bias'],
  },
};

const fixtures: Record<Plain, () => Names> = { torchvision, timm, hf: () => hf() };

describe('round trips', () => {
  for (const naming of ['torchvision', 'timm', 'hf'] as const) {
    it(naming, () => {
      const original = randomTensors(fixtures[naming]());
      const { tensors } = parseSafetensors(writeSafetensors(original));
      expectSameTensors(tensors, original);
      expect(detectNaming(tensors.keys())).toBe(naming);

      const eps = naming === 'hf' ? 1e-12 : 1e-6;
      const config = inferConfig(tensors, naming, { heads: 2 });
      expect(config).toEqual({ ...tiny, layerNormEps: eps });
      validateCheckpoint(tensors, naming, config);

      const canonical = toCanonical(tensors, naming);
      const shapes = canonicalShapes(config);
      expect([...canonical.keys()]).toEqual([...shapes.keys()]);
      for (const [name, shape] of shapes) expect(canonical.get(name)!.shape, name).toEqual(shape);
      for (const [name, parts] of Object.entries(sources[naming])) {
        const stacked = parts.flatMap((p) => bits(original.get(p)!.data));
        expect(bits(canonical.get(name)!.data), name).toEqual(stacked);
      }

      const back = fromCanonical(canonical, naming);
      expectSameTensors(back, original);
      expectSameTensors(parseSafetensors(writeSafetensors(back)).tensors, original);
    });
  }

  it('canonical shapes in each convention are those of the hand-written names', () => {
    for (const naming of ['torchvision', 'timm', 'hf'] as const) {
      const written = new Map(fixtures[naming]());
      const shapes = checkpointShapes(tiny, naming);
      expect([...shapes.keys()].sort()).toEqual([...written.keys()].sort());
      for (const [name, shape] of shapes) expect(shape, name).toEqual(written.get(name));
    }
  });

  it('between conventions: torchvision -> canonical -> timm and HF -> canonical -> torchvision', () => {
    const original = randomTensors(torchvision());
    const viaTimm = toCanonical(fromCanonical(toCanonical(original, 'torchvision'), 'timm'), 'timm');
    const viaHf = toCanonical(fromCanonical(viaTimm, 'hf'), 'hf');
    expectSameTensors(fromCanonical(viaHf, 'torchvision'), original);
  });
});

describe('HF ViTModel without "vit." and a pooler', () => {
  const names = [...hf('', false), ['pooler.dense.weight', [8, 8]], ['pooler.dense.bias', [8]]] as Names;
  const tensors = randomTensors(names);

  it('is detected, validated without a head, and saved as ViTForImageClassification', () => {
    expect(detectNaming(tensors.keys())).toBe('hf');
    const config = inferConfig(tensors, 'hf', { heads: 2, numClasses: 10 });
    expect(config).toEqual({ ...tiny, numClasses: 10, layerNormEps: 1e-12 });
    validateCheckpoint(tensors, 'hf', config);
    const canonical = toCanonical(tensors, 'hf');
    expect(canonical.has('head.weight')).toBe(false);
    expect(canonical.size).toBe(canonicalShapes(config).size - 2);
    const saved = fromCanonical(canonical, 'hf');
    expect(saved.has('vit.embeddings.cls_token')).toBe(true);
    expect(bits(saved.get('vit.encoder.layer.1.output.dense.bias')!.data)).toEqual(
      bits(tensors.get('encoder.layer.1.output.dense.bias')!.data),
    );
  });

  it('validates against the config of its config.json', () => {
    const { config } = configFromHfJson({
      model_type: 'vit',
      hidden_size: 8,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 12,
      image_size: 8,
      patch_size: 4,
      num_channels: 3,
      layer_norm_eps: 1e-12,
      hidden_act: 'gelu',
      qkv_bias: true,
    });
    validateCheckpoint(tensors, 'hf', config);
  });
});

describe('config inference', () => {
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

  it('takes heads = dim / 64 when nothing says otherwise (ViT-B/16, every convention)', () => {
    for (const naming of ['torchvision', 'timm', 'hf'] as const) {
      const tensors = shapesOnly(checkpointShapes(vitB, naming));
      expect(inferConfig(tensors, naming)).toEqual({ ...vitB, layerNormEps: naming === 'hf' ? 1e-12 : 1e-6 });
    }
  });

  it('reads image size 448 from a 785-token position embedding', () => {
    const big = { ...vitB, imageSize: 448 };
    expect(inferConfig(shapesOnly(checkpointShapes(big, 'timm')), 'timm')).toEqual(big);
  });

  it('reads heads and eps from the metadata, and options win over it', () => {
    const config = { ...tiny, heads: 4, layerNormEps: 1e-5 };
    const { tensors, metadata } = parseSafetensors(
      writeSafetensors(fromCanonical(toCanonical(randomTensors(timm()), 'timm'), 'timm'), {
        metadata: configMetadata(config),
      }),
    );
    expect(metadata).toEqual({ format: 'pt', num_attention_heads: '4', layer_norm_eps: '0.00001' });
    expect(inferConfig(tensors, 'timm', { metadata })).toEqual(config);
    expect(inferConfig(tensors, 'timm', { metadata, heads: 1, layerNormEps: 1e-3, numClasses: 7 })).toEqual({
      ...config,
      heads: 1,
      layerNormEps: 1e-3,
      numClasses: 7,
    });
  });

  it('explains what it cannot infer', () => {
    const tensors = randomTensors(timm());
    expectError(
      () => inferConfig(tensors, 'timm'),
      'the head count is not stored and dim 8 is not a multiple of 64; pass heads',
    );
    expectError(
      () => inferConfig(tensors, 'timm', { heads: 3 }),
      'invalid ViT config: dim 8 is not divisible by heads 3',
    );

    const noHead = new Map([...tensors].filter(([n]) => !n.startsWith('head.')));
    expectError(
      () => inferConfig(noHead, 'timm', { heads: 2 }),
      'no classifier head (head.weight) and no numClasses given',
    );

    const noPatch = new Map([...tensors].filter(([n]) => !n.startsWith('patch_embed.')));
    expectError(
      () => inferConfig(noPatch, 'timm', { heads: 2 }),
      'cannot infer the ViT config: patch_embed.proj.weight is missing',
    );

    const oddPos = new Map(tensors).set('pos_embed', { shape: [1, 6, 8], data: new Float32Array(48) });
    expectError(
      () => inferConfig(oddPos, 'timm', { heads: 2 }),
      'pos_embed: 6 rows are not a class token plus a square grid of patches',
    );

    expectError(
      () => inferConfig(shapesOnly(new Map([['cls_token', [1, 1, 8]]])), 'timm'),
      'no encoder blocks (names like blocks.0.*)',
    );
    expectError(
      () => inferConfig(tensors, 'timm', { heads: 2, metadata: { layer_norm_eps: 'small' } }),
      '__metadata__.layer_norm_eps: expected a number, got "small"',
    );
  });
});

describe('naming detection', () => {
  it('names a few of the names it saw when it knows none', () => {
    expectError(
      () => detectNaming(['model.conv1.weight', 'model.bn1.weight', 'model.fc.weight']),
      'unknown naming: no torchvision, timm, HF transformers ViT, CLIP or DINOv2 tensors among 3 names; saw model.conv1.weight, model.bn1.weight, model.fc.weight',
    );
    expectError(() => detectNaming([]), 'unknown naming');
  });

  it('refuses a mixture', () => {
    expectError(
      () => detectNaming(['class_token', 'cls_token']),
      'ambiguous naming: the names mix the torchvision and timm conventions',
    );
  });
});

describe('validation against a config', () => {
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
  const full = () => shapesOnly(checkpointShapes(vitB, 'torchvision'));

  it('names a tensor of the wrong shape', () => {
    const tensors = full().set('encoder.layers.encoder_layer_3.mlp.0.weight', {
      shape: [3072, 512],
      data: new Float32Array(0),
    });
    expectError(
      () => validateCheckpoint(tensors, 'torchvision', vitB),
      'encoder.layers.encoder_layer_3.mlp.0.weight: expected [3072, 768], got [3072, 512]',
    );
  });

  it('lists missing and unexpected tensors, every problem at once', () => {
    const tensors = full();
    tensors.delete('encoder.layers.encoder_layer_11.ln_2.bias');
    tensors.delete('conv_proj.bias');
    tensors.set('heads.pre_logits.weight', { shape: [768, 768], data: new Float32Array(0) });
    tensors.set('class_token', { shape: [1, 768], data: new Float32Array(0) });
    let message = '';
    try {
      validateCheckpoint(tensors, 'torchvision', vitB);
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      message = (e as Error).message;
    }
    expect(message).toBe(
      'torchvision checkpoint does not fit ViT image 224 patch 16 dim 768 depth 12 heads 12 mlp 3072 classes 1000:\n' +
        '  class_token: expected [1, 1, 768], got [1, 768]\n' +
        '  missing: conv_proj.bias, encoder.layers.encoder_layer_11.ln_2.bias\n' +
        '  unexpected: heads.pre_logits.weight',
    );
  });

  it('allows a missing head, but not half of one', () => {
    const tensors = full();
    tensors.delete('heads.head.weight');
    tensors.delete('heads.head.bias');
    validateCheckpoint(tensors, 'torchvision', vitB);
    tensors.set('heads.head.bias', { shape: [1000], data: new Float32Array(0) });
    expectError(() => validateCheckpoint(tensors, 'torchvision', vitB), 'missing: heads.head.weight');
  });

  it('wants floats', () => {
    const tensors: Map<string, StoredTensor | HostTensor> = full();
    tensors.set('conv_proj.bias', { dtype: 'I64', shape: [768], data: new BigInt64Array(768) });
    expectError(
      () => validateCheckpoint(tensors, 'torchvision', vitB),
      'conv_proj.bias: expected a floating-point tensor, got I64',
    );
    expectError(() => toCanonical(tensors, 'torchvision'), 'conv_proj.bias: expected a floating-point tensor, got I64');
  });
});

describe('mapping errors', () => {
  it('toCanonical refuses unexpected names', () => {
    const tensors = randomTensors(timm()).set('blocks.0.attn.q_norm.weight', { shape: [4], data: new Float32Array(4) });
    expectError(
      () => toCanonical(tensors, 'timm'),
      'unexpected tensors in a timm checkpoint: blocks.0.attn.q_norm.weight',
    );
  });

  it('toCanonical needs all of q, k and v', () => {
    const tensors = randomTensors(hf());
    tensors.delete('vit.encoder.layer.1.attention.attention.value.weight');
    expectError(
      () => toCanonical(tensors, 'hf'),
      'blocks.1.qkv.weight: missing vit.encoder.layer.1.attention.attention.value.weight',
    );
  });

  it('toCanonical checks the leading 1-dims of the class token and position embedding', () => {
    const tensors = randomTensors(torchvision()).set('class_token', { shape: [2, 4], data: new Float32Array(8) });
    expectError(
      () => toCanonical(tensors, 'torchvision'),
      'class_token: expected 2 leading dimensions of size 1, got [2, 4]',
    );
  });

  it('fromCanonical refuses names that are not canonical', () => {
    const canonical = toCanonical(randomTensors(timm()), 'timm').set('blocks.0.gamma', {
      shape: [8],
      data: new Float32Array(8),
    });
    expectError(() => fromCanonical(canonical, 'torchvision'), 'not canonical ViT tensor names: blocks.0.gamma');
  });

  it('fromCanonical splits only what splits into q, k, v', () => {
    const canonical = new Map([['blocks.0.qkv.bias', { shape: [10], data: new Float32Array(10) }]]);
    expectError(() => fromCanonical(canonical, 'hf'), 'blocks.0.qkv.bias: [10] does not split into 3 along dim 0');
  });
});
