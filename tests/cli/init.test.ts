// `stochca init`: a from-scratch ViT that loads back with its config and timm's initial statistics.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { stochca } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-init-'));

function stats(data: Float32Array): { mean: number; std: number; maxAbs: number } {
  const mean = data.reduce((s, v) => s + v, 0) / data.length;
  const std = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
  return { mean, std, maxAbs: data.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
}

/** `stochca init` of a small ViT (28 px, patch 7, width 32, 2 blocks, 5 classes) into `out`. */
const init = (out: string, seed: number) =>
  stochca(
    'init',
    ...['--out', out, '--image-size', '28', '--patch', '7', '--dim', '32', '--depth', '2', '--heads', '2'],
    ...['--mlp', '64', '--classes', '5', '--seed', String(seed)],
  );

describe('stochca init', () => {
  it('writes a checkpoint that reloads with no options, initialised as timm does', async () => {
    const out = join(dir, 'init.safetensors');
    const r = await init(out, 3);
    expect(r.code).toBe(0);
    const model = loadModelFile(readFileSync(out));
    expect(model.config).toMatchObject({
      imageSize: 28,
      patchSize: 7,
      dim: 32,
      depth: 2,
      heads: 2,
      mlpDim: 64,
      numClasses: 5,
    });
    expect(model.naming).toBe('timm');
    expect(model.changes).toEqual([]);
    expect(JSON.parse(r.stdout).parameters).toBe([...model.weights.values()].reduce((n, t) => n + t.data.length, 0));
    // Linear weights: truncated normal(0, 0.02) cut at ±0.04 (the truncated std is 0.0176).
    const fc1 = stats(model.weights.get('blocks.1.fc1.weight')!.data as Float32Array);
    expect(Math.abs(fc1.mean)).toBeLessThan(0.002);
    expect(fc1.std).toBeGreaterThan(0.016);
    expect(fc1.std).toBeLessThan(0.019);
    expect(fc1.maxAbs).toBeLessThanOrEqual(0.04 + 1e-7);
    expect([...model.weights.get('blocks.0.ln1.weight')!.data].every((v) => v === 1)).toBe(true);
    expect([...model.weights.get('blocks.0.qkv.bias')!.data].every((v) => v === 0)).toBe(true);
    // The same seed gives the same file; another seed another.
    const again = join(dir, 'again.safetensors');
    await init(again, 3);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
    const other = join(dir, 'other.safetensors');
    await init(other, 4);
    expect(readFileSync(other).equals(readFileSync(out))).toBe(false);
  });

  it('refuses a configuration that is not a ViT in one line', async () => {
    const r = await stochca('init', '--out', join(dir, 'bad.safetensors'), '--image-size', '30', '--patch', '7');
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/stochca: .*(30|patch)/);
  });
});
