#!/usr/bin/env python3
"""A StochCA experiment exported from the StochCA Playground, on PyTorch.

The same run as the playground's engine (see README.md beside this file): the images of split.json, the
starting weights of model.safetensors, the StochCA mask of every step, the order of the images, their crops
and flips, the learning-rate schedule, AdamW and its parameter groups, the evaluations and the choice of the
best-validation weights; a linear probe (method 'linear-probe') trains the head alone, as the engine does,
with the rest frozen. Under torchrun it runs with DistributedDataParallel (NCCL on GPUs, Gloo on CPUs):
each process takes its share of the global batch, and every process draws the same mask.

    python3 train.py --data-root DATA [--out DIR] [--steps N] [--device cpu|cuda|cuda:K]
    torchrun --nproc_per_node N train.py --data-root DATA

Needs PyTorch (1.13 or newer) with NumPy and Pillow, which torchvision brings; nothing else.
"""
import argparse
import hashlib
import io
import json
import math
import os
import platform
import socket
import struct
import sys
import time
import traceback
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageOps

# ---------------------------------------------------------------------------------------------------
# Seeded draws, as the engine makes them (src/nn/rng.ts): mulberry32 and a hash of 32-bit words, in
# 32-bit arithmetic, so that a seed gives the same masks, epoch orders and crops here as there.

M32 = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M32


