// CLIP's image tower and DINOv2 with registers end to end through the command line, against PyTorch
// references written here from the published architectures (transformers' modeling_clip and
// modeling_dinov2_with_registers, timm's VisionTransformer with reg_tokens and no_embed_class), not
// from the engine or train.py: random weights under the real names and shape relations (head dim 64,
// MLP 4·D) at depth 2 and a small image, with a 3-class head beside them as the engine saves one. Each
// file's `stochca infer` logits and `stochca attention` class-token maps are the reference's to 1e-4,
// and `stochca grad` of a StochCA step (the teacher the same weights, the student's queries over the
// teacher's K/V in block 1) is the reference's autograd to 1e-3. Skipped where torch is missing.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { readNpy, writeNpy } from '../../src/cli/npy.ts';
import { stochcaWithEnv } from '../helpers/cli.ts';
import { expectClose } from '../helpers/compare.ts';
import { block, hfClipLayer, hfDinov2Layer, timmLayer, type Names } from '../helpers/vit-family-names.ts';
import { normal } from '../helpers/random.ts';
import { python, torchMissing } from '../helpers/torch.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-families-'));
// ViT-B's head dim and MLP ratio at 2 heads; 2 blocks; 3 classes; 2 images.
const D = 128;
const M = 4 * D;
const HEADS = 2;
const C = 3;
const B = 2;
const LABELS = [2, 0];
const MASK = '10';

const blocks = (prefix: (i: number) => string, names: Record<string, number[]>): Names =>
  [0, 1].flatMap((i) => block(prefix(i), names));

// transformers' CLIPVisionModel (ViT-B/16's names) at 32 px: 2 × 2 patches.
function hfClip(): Names {
  const v = 'vision_model.';
  return [
    [`${v}embeddings.class_embedding`, [D]],
    [`${v}embeddings.patch_embedding.weight`, [D, 3, 16, 16]],
    [`${v}embeddings.position_embedding.weight`, [5, D]],
    [`${v}pre_layrnorm.weight`, [D]],
    [`${v}pre_layrnorm.bias`, [D]],
    ...blocks((i) => `${v}encoder.layers.${i}.`, hfClipLayer(D, M)),
    [`${v}post_layernorm.weight`, [D]],
    [`${v}post_layernorm.bias`, [D]],
    ['classifier.weight', [C, D]],
    ['classifier.bias', [C]],
  ];
}

// transformers' Dinov2WithRegistersModel (ViT-S/14 reg's names, 4 registers) at 28 px: 2 × 2 patches.
function hfDinov2(): Names {
  return [
    ['embeddings.cls_token', [1, 1, D]],
    ['embeddings.mask_token', [1, D]],
    ['embeddings.register_tokens', [1, 4, D]],
    ['embeddings.position_embeddings', [1, 5, D]],
    ['embeddings.patch_embeddings.projection.weight', [D, 3, 14, 14]],
    ['embeddings.patch_embeddings.projection.bias', [D]],
    ...blocks((i) => `encoder.layer.${i}.`, hfDinov2Layer(D, M)),
    ['layernorm.weight', [D]],
    ['layernorm.bias', [D]],
    ['classifier.weight', [C, D]],
    ['classifier.bias', [C]],
  ];
}

// timm's vit_small_patch14_reg4_dinov2 names (reg_token; no_embed_class: pos_embed of the patches alone)
// at 28 px, with its head.
function timmDinov2(): Names {
  return [
    ['cls_token', [1, 1, D]],
    ['reg_token', [1, 4, D]],
    ['pos_embed', [1, 4, D]],
    ['patch_embed.proj.weight', [D, 3, 14, 14]],
    ['patch_embed.proj.bias', [D]],
    ...blocks((i) => `blocks.${i}.`, timmLayer(D, M, true)),
    ['norm.weight', [D]],
    ['norm.bias', [D]],
    ['head.weight', [C, D]],
    ['head.bias', [C]],
  ];
}

