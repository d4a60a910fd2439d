// The zoo's files as the Hub holds them, with random weights: every tensor name, shape and dtype of
// the entry's fixture (tests/fixtures/zoo/<org>-<name>.json, which also holds the repository's
// config.json), in the layout safetensors writes.
import { readFileSync } from 'node:fs';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';

export interface ZooFixture {
  repo: string;
  file: string;
  /** Where the names, shapes and config come from. */
  source: string;
  /** The file's __metadata__. */
  metadata: Record<string, string> | null;
  tensors: Record<string, { dtype: string; shape: number[] }>;
  /** The repository's config.json. */
  config: unknown;
}

/** Random weights are uniform in ±this: a forward pass of them stays far from overflowing. */
const WEIGHT_SCALE = 0.02;

export const fixtureName = (repo: string) => repo.replace('/', '-');

export function zooFixture(repo: string): ZooFixture {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/zoo/${fixtureName(repo)}.json`, import.meta.url), 'utf8'),
  ) as ZooFixture;
}

export const fixtureParameters = (f: ZooFixture) =>
  Object.values(f.tensors).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);

/** The weights file of `f`, its values from `seed` (xorshift32: 90 M values take about a second). */
export function zooWeights(f: ZooFixture, seed = 1): Uint8Array {
  let x = seed >>> 0 || 1;
  const tensors = new Map<string, HostTensor>();
  for (const [name, t] of Object.entries(f.tensors)) {
    if (t.dtype !== 'F32') throw new Error(`${f.repo} ${name}: the zoo's files are F32, the fixture says ${t.dtype}`);
    const data = new Float32Array(t.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      data[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 2 * WEIGHT_SCALE;
    }
    tensors.set(name, { shape: t.shape, data });
  }
  return writeSafetensors(tensors, f.metadata ? { metadata: f.metadata } : {});
}

/** `f` cut to its first `depth` blocks (HF's `encoder.layer.{i}.` or `encoder.layers.{i}.`, timm's
 *  `blocks.{i}.`), its config.json saying so where it counts layers: the real names and shapes, at a depth
 *  whose steps at the model's full input size take seconds on SwiftShader. */
export function shallower(f: ZooFixture, depth: number): ZooFixture {
  const block = /(?:^|\.)(?:encoder\.layers?|blocks)\.(\d+)\./;
  const tensors = Object.fromEntries(
    Object.entries(f.tensors).filter(([name]) => Number(block.exec(name)?.[1] ?? -1) < depth),
  );
  const config = f.config as Record<string, unknown>;
  return { ...f, tensors, config: 'num_hidden_layers' in config ? { ...config, num_hidden_layers: depth } : config };
}