def seeded_rng(seed):
    s = seed & M32

    def draw():
        nonlocal s
        s = (s + 0x6D2B79F5) & M32
        t = imul(s ^ (s >> 15), s | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return draw


def mix(*values):
    h = 0x811C9DC5
    for v in values:
        h = imul(h ^ (v & M32), 0x01000193)
        h ^= h >> 15
    return h


MASK_STREAM = 0x6D61736B  # src/nn/stochca-step.ts
ORDER, VIEW = 1, 2  # src/data/batcher.ts


def draw_mask(seed, step, depth, p):
    """mask[i]: block i cross-attends to the teacher at (1-based) step; a function of (seed, step) alone."""
    rng = seeded_rng(mix(seed, step, MASK_STREAM))
    return [rng() < p for _ in range(depth)]


def learning_rate(step, total, peak, warmup):
    """Linear warm-up, then a cosine that reaches 0 only after the last step (src/nn/schedule.ts)."""
    if step <= warmup:
        return peak * step / max(1, warmup)
    progress = min(1, (step - warmup - 1) / max(1, total - warmup))
    return 0.5 * peak * (1 + math.cos(math.pi * progress))


def epoch_order(seed, epoch, n):
    """Epoch e's order of the training images: a Fisher-Yates shuffle drawn with (seed, e)."""
    order = list(range(n))
    rng = seeded_rng(mix(seed, epoch, ORDER))
    for i in range(n - 1, 0, -1):
        j = math.floor(rng() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


# ---------------------------------------------------------------------------------------------------
# Crops, flips and resampling (src/data/augment.ts): each image is decoded once into a C×C "cache image",
# C = round(S·8/7), and every view is a window of it resampled to S×S with the engine's bilinear, in
# float64, so the pixels are the engine's.

def round_half_even(v):
    return round(v)  # Python's round() is the engine's roundHalfEven


def cache_size(S):
    return math.floor(S * 8 / 7 + 0.5)  # JavaScript's Math.round


def randint(rng, n):
    return math.floor(rng() * n)


def random_resized_crop(width, height, scale, ratio, rng):
    """torchvision's RandomResizedCrop.get_params, drawn with the engine's generator."""
    area = width * height
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target = area * (scale[0] + (scale[1] - scale[0]) * rng())
        aspect = math.exp(log_lo + (log_hi - log_lo) * rng())
        w = round_half_even(math.sqrt(target * aspect))
        h = round_half_even(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            y = randint(rng, height - h + 1)
            x = randint(rng, width - w + 1)
            return x, y, w, h
    in_ratio = width / height
    lo, hi = min(ratio), max(ratio)
    w, h = width, height
    if in_ratio < lo:
        h = round_half_even(w / lo)
    elif in_ratio > hi:
        w = round_half_even(h * hi)
    return (width - w) // 2, (height - h) // 2, w, h


def eval_view(C, S):
    o = round_half_even((C - S) / 2)
    return o, o, S, S, False


def train_view(C, S, crop, flip, rng):
    if crop == 'random-resized':
        x, y, w, h = random_resized_crop(C, C, (0.7, 1.0), (3 / 4, 4 / 3), rng)
    elif crop == 'random':
        x, y, w, h = randint(rng, C - S + 1), randint(rng, C - S + 1), S, S
    else:
        x, y, w, h, _ = eval_view(C, S)
    return x, y, w, h, flip and rng() < 0.5


def axis_taps(start, n, size, step, offset, mirror):
    """Source rows (or columns) and weight of each output coordinate, half-pixel centres, clamped to the span."""
    lo, hi, t = [0] * size, [0] * size, [0.0] * size
    for o in range(size):
        u = min(max((o + offset + 0.5) * step - 0.5, 0), n - 1)
        i0 = math.floor(u)
        k = size - 1 - o if mirror else o
        lo[k], hi[k], t[k] = start + i0, start + min(i0 + 1, n - 1), u - i0
    return torch.tensor(lo), torch.tensor(hi), torch.tensor(t, dtype=torch.float64)


def bilinear(src, cols, rows):
    """src [H, W, 3] uint8 sampled at the taps: [rows, cols, 3] uint8, each operation as the engine rounds it."""
    s = src.double()
    r0, r1 = s[rows[0]], s[rows[1]]
    a, b, c, d = r0[:, cols[0]], r0[:, cols[1]], r1[:, cols[0]], r1[:, cols[1]]
    tx, ty = cols[2][None, :, None], rows[2][:, None, None]
    top = a + (b - a) * tx
    bottom = c + (d - c) * tx
    return (top + (bottom - top) * ty + 0.5).floor().to(torch.uint8)


def resize_cover(px, C):
    """The shorter side resized to C, the centre C×C kept (torchvision's Resize(C) + CenterCrop(C))."""
    height, width = px.shape[:2]
    short, long = min(width, height), max(width, height)
    resized_long = math.floor(C * long / short)
    W, H = (C, resized_long) if width <= height else (resized_long, C)
    cols = axis_taps(0, width, C, width / W, round_half_even((W - C) / 2), False)
    rows = axis_taps(0, height, C, height / H, round_half_even((H - C) / 2), False)
    return bilinear(px, cols, rows)


def resample(image, view, S):
    x, y, w, h, flip = view
    return bilinear(image, axis_taps(x, w, S, w / S, 0, flip), axis_taps(y, h, S, h / S, 0, False))


def decode(data, C, path):
    """An image file's bytes as its C×C cache image [C, C, 3] uint8."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            img = ImageOps.exif_transpose(opened).convert('RGB')
    except Exception as e:  # noqa: BLE001: any decoder failure is the file's
        raise SystemExit(f"'{path}': not a decodable image ({e}); remove it from the dataset (the engine leaves it out)")
    width, height = img.size
    if min(width, height) > C:
        # Shrinking: Pillow's antialiased bilinear, where the engine's decoder (libvips, the browser) uses its own.
        long = math.floor(C * max(width, height) / min(width, height))
        W, H = (C, long) if width <= height else (long, C)
        img = img.resize((W, H), Image.BILINEAR)
        x, y = round_half_even((W - C) / 2), round_half_even((H - C) / 2)
        img = img.crop((x, y, x + C, y + C))
        return torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).reshape(C, C, 3)
    px = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).reshape(height, width, 3)
    return resize_cover(px, C)


# ---------------------------------------------------------------------------------------------------
# The dataset's files: a folder or a zip, paths cleaned as the engine cleans them (src/data/entries.ts:
# '/' separators, no empty or '.' segments, NFC), so names written on any system match split.json.

def clean_path(name):
    return unicodedata.normalize('NFC', '/'.join(s for s in name.replace('\\', '/').split('/') if s not in ('', '.')))


class DataRoot:
    def __init__(self, path):
        self.path = path
        if os.path.isdir(path):
            self.zip = None
            names = [os.path.relpath(os.path.join(d, f), path) for d, _, files in os.walk(path) for f in files]
        elif zipfile.is_zipfile(path):
            self.zip = zipfile.ZipFile(path)
            names = [i.filename for i in self.zip.infolist() if not i.is_dir()]
        else:
            raise SystemExit(f'--data-root {path}: not a folder or a zip')
        self.names = {clean_path(n): n for n in names}

    def read(self, path):
        name = self.names[path]
        if self.zip is not None:
            return self.zip.read(name)
        with open(os.path.join(self.path, name), 'rb') as f:
            return f.read()

    def locate(self, split):
        """The folder of the dataset inside the root: the engine's own top folder, none, or the one where
        the first image is; every image of the split must be there."""
        samples = split['train'] + split['val'] + split['test']
        first = samples[0][0]
        found = [p[: -len(first)] for p in self.names if p == first or p.endswith('/' + first)]
        prefix = next((t for t in (split['top'], '') if t + first in self.names), found[0] if len(found) == 1 else None)
        if prefix is None:
            raise SystemExit(f"--data-root {self.path}: '{first}' of split.json is {'not there' if not found else 'there more than once'}")
        missing = [p for p, _ in samples if prefix + p not in self.names]
        if missing:
            raise SystemExit(f"--data-root {self.path}: {len(missing)} images of split.json are not there, e.g. '{prefix + missing[0]}'")
        return prefix


class Images:
    """Views of the split's images, decoded once into cache images kept up to a memory budget."""

    def __init__(self, root, prefix, samples, C, S, budget, pool):
        """budget: [bytes left], shared by the splits."""
        self.root, self.prefix, self.samples, self.C, self.S = root, prefix, samples, C, S
        self.budget, self.cache, self.pool = budget, {}, pool

    def image(self, index):
        cached = self.cache.get(index)
        if cached is not None:
            return cached
        path = self.prefix + self.samples[index][0]
        image = decode(self.root.read(path), self.C, path)
        if self.budget[0] >= image.numel():
            self.budget[0] -= image.numel()
            self.cache[index] = image
        return image

    def batch(self, items, view):
        """items: indices into the samples with what `view` needs: pixels [n, S, S, 3] uint8 and labels [n]."""
        pixels = list(self.pool.map(lambda it: resample(self.image(it[0]), view(it), self.S), items))
        labels = [self.samples[it[0]][1] for it in items]
        return torch.stack(pixels), torch.tensor(labels)


def training_batches(n, B, seed):
    """The global batches of the training stream: epochs one after another, the last batch of an epoch
    completed from the next one; each item (index, epoch, position), and the epoch of its first image."""
    epoch, position, order = 0, 0, epoch_order(seed, 0, n)
    while True:
        items = []
        while len(items) < B:
            if position == n:
                epoch, position = epoch + 1, 0
                order = epoch_order(seed, epoch, n)
            items.append((order[position], epoch, position))
            position += 1
        yield items[0][1], items


# ---------------------------------------------------------------------------------------------------
# Checkpoints: safetensors read and written by hand (an 8-byte length, a JSON header, little-endian
# tensors), under the names the file has: torchvision, timm or Hugging Face
# (src/checkpoint/name-tables.ts).

DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    metadata = header.pop('__metadata__', {})
    tensors = {}
    for name, h in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        a, b = h['data_offsets']
        raw = bytearray(data[8 + n + a:8 + n + b])
        t = torch.frombuffer(raw, dtype=DTYPES[h['dtype']]) if raw else torch.empty(0, dtype=DTYPES[h['dtype']])
        tensors[name] = t.reshape(h['shape']).float()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {'__metadata__': metadata}, 0, []
    for name, t in tensors.items():
        blob = t.detach().to('cpu', torch.float32).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)  # the data starts 8-byte aligned, as the reference writer does
    write_atomic(path, struct.pack('<Q', len(text)) + text + b''.join(blobs))


def write_atomic(path, data):
    with open(path + '.partial', 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.replace(path + '.partial', path)


NAMINGS = ('torchvision', 'timm', 'hf', 'hf-clip', 'hf-dinov2')
HF_QKV = tuple(f'attention.attention.{p}.%s' for p in ('query', 'key', 'value'))
CLIP_QKV = tuple(f'self_attn.{p}_proj.%s' for p in 'qkv')
# Module parameter → its checkpoint name in each convention (None: the convention has no such tensor).
EMBEDDING = {
    'patch.weight': ('conv_proj.weight', 'patch_embed.proj.weight', 'vit.embeddings.patch_embeddings.projection.weight',
                     'vision_model.embeddings.patch_embedding.weight', 'embeddings.patch_embeddings.projection.weight'),
    'patch.bias': ('conv_proj.bias', 'patch_embed.proj.bias', 'vit.embeddings.patch_embeddings.projection.bias',
                   None, 'embeddings.patch_embeddings.projection.bias'),
    'cls': ('class_token', 'cls_token', 'vit.embeddings.cls_token', 'vision_model.embeddings.class_embedding', 'embeddings.cls_token'),
    'pos': ('encoder.pos_embedding', 'pos_embed', 'vit.embeddings.position_embeddings',
            'vision_model.embeddings.position_embedding.weight', 'embeddings.position_embeddings'),
    'registers': (None, 'reg_token', None, None, 'embeddings.register_tokens'),
    'pre_norm.weight': (None, 'norm_pre.weight', None, 'vision_model.pre_layrnorm.weight', None),
    'pre_norm.bias': (None, 'norm_pre.bias', None, 'vision_model.pre_layrnorm.bias', None),
}
BLOCK = {
    'ln1.weight': ('ln_1.weight', 'norm1.weight', 'layernorm_before.weight', 'layer_norm1.weight', 'norm1.weight'),
    'ln1.bias': ('ln_1.bias', 'norm1.bias', 'layernorm_before.bias', 'layer_norm1.bias', 'norm1.bias'),
    'qkv.weight': ('self_attention.in_proj_weight', 'attn.qkv.weight', tuple(n % 'weight' for n in HF_QKV),
                   tuple(n % 'weight' for n in CLIP_QKV), tuple(n % 'weight' for n in HF_QKV)),
    'qkv.bias': ('self_attention.in_proj_bias', 'attn.qkv.bias', tuple(n % 'bias' for n in HF_QKV),
                 tuple(n % 'bias' for n in CLIP_QKV), tuple(n % 'bias' for n in HF_QKV)),
    'proj.weight': ('self_attention.out_proj.weight', 'attn.proj.weight', 'attention.output.dense.weight',
                    'self_attn.out_proj.weight', 'attention.output.dense.weight'),
    'proj.bias': ('self_attention.out_proj.bias', 'attn.proj.bias', 'attention.output.dense.bias',
                  'self_attn.out_proj.bias', 'attention.output.dense.bias'),
    'ln2.weight': ('ln_2.weight', 'norm2.weight', 'layernorm_after.weight', 'layer_norm2.weight', 'norm2.weight'),
    'ln2.bias': ('ln_2.bias', 'norm2.bias', 'layernorm_after.bias', 'layer_norm2.bias', 'norm2.bias'),
    'fc1.weight': ('mlp.0.weight', 'mlp.fc1.weight', 'intermediate.dense.weight', 'mlp.fc1.weight', 'mlp.fc1.weight'),
    'fc1.bias': ('mlp.0.bias', 'mlp.fc1.bias', 'intermediate.dense.bias', 'mlp.fc1.bias', 'mlp.fc1.bias'),
    'fc2.weight': ('mlp.3.weight', 'mlp.fc2.weight', 'output.dense.weight', 'mlp.fc2.weight', 'mlp.fc2.weight'),
    'fc2.bias': ('mlp.3.bias', 'mlp.fc2.bias', 'output.dense.bias', 'mlp.fc2.bias', 'mlp.fc2.bias'),
    'ls1': (None, 'ls1.gamma', None, None, 'layer_scale1.lambda1'),
    'ls2': (None, 'ls2.gamma', None, None, 'layer_scale2.lambda1'),
}
FINAL = {
    'norm.weight': ('encoder.ln.weight', 'norm.weight', 'vit.layernorm.weight', 'vision_model.post_layernorm.weight', 'layernorm.weight'),
    'norm.bias': ('encoder.ln.bias', 'norm.bias', 'vit.layernorm.bias', 'vision_model.post_layernorm.bias', 'layernorm.bias'),
    'head.weight': ('heads.head.weight', 'head.weight', 'classifier.weight', 'classifier.weight', 'classifier.weight'),
    'head.bias': ('heads.head.bias', 'head.bias', 'classifier.bias', 'classifier.bias', 'classifier.bias'),
}
BLOCK_PREFIX = ('encoder.layers.encoder_layer_{}.', 'blocks.{}.', 'vit.encoder.layer.{}.', 'vision_model.encoder.layers.{}.', 'encoder.layer.{}.')


def detect_naming(names):
    first = {patch: naming for patch, naming in zip(EMBEDDING['patch.weight'], NAMINGS)}
    found = [first[n] for n in names if n in first]
    if len(found) != 1:
        raise SystemExit('model.safetensors: not a torchvision, timm or Hugging Face ViT, CLIP or DINOv2')
    return found[0]


def checkpoint_names(naming, depth, present):
    """Module parameter → the checkpoint names it is stored under (several: stacked along dim 0), for the
    tensors the file has: CLIP has no patch bias, only CLIP has a pre-norm, only DINOv2 LayerScale and registers."""
    k = NAMINGS.index(naming)
    as_tuple = lambda n: n if isinstance(n, tuple) else (n,)  # noqa: E731
    rows = [(c, n[k]) for c, n in EMBEDDING.items()]
    for i in range(depth):
        rows += [(f'blocks.{i}.{c}', n[k] and tuple(BLOCK_PREFIX[k].format(i) + x for x in as_tuple(n[k]))) for c, n in BLOCK.items()]
    rows += [(c, n[k]) for c, n in FINAL.items()]
    return {c: as_tuple(n) for c, n in rows if n is not None and all(x in present for x in as_tuple(n))}


# ---------------------------------------------------------------------------------------------------
# The ViT (docs/method.md): patch embedding, class token and position embedding, pre-norm blocks with a
# fused qkv, exact GELU, a final LayerNorm and the head on the class token; where the model file's
# stochca_config says, CLIP's and DINOv2's features: a patch embedding without bias, register tokens after
# the class token (no position embedding of their own), a LayerNorm before the first block, LayerScale on
# both residual branches and QuickGELU. In StochCA, block i of the student attends with its own queries to
# the teacher's keys and values where the step's mask says so.

def attend(q, k, v, heads):
    B, N, D = q.shape
    split = lambda t: t.reshape(B, -1, heads, D // heads).transpose(1, 2)  # noqa: E731
    scores = (split(q) @ split(k).transpose(-2, -1)) * (D // heads) ** -0.5
    return (scores.softmax(-1) @ split(v)).transpose(1, 2).reshape(B, N, D)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, D, M, eps, activation='gelu', layer_scale=False):
        super().__init__()
        self.ln1, self.qkv, self.proj = nn.LayerNorm(D, eps), nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(D, eps), nn.Linear(D, M), nn.Linear(M, D)
        self.act = quick_gelu if activation == 'quick-gelu' else F.gelu
        # LayerScale's γ per branch (DINOv2), the engine's blocks.{i}.ls1 and ls2.
        self.ls1, self.ls2 = (nn.Parameter(torch.ones(D)), nn.Parameter(torch.ones(D))) if layer_scale else (None, None)

    def forward(self, x, heads, kv=None):
        """The block's output, and its own keys and values (a teacher's, for the student)."""
        scale = lambda y, gamma: y if gamma is None else y * gamma  # noqa: E731
        q, k, v = self.qkv(self.ln1(x)).chunk(3, -1)
        own = (k, v)
        if kv is not None:
            k, v = kv
        x = x + scale(self.proj(attend(q, k, v, heads)), self.ls1)
        return x + scale(self.fc2(self.act(self.fc1(self.ln2(x)))), self.ls2), own


class ViT(nn.Module):
    def __init__(self, c):
        super().__init__()
        D, P, eps = c['dim'], c['patchSize'], c['layerNormEps']
        R = c.get('registers', 0)
        self.heads = c['heads']
        self.patch = nn.Conv2d(c.get('channels', 3), D, P, P, bias=c.get('patchBias', True))
        self.cls = nn.Parameter(torch.zeros(1, 1, D))
        # The class token's position and the patches'; timm's register models (classPosition false, timm's
        # no_embed_class) have the patches' alone, the class token holding its own.
        self.class_position = c.get('classPosition', True)
        self.pos = nn.Parameter(torch.zeros(1, int(self.class_position) + (c['imageSize'] // P) ** 2, D))
        self.registers = nn.Parameter(torch.zeros(1, R, D)) if R else None
        self.pre_norm = nn.LayerNorm(D, eps) if c.get('preNorm') else None
        self.blocks = nn.ModuleList(Block(D, c['mlpDim'], eps, c.get('activation', 'gelu'), c.get('layerScale', False))
                                    for _ in range(c['depth']))
        self.norm = nn.LayerNorm(D, eps)
        self.head = nn.Linear(D, c['numClasses'])

    def embed(self, x):
        """The first block's input: class token, registers, patches (the position embedding added to the class
        token and the patches before the registers go in), through the pre-norm where there is one."""
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        cls = self.cls.expand(len(x), -1, -1)
        h = torch.cat([cls, tokens], 1) + self.pos if self.class_position else torch.cat([cls, tokens + self.pos], 1)
        if self.registers is not None:
            h = torch.cat([h[:, :1], self.registers.expand(len(x), -1, -1), h[:, 1:]], 1)
        return h if self.pre_norm is None else self.pre_norm(h)

    def forward(self, x, kv=None):
        """Logits; kv: {block: the teacher's (keys, values)} for the blocks that cross-attend."""
        h = self.embed(x)
        for i, block in enumerate(self.blocks):
            h, _ = block(h, self.heads, (kv or {}).get(i))
        return self.head(self.norm(h)[:, 0])

    @torch.no_grad()
    def keys_values(self, x, mask):
        """The teacher: its forward only as deep as the deepest cross-attending block, keeping those blocks' K, V."""
        deepest = max(i for i, m in enumerate(mask) if m)
        h, kv = self.embed(x), {}
        for i in range(deepest + 1):
            h, own = self.blocks[i](h, self.heads)
            if mask[i]:
                kv[i] = own
        return kv


def decayed(name, p):
    """timm's weight-decay group (src/nn/planner.ts): matrices and the patch kernel, not the embeddings."""
    return p.ndim > 1 and name not in ('cls', 'pos')


# ---------------------------------------------------------------------------------------------------

def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    a = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument('--data-root', required=True, help='the dataset: its folder or its zip')
    a.add_argument('--bundle', default=here, help="the exported folder (experiment.json, split.json, model.safetensors); default: this script's")
    a.add_argument('--out', default='torch-run', help='where the curves, config and models go (default: torch-run)')
    a.add_argument('--steps', type=int, help="stop after this step of the experiment's schedule")
    a.add_argument('--device', help='cpu, cuda or cuda:K for one process (default: cuda when there is one); torchrun gives each process its own GPU')
    a.add_argument('--decode-threads', type=int, default=4, help='threads decoding images (default: 4)')
    a.add_argument('--cache-mib', type=int, default=2048, help='decoded images kept in memory per process, in MiB (default: 2048)')
    return a.parse_args()


class Distributed:
    """The processes of a torchrun job (one when run without torchrun), and their share of the work."""

    def __init__(self, device):
        self.world = int(os.environ.get('WORLD_SIZE', '1'))
        self.rank = int(os.environ.get('RANK', '0'))
        self.local = int(os.environ.get('LOCAL_WORLD_SIZE', '1'))
        self.device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
        self.backend = 'nccl' if self.device.type == 'cuda' else 'gloo'
        if self.device.type == 'cuda':
            if self.device.index is None:  # each process of a machine on its own GPU
                self.device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', '0')))
            torch.cuda.set_device(self.device)
        elif 'OMP_NUM_THREADS' not in os.environ:
            # Every core for this machine's processes (torchrun sets OMP_NUM_THREADS=1 for several).
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.local))
        if self.world > 1:
            dist.init_process_group(self.backend)

    def sum(self, values):
        """Values summed over the processes, in float64."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(t)
        return t.tolist()

    def device_name(self):
        if self.device.type == 'cuda':
            return torch.cuda.get_device_name(self.device)
        try:
            with open('/proc/cpuinfo') as f:
                model = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), '')
        except OSError:
            model = ''
        return f'CPU {model or platform.processor() or platform.machine()}'


def evaluate(model, images, samples, d, batch, mean, std):
    """Mean cross-entropy and top-1 accuracy over the samples, each process scoring every W-th image."""
    mine = list(range(d.rank, len(samples), d.world))
    loss = correct = 0.0
    with torch.no_grad():
        for at in range(0, len(mine), batch):
            pixels, labels = images.batch([(i,) for i in mine[at:at + batch]], lambda it: eval_view(images.C, images.S))
            logits = model(normalize(pixels, d.device, mean, std)).double()
            labels = labels.to(d.device)
            loss += (logits.logsumexp(1) - logits.gather(1, labels[:, None])[:, 0]).sum().item()
            correct += (logits.argmax(1) == labels).sum().item()
    loss, correct, count = d.sum([loss, correct, len(mine)])
    return {'loss': loss / max(1, count), 'accuracy': correct / max(1, count), 'count': int(count)}


def normalize(pixels, device, mean, std):
    x = pixels.to(device).permute(0, 3, 1, 2).float() / 255
    return (x - torch.tensor(mean, device=device)[:, None, None]) / torch.tensor(std, device=device)[:, None, None]


def main():
    args = parse_args()
    d = Distributed(args.device)
    if d.world == 1:
        return train(args, d)
    # With torch 1.13 a Gloo group's teardown can deadlock: it waits for its worker thread while holding the
    # interpreter's lock, which that thread needs to release a Python tensor. So a process of several
    # leaves without running destructors, once its outputs are written or its error said.
    code = 0
    try:
        train(args, d)
    except SystemExit as e:
        if not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001: said, then the same exit
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def train(args, d):
    # float32 matmuls and convolutions, as the engine computes (no TF32 on recent GPUs).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if d.rank == 0 else (lambda *a: None)

    with open(os.path.join(args.bundle, 'experiment.json')) as f:
        e = json.load(f)
    with open(os.path.join(args.bundle, 'split.json')) as f:
        split = json.load(f)
    model_path = os.path.join(args.bundle, 'model.safetensors')
    tensors, metadata = read_safetensors(model_path)
    cfg = json.loads(metadata['stochca_config'])
    norm = json.loads(metadata['stochca_normalization'])
    p = e['p'] if e['method'] == 'stochca' else 0
    head_only = e['method'] == 'linear-probe'
    B, total = e['batch'], e['steps']
    last = total if args.steps is None else args.steps
    if not 1 <= last <= total:
        raise SystemExit(f'--steps must be from 1 to the experiment\'s {total}')
    if B % d.world:
        raise SystemExit(f'the batch of {B} does not split evenly over {d.world} processes')
    b = B // d.world

    # The student and the teacher start from the same weights, under the file's names.
    naming = detect_naming(tensors)
    names = checkpoint_names(naming, cfg['depth'], tensors)
    student = ViT(cfg)
    own = student.state_dict()  # CLIP stores its class token as [D] and position embedding as [N, D]
    student.load_state_dict({k: torch.cat([tensors[n] for n in ns]).reshape(own[k].shape) for k, ns in names.items()})
    student.to(d.device)
    if head_only:  # the linear probe: the head alone trains, on the frozen rest
        student.requires_grad_(False).head.requires_grad_(True)
    teacher = None
    if p > 0:
        teacher = ViT(cfg).to(d.device).requires_grad_(False)
        teacher.load_state_dict(student.state_dict())
    model = student
    if d.world > 1:
        model = nn.parallel.DistributedDataParallel(student, device_ids=[d.device.index] if d.device.type == 'cuda' else None)
    params = [(n, q) for n, q in student.named_parameters() if q.requires_grad]
    groups = ([{'params': [q for n, q in params if decayed(n, q)]}, {'params': [q for n, q in params if not decayed(n, q)], 'weight_decay': 0.0}]
              if e['wdExempt'] else [{'params': [q for _, q in params]}])
    optimizer = torch.optim.AdamW(groups, lr=e['lr'], betas=(0.9, 0.999), eps=1e-8, weight_decay=e['weightDecay'])

    root = DataRoot(args.data_root)
    prefix = root.locate(split)
    S = cfg['imageSize']
    C = cache_size(S)
    budget, pool = [args.cache_mib * 2 ** 20], ThreadPoolExecutor(args.decode_threads)
    sets = {k: Images(root, prefix, split[k], C, S, budget, pool) for k in ('train', 'val', 'test')}
    counts = {k: len(split[k]) for k in sets}
    say(f"training {len(split['classes'])} classes: {counts['train']} train, {counts['val']} val, {counts['test']} test images; "
        f"{e['method']}{f' p={p}' if p > 0 else ''}; {d.world} process{'es' if d.world > 1 else ''} on {d.device_name()} ({d.backend if d.world > 1 else d.device.type})")

    curves = {'train': [], 'eval': []}
    best = best_state = None
    batches = training_batches(counts['train'], B, e['seed'])
    view = lambda it: train_view(C, S, e['crop'], e['flip'], seeded_rng(mix(e['seed'], it[1], it[2], VIEW)))  # noqa: E731
    score = lambda which: evaluate(student, sets[which], split[which], d, B, norm['mean'], norm['std'])  # noqa: E731
    started = time.perf_counter()
    step = 0
    reason = 'finished' if last == total else 'stopped'
    for step in range(1, last + 1):
        epoch, items = next(batches)
        pixels, labels = sets['train'].batch(items[d.rank * b:(d.rank + 1) * b], view)
        x, y = normalize(pixels, d.device, norm['mean'], norm['std']), labels.to(d.device)
        mask = draw_mask(e['seed'], step, cfg['depth'], p)
        lr = learning_rate(step, total, e['lr'], e['warmup'])
        logits = model(x, teacher.keys_values(x, mask) if any(mask) else None)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if e['clip'] > 0:
            nn.utils.clip_grad_norm_([q for _, q in params], e['clip'])
        for g in optimizer.param_groups:
            g['lr'] = lr
        optimizer.step()
        loss_sum, correct = d.sum([loss.item() * b, (logits.argmax(1) == y).sum().item()])
        elapsed = time.perf_counter() - started
        point = {'step': step, 'loss': loss_sum / B, 'accuracy': correct / B, 'lr': lr, 'mask': ''.join('1' if m else '0' for m in mask),
                 'seconds': elapsed, 'epoch': epoch, 'imagesPerSec': step * B / elapsed}
        curves['train'].append(point)
        if step % max(1, last // 10) == 0 or step == last:
            say(f"step {step}/{total} loss {point['loss']:.4f} acc {100 * point['accuracy']:.1f}% {point['imagesPerSec']:.1f} img/s")
        if not math.isfinite(point['loss']):
            point['loss'] = None
            if d.rank == 0:
                write_outputs(args, e, cfg, metadata, split, counts, curves, d, None, None, model_path, student)
            raise SystemExit(f"the training loss became {loss.item()} at step {step}: lower the learning rate")
        if counts['val'] and (step % e['evalEvery'] == 0 or step == last):
            v = dict(score('val'), step=step)
            curves['eval'].append(dict(v, split='val'))
            say(f"step {step}: validation accuracy {100 * v['accuracy']:.2f}% ({v['count']} images), loss {v['loss']:.4f}")
            if best is None or v['accuracy'] > best['accuracy']:
                best, best_state = v, {k: t.detach().clone() for k, t in student.state_dict().items()}

    if counts['test']:
        # Scored once per set of weights, after training: model selection never sees the test split.
        if best is not None and best['step'] != step:
            final_state = {k: t.detach().clone() for k, t in student.state_dict().items()}
            student.load_state_dict(best_state)
            curves['eval'].append(dict(score('test'), step=best['step'], split='test', weights='best'))
            student.load_state_dict(final_state)
        curves['eval'].append(dict(score('test'), step=step, split='test', weights='final'))
    if d.rank == 0:
        write_outputs(args, e, cfg, metadata, split, counts, curves, d, best_state, names, model_path, student)
        tests = {r['weights']: r['accuracy'] for r in curves['eval'] if r['split'] == 'test'}
        print(json.dumps({
            'out': args.out, 'steps': step, 'reason': reason, 'final_loss': curves['train'][-1]['loss'],
            'best_val_accuracy': best and best['accuracy'], 'best_val_step': best and best['step'],
            'test_accuracy_at_best_val': tests.get('best', tests.get('final')) if best else None, 'final_test_accuracy': tests.get('final'),
            'host': socket.gethostname(), 'device': d.device_name(), 'processes': d.world,
        }))


def write_outputs(args, e, cfg, metadata, split, counts, curves, d, best_state, names, model_path, student):
    """curves.json, curves.csv, config.json and the models, in the formats `stochca train` writes."""
    os.makedirs(args.out, exist_ok=True)
    write_atomic(os.path.join(args.out, 'curves.json'), json.dumps(curves, indent=1))
    rows = ['step,split,loss,accuracy,lr,mask'] + [f"{r['step']},train,{r['loss']},{r['accuracy']},{r['lr']},{r['mask']}" for r in curves['train']]
    rows += [f"{r['step']},{r['split']},{r['loss']},{r['accuracy']},," for r in curves['eval']]
    write_atomic(os.path.join(args.out, 'curves.csv'), '\n'.join(rows) + '\n')
    with open(model_path, 'rb') as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    settings = {k: v for k, v in e.items() if k not in ('model', 'data')}
    write_atomic(os.path.join(args.out, 'config.json'), json.dumps({
        'settings': settings, 'model': {'path': os.path.abspath(model_path), 'sha256': sha256}, 'data': os.path.abspath(args.data_root),
        'refs': {'model': e['model'], 'data': e['data']}, 'config': cfg, 'classes': split['classes'],
        'normalization': json.loads(metadata['stochca_normalization']), 'counts': counts, 'changes': [], 'leftOut': [], 'problems': [],
        'parameters': sum(t.numel() for t in student.parameters()),
        'host': {'name': socket.gethostname(), 'device': d.device_name(), 'processes': d.world, 'backend': d.backend if d.world > 1 else d.device.type,
                 'torch': torch.__version__, 'python': platform.python_version()},
    }, indent=1))
    if names is None:
        return
    # The models under the names and with the metadata the starting file has, so the engine reads them as they are.
    shapes = {n: t.shape for n, t in read_safetensors(model_path)[0].items()}  # CLIP's [D] class token, [N, D] positions
    save = lambda path, state: write_safetensors(path, {  # noqa: E731
        n: part.reshape(shapes[n]) for k, ns in names.items() for n, part in zip(ns, state[k].chunk(len(ns)))}, metadata)
    save(os.path.join(args.out, 'model.safetensors'), student.state_dict())
    if best_state is not None:
        save(os.path.join(args.out, 'best.safetensors'), best_state)


if __name__ == '__main__':
    main()