/** Weights at a trained model's scales: matrices ~N(0, 1/fan_in), LayerNorm and LayerScale near 1,
 *  biases and tokens small, so that the attention is neither uniform nor one-hot. */
function randomWeights(names: Names, seed: number): Map<string, HostTensor> {
  return new Map(
    names.map(([name, shape], k) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const fanIn = n / shape[0];
      const near1 = /(norm\d?|layrnorm|layer_norm\d|layernorm)\.weight$|lambda1$|gamma$/.test(name);
      const token = /token|class_embedding|pos_embed|position_embedding/.test(name);
      const std = shape.length >= 2 && !token ? fanIn ** -0.5 : 0.2;
      const data = Float32Array.from(normal(n, seed + k, std), (v) => (near1 ? 1 + v : v));
      return [name, { shape, data }];
    }),
  );
}

interface Family {
  name: string;
  /** The reference's architecture (the Python below). */
  kind: 'hf-clip' | 'hf-dinov2' | 'timm-dinov2';
  names: () => Names;
  imageSize: number;
  /** Tokens per image: class token, registers, patches. */
  tokens: number;
  /** What tells the engine the heads (and CLIP's activation and eps): a config.json, or --heads. */
  config?: object;
}

const families: Family[] = [
  {
    name: "CLIP ViT-B/16's image tower, HF names",
    kind: 'hf-clip',
    names: hfClip,
    imageSize: 32,
    tokens: 5,
    config: {
      model_type: 'clip_vision_model',
      hidden_size: D,
      intermediate_size: M,
      num_attention_heads: HEADS,
      num_hidden_layers: 2,
      image_size: 32,
      patch_size: 16,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
    },
  },
  {
    name: 'DINOv2 with 4 registers, HF names',
    kind: 'hf-dinov2',
    names: hfDinov2,
    imageSize: 28,
    tokens: 9,
    config: {
      model_type: 'dinov2_with_registers',
      hidden_size: D,
      mlp_ratio: 4,
      num_attention_heads: HEADS,
      num_hidden_layers: 2,
      num_register_tokens: 4,
      image_size: 28,
      patch_size: 14,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-6,
      layerscale_value: 1.0,
    },
  },
  { name: 'DINOv2 with 4 registers, timm names', kind: 'timm-dinov2', names: timmDinov2, imageSize: 28, tokens: 9 },
];

