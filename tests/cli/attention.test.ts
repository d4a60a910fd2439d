// `stochca attention` end to end: a checkpoint and images in, the class token's attention
// [N, depth, heads, tokens] out, against the float64 reference ViT.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stochcaWithEnv } from '../helpers/cli.ts';
import { fromCanonical } from '../../src/checkpoint/convert.ts';
import type { Naming } from '../../src/checkpoint/name-tables.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { readNpy, writeNpy } from '../../src/cli/npy.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';
import { vitParamSpecs } from '../../src/nn/vit-params.ts';
import { expectClose } from '../helpers/compare.ts';
import { randomVitWeights, TINY_VIT } from '../helpers/model.ts';
import { normal } from '../helpers/random.ts';
import { vitClassAttentionRef } from '../reference/vit.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-attention-'));
const B = 2;

/** Writes a checkpoint of random weights under `naming` and images x [B, 3, S, S]; returns the
 *  engine's maps and the float64 reference's for the weights as the file holds them (f32). */
async function run(c: VitArch, naming: Naming, layout: 'cpu' | 'gpu', seed: number) {
  const w = randomVitWeights(c, seed);
  const canonical = new Map<string, HostTensor>(
    vitParamSpecs(c).map((s) => [s.name, { shape: s.shape, data: Float32Array.from(w[s.name]) }]),
  );
  const tag = `${naming}-${c.imageSize}-${layout}`;
  const model = join(dir, `${tag}.safetensors`);
  writeFileSync(model, writeSafetensors(fromCanonical(canonical, naming)));
  const images = Float32Array.from(normal(B * 3 * c.imageSize * c.imageSize, seed + 1));
  const input = join(dir, `${tag}.npy`);
  writeFileSync(input, writeNpy(images, [B, 3, c.imageSize, c.imageSize]));
  const out = join(dir, `${tag}-attn.npy`);
  const r = await stochcaWithEnv(
    { STOCHCA_LAYOUT: layout },
    'attention',
    '--model',
    model,
    '--input',
    input,
    '--out',
    out,
    '--heads',
    String(c.heads),
  );
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).out).toBe(out);
  const maps = readNpy(readFileSync(out));
  expect(maps.dtype).toBe('f4');
  const f32 = Object.fromEntries([...canonical].map(([k, t]) => [k, Float64Array.from(t.data)]));
  return {
    shape: maps.shape,
    got: maps.data as Float32Array,
    want: vitClassAttentionRef(c, f32, Float64Array.from(images), B),
  };
}

describe('stochca attention', () => {
  // Each case starts a headless Chromium (seconds): torchvision names here, timm names below; the
  // kernel itself runs under both layouts in tests/kernels/attention.test.ts.
  it("writes the class token's attention of a tiny torchvision checkpoint, matching the float64 reference", async () => {
    const { shape, got, want } = await run(TINY_VIT, 'torchvision', 'cpu', 10);
    expect(shape).toEqual([B, 2, 2, 5]);
    expectClose(got, want, 1e-4, 'torchvision maps');
  });

  // ViT/16 at 224 px (197 tokens): the tiny ViT's width and depth, so that SwiftShader runs it in seconds.
  const wide: VitArch = { ...TINY_VIT, imageSize: 224, patchSize: 16 };
  it('gives 197 tokens per map for a ViT/16 at 224 px with timm names, each summing to 1', async () => {
    const { shape, got, want } = await run(wide, 'timm', 'gpu', 20);
    expect(shape).toEqual([B, 2, 2, 197]);
    expectClose(got, want, 1e-4, 'maps');
    for (let r = 0; r < B * 2 * 2; r++) {
      const sum = got.subarray(r * 197, (r + 1) * 197).reduce((a, b) => a + b, 0);
      expect(sum, `map ${r}`).toBeCloseTo(1, 5);
    }
  });
});