// The reference, from the published modules. Reads each family's safetensors file and x.npy itself,
// writes the labels as NumPy does (int64) and prints, per family, the logits, the class token's
// attention [B, depth, heads, tokens], the StochCA loss and autograd's gradients by the file's names.
const REFERENCE = String.raw`
import json, math, struct, sys
import numpy as np
import torch
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)

def read_safetensors(path):
    with open(path, 'rb') as f:
        b = f.read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', name
        s, e = t['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').astype(np.float64).reshape(t['shape']))
    return out

def heads_of(x, H):  # [B, N, D] -> [B, H, N, hd]
    B, N, D = x.shape
    return x.view(B, N, H, D // H).transpose(1, 2)

def attend(q, k, v, H):  # q, k, v [B, N, D] -> out [B, N, D], probabilities [B, H, N, N]
    q, k, v = heads_of(q, H), heads_of(k, H), heads_of(v, H)
    p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
    B, _, N, _ = q.shape
    return (p @ v).transpose(1, 2).reshape(B, N, -1), p

# modeling_clip: CLIPVisionEmbeddings, pre_layrnorm, CLIPEncoderLayer (QuickGELU), post_layernorm of the
# class token. kv: the teacher's (k, v) per block, or None. Returns logits, maps, each block's own (k, v).
def clip(w, x, H, kv):
    v = 'vision_model.'
    eps = 1e-5
    patches = F.conv2d(x, w[v + 'embeddings.patch_embedding.weight'], stride=16).flatten(2).transpose(1, 2)
    cls = w[v + 'embeddings.class_embedding'].expand(x.shape[0], 1, -1)
    h = torch.cat([cls, patches], 1) + w[v + 'embeddings.position_embedding.weight']
    ln = lambda t, p: F.layer_norm(t, t.shape[-1:], w[p + '.weight'], w[p + '.bias'], eps)
    lin = lambda t, p: F.linear(t, w[p + '.weight'], w[p + '.bias'])
    h = ln(h, v + 'pre_layrnorm')
    maps, own = [], []
    for i in range(2):
        p = v + 'encoder.layers.%d.' % i
        a = ln(h, p + 'layer_norm1')
        q, k, vv = lin(a, p + 'self_attn.q_proj'), lin(a, p + 'self_attn.k_proj'), lin(a, p + 'self_attn.v_proj')
        own.append((k, vv))
        if kv and kv[i]:
            k, vv = kv[i]
        o, prob = attend(q, k, vv, H)
        maps.append(prob[:, :, 0])
        h = h + lin(o, p + 'self_attn.out_proj')
        m = lin(ln(h, p + 'layer_norm2'), p + 'mlp.fc1')
        h = h + lin(m * torch.sigmoid(1.702 * m), p + 'mlp.fc2')
    pooled = ln(h[:, 0], v + 'post_layernorm')
    return lin(pooled, 'classifier'), maps, own

# modeling_dinov2_with_registers: patches + (cls, pos), the registers inserted after the class token,
# Dinov2Layer (LayerScale, exact GELU), the final layernorm, the classifier on the class token.
def dinov2_hf(w, x, H, kv):
    eps = 1e-6
    patches = F.conv2d(x, w['embeddings.patch_embeddings.projection.weight'], w['embeddings.patch_embeddings.projection.bias'], stride=14).flatten(2).transpose(1, 2)
    B = x.shape[0]
    h = torch.cat([w['embeddings.cls_token'].expand(B, -1, -1), patches], 1) + w['embeddings.position_embeddings']
    h = torch.cat([h[:, :1], w['embeddings.register_tokens'].expand(B, -1, -1), h[:, 1:]], 1)
    ln = lambda t, p: F.layer_norm(t, t.shape[-1:], w[p + '.weight'], w[p + '.bias'], eps)
    lin = lambda t, p: F.linear(t, w[p + '.weight'], w[p + '.bias'])
    maps, own = [], []
    for i in range(2):
        p = 'encoder.layer.%d.' % i
        a = ln(h, p + 'norm1')
        q, k, vv = (lin(a, p + 'attention.attention.' + n) for n in ('query', 'key', 'value'))
        own.append((k, vv))
        if kv and kv[i]:
            k, vv = kv[i]
        o, prob = attend(q, k, vv, H)
        maps.append(prob[:, :, 0])
        h = h + w[p + 'layer_scale1.lambda1'] * lin(o, p + 'attention.output.dense')
        m = F.gelu(lin(ln(h, p + 'norm2'), p + 'mlp.fc1'))
        h = h + w[p + 'layer_scale2.lambda1'] * lin(m, p + 'mlp.fc2')
    return lin(ln(h, 'layernorm')[:, 0], 'classifier'), maps, own

# timm's VisionTransformer(reg_tokens=4, no_embed_class=True, init_values): pos_embed on the patches,
# then [cls_token, reg_token, patches]; Block with fused qkv and ls1/ls2; norm; head on the class token.
def dinov2_timm(w, x, H, kv):
    eps = 1e-6
    patches = F.conv2d(x, w['patch_embed.proj.weight'], w['patch_embed.proj.bias'], stride=14).flatten(2).transpose(1, 2)
    B = x.shape[0]
    h = torch.cat([w['cls_token'].expand(B, -1, -1), w['reg_token'].expand(B, -1, -1), patches + w['pos_embed']], 1)
    ln = lambda t, p: F.layer_norm(t, t.shape[-1:], w[p + '.weight'], w[p + '.bias'], eps)
    lin = lambda t, p: F.linear(t, w[p + '.weight'], w[p + '.bias'])
    maps, own = [], []
    for i in range(2):
        p = 'blocks.%d.' % i
        q, k, vv = lin(ln(h, p + 'norm1'), p + 'attn.qkv').chunk(3, dim=-1)
        own.append((k, vv))
        if kv and kv[i]:
            k, vv = kv[i]
        o, prob = attend(q, k, vv, H)
        maps.append(prob[:, :, 0])
        h = h + w[p + 'ls1.gamma'] * lin(o, p + 'attn.proj')
        h = h + w[p + 'ls2.gamma'] * lin(F.gelu(lin(ln(h, p + 'norm2'), p + 'mlp.fc1')), p + 'mlp.fc2')
    return lin(ln(h, 'norm')[:, 0], 'head'), maps, own

MODELS = {'hf-clip': clip, 'hf-dinov2': dinov2_hf, 'timm-dinov2': dinov2_timm}

class Reads(dict):  # the weights, noting which the model reads
    def __init__(self, tensors):
        super().__init__(tensors)
        self.read = set()
    def __getitem__(self, name):
        self.read.add(name)
        return dict.__getitem__(self, name)

with open(sys.argv[1]) as f:
    job = json.load(f)
np.save(job['labels'], np.array(job['labelValues'], dtype=np.int64))
out = {}
for fam in job['families']:
    forward = MODELS[fam['kind']]
    w = read_safetensors(fam['model'])
    x = torch.from_numpy(np.load(fam['input']).astype(np.float64))
    H = job['heads']
    # The teacher: the same weights, frozen, its own self-attention; its K/V per block.
    with torch.no_grad():
        logits, maps, teacher_kv = forward(w, x, H, None)
    mask = [ch == '1' for ch in job['mask']]
    student = Reads({n: t.clone().requires_grad_(True) for n, t in w.items()})
    s_logits, _, _ = forward(student, x, H, [teacher_kv[i] if m else None for i, m in enumerate(mask)])
    loss = F.cross_entropy(s_logits, torch.tensor(job['labelValues']))
    loss.backward()
    out[fam['kind']] = {
        'logits': logits.flatten().tolist(),
        'maps': torch.stack(maps, 1).flatten().tolist(),  # [B, depth, H, N]
        'loss': loss.item(),
        # Zero where the graph has no path (the masked block's own k and v); None for what is never read.
        'grads': {n: (torch.zeros_like(t) if t.grad is None else t.grad).flatten().tolist() if n in student.read else None
                  for n, t in student.items()},
    }
print(json.dumps(out))
`;

interface Reference {
  logits: number[];
  maps: number[];
  loss: number;
  /** null: a tensor the model does not read (DINOv2's mask token). */
  grads: Record<string, number[] | null>;
}

const fileOf = (f: Family, what: string) => join(dir, `${f.kind}-${what}`);

describe.skipIf(torchMissing !== '')(`CLIP and DINOv2 through the command line${torchMissing}`, () => {
  let reference: Record<string, Reference>;
  const labels = join(dir, 'labels.npy');

  beforeAll(async () => {
    families.forEach((f, k) => {
      writeFileSync(fileOf(f, 'model.safetensors'), writeSafetensors(randomWeights(f.names(), 100 * (k + 1))));
      if (f.config) writeFileSync(fileOf(f, 'config.json'), JSON.stringify(f.config));
      const x = Float32Array.from(normal(B * 3 * f.imageSize ** 2, 7 + k));
      writeFileSync(fileOf(f, 'x.npy'), writeNpy(x, [B, 3, f.imageSize, f.imageSize]));
    });
    const job = join(dir, 'job.json');
    const script = join(dir, 'reference.py');
    writeFileSync(script, REFERENCE);
    const inputs = families.map((f) => ({
      kind: f.kind,
      model: fileOf(f, 'model.safetensors'),
      input: fileOf(f, 'x.npy'),
    }));
    writeFileSync(job, JSON.stringify({ families: inputs, heads: HEADS, mask: MASK, labels, labelValues: LABELS }));
    const r = await python([script, job]);
    expect(r.code, r.stderr).toBe(0);
    reference = JSON.parse(r.stdout);
  }, 300_000);

  describe.each(['cpu', 'gpu'] as const)('STOCHCA_LAYOUT=%s', (layout) => {
    for (const f of families) {
      const modelArgs = () => [
        '--model',
        fileOf(f, 'model.safetensors'),
        ...(f.config ? ['--config', fileOf(f, 'config.json')] : ['--heads', String(HEADS)]),
      ];
      const stochca = async (...args: string[]) => {
        const r = await stochcaWithEnv({ STOCHCA_LAYOUT: layout }, ...args);
        expect(r.code, r.stderr).toBe(0);
        return r;
      };

      it(`${f.name}: infer's logits and attention's class-token maps are the reference's`, async () => {
        const logits = join(dir, `${f.kind}-${layout}-logits.npy`);
        await stochca('infer', ...modelArgs(), '--input', fileOf(f, 'x.npy'), '--out', logits);
        const got = readNpy(readFileSync(logits));
        expect(got.shape).toEqual([B, C]);
        expectClose(got.data as Float32Array, reference[f.kind].logits, 1e-4, 'logits');

        const maps = join(dir, `${f.kind}-${layout}-attn.npy`);
        await stochca('attention', ...modelArgs(), '--input', fileOf(f, 'x.npy'), '--out', maps);
        const attn = readNpy(readFileSync(maps));
        expect(attn.shape).toEqual([B, 2, HEADS, f.tokens]);
        expectClose(attn.data as Float32Array, reference[f.kind].maps, 1e-4, 'maps');
      });

      it(`${f.name}: grad's loss and gradients of a StochCA step are autograd's`, async () => {
        const out = join(dir, `${f.kind}-${layout}-grads.safetensors`);
        const model = fileOf(f, 'model.safetensors');
        const r = await stochca(
          'grad',
          ...modelArgs(),
          '--teacher',
          model,
          '--input',
          fileOf(f, 'x.npy'),
          '--labels',
          labels,
          '--ca-mask',
          MASK,
          '--out',
          out,
        );
        const want = reference[f.kind];
        const loss = JSON.parse(r.stdout.trim().split('\n').at(-1)!).loss as number;
        expect(Math.abs(loss - want.loss) / want.loss, `loss ${loss} vs ${want.loss}`).toBeLessThan(1e-4);
        const grads = parseSafetensors(readFileSync(out)).tensors;
        const read = Object.entries(want.grads).filter((e): e is [string, number[]] => e[1] !== null);
        expect([...grads.keys()].sort()).toEqual(read.map(([n]) => n).sort());
        // Relative to each tensor's largest gradient, or to a thousandth of the largest of all where the
        // tensor's are smaller (the masked block's own k and v get none: exactly zero).
        const largest = (g: number[]) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const all = Math.max(...read.map(([, g]) => largest(g)));
        for (const [name, g] of read) {
          const got = grads.get(name)!;
          expect(got.shape, name).toEqual(f.names().find(([n]) => n === name)![1]);
          const data = got.data as Float32Array;
          const scale = Math.max(largest(g), 1e-3 * all);
          const err = g.reduce((m, v, i) => Math.max(m, Math.abs(data[i] - v)), 0);
          expect(err / scale, `${name}: ${Array.from(data.subarray(0, 3))} vs ${g.slice(0, 3)}`).toBeLessThan(1e-3);
        }
      });
    }
  });
});
