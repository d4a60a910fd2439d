// What the command line says when something is wrong: an error keeps its detail lines (the tensors,
// the shapes), through the Chromium host too, up to a cap; usage errors keep their hint; `stochca eval`
// says which files it left out and why.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stochca, stochcaWithEnv } from '../helpers/cli.ts';
import type { InfoReport } from '../../src/cli/info-command.ts';
import { fromCanonical } from '../../src/checkpoint/convert.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { CheckpointConfig } from '../../src/checkpoint/checkpoint-config.ts';
import { initCommand } from '../../src/cli/init-command.ts';
import { writeNpy } from '../../src/cli/npy.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { makeFolder, png } from '../data/fixtures.ts';
import { canonicalTensors, randomVitWeights, TINY_VIT } from '../helpers/model.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-errors-'));
const config: CheckpointConfig = { ...TINY_VIT, channels: 3 };

function torchvisionTensors(): Map<string, HostTensor> {
  return fromCanonical(canonicalTensors(config, randomVitWeights(config, 4)), 'torchvision');
}

/** `stochca infer` of the checkpoint bytes `model`, written as `name`, on one zero image; `env` over this process's. */
function infer(model: Uint8Array, name: string, env: Record<string, string> = {}) {
  writeFileSync(join(dir, name), model);
  writeFileSync(join(dir, 'x.npy'), writeNpy(new Float32Array(3 * 8 * 8), [1, 3, 8, 8]));
  return stochcaWithEnv(
    env,
    'infer',
    '--model',
    join(dir, name),
    '--input',
    join(dir, 'x.npy'),
    '--out',
    join(dir, 'logits.npy'),
    '--heads',
    '2',
  );
}

describe('stochca errors keep their details', () => {
  it('names the unexpected tensor of a checkpoint that does not fit', async () => {
    const tensors = torchvisionTensors();
    tensors.set('encoder.layers.encoder_layer_0.extra.weight', { shape: [4], data: new Float32Array(4) });
    const r = await infer(writeSafetensors(tensors), 'extra.safetensors');
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'stochca: torchvision checkpoint does not fit ViT image 8 patch 4 dim 16 depth 2 heads 2 mlp 32 classes 3:',
      '  unexpected: encoder.layers.encoder_layer_0.extra.weight',
    ]);
  });

  it('shows the first 20 detail lines and how many more there are', async () => {
    // Every tensor stored as I32 (the same width as F32, so the header keeps its length): one problem
    // line per tensor, 32 in all.
    const bytes = writeSafetensors(torchvisionTensors());
    const end = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    bytes.set(
      new TextEncoder().encode(
        new TextDecoder().decode(bytes.subarray(8, end)).replaceAll('"dtype":"F32"', '"dtype":"I32"'),
      ),
      8,
    );
    const r = await infer(bytes, 'ints.safetensors');
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^stochca: torchvision checkpoint does not fit/);
    expect(lines[1]).toBe('  conv_proj.weight: expected a floating-point tensor, got I32');
    expect(lines.slice(1, 21).every((l) => /^ {2}\S.*: expected a floating-point tensor, got I32$/.test(l))).toBe(true);
    expect(lines.slice(21)).toEqual(['  … and 12 more']);
  });

  it('refuses a file naming block 999999 and an HTML page, each in words', async () => {
    const oneTensor = new TextEncoder().encode('{"blocks.999999.x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}');
    const file = new Uint8Array(8 + oneTensor.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(oneTensor.length), true);
    file.set(oneTensor, 8);
    const cases: [string, Uint8Array, string][] = [
      [
        'block 999999',
        file,
        'stochca: blocks.999999.x: block 999999 is beyond the 256 blocks a ViT can have here (the deepest have 48)',
      ],
      [
        'an HTML page',
        new TextEncoder().encode('<!DOCTYPE html><title>502 Bad Gateway</title>'),
        'stochca: this is an HTML page, not a safetensors file (was an error page served instead?)',
      ],
    ];
    for (const [what, bytes, message] of cases) {
      const start = performance.now();
      const r = await infer(bytes, 'refused.safetensors');
      console.log(
        `stochca infer, ${what}: exit ${r.code} in ${((performance.now() - start) / 1000).toFixed(1)} s (the engine host's start included)`,
      );
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd()).toBe(message);
    }
  });

  it('STOCHCA_HOST=node without a GPU refuses in one line rather than letting Dawn abort the process', async ({
    skip,
  }) => {
    const info = await stochcaWithEnv({ STOCHCA_HOST: 'node' }, 'info', '--json');
    if (!(JSON.parse(info.stdout) as InfoReport).fallback) return skip('Dawn for Node has a hardware adapter here');
    const r = await infer(writeSafetensors(torchvisionTensors()), 'node.safetensors', { STOCHCA_HOST: 'node' });
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'stochca: STOCHCA_HOST=node found no GPU, only SwiftShader, on which Dawn for Node crashes while kernels run: ' +
        'unset STOCHCA_HOST (or set it to chromium) to run the engine in headless Chromium.',
    ]);
  });

  it('a usage error keeps its hint', async () => {
    const r = await stochca('eval', '--model', 'm.safetensors');
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual(['stochca: missing --data', "run 'stochca --help' for usage"]);
  });
});

describe('stochca eval', () => {
  it('says how many files it left out, and the first few with their reasons, on stderr', async () => {
    const model = join(dir, 'two-class.safetensors');
    writeFileSync(model, initCommand({ ...config, depth: 1, numClasses: 2 }, 0).file);
    const data = await makeFolder({
      'a/0.png': await png(30, 8),
      'a/1.png': await png(40, 8),
      'b/0.png': await png(200, 8),
      '.DS_Store': 'x',
      'a/notes.txt': 'not an image',
      'b/broken.png': 'not a png either',
    });
    const r = await stochca('eval', '--model', model, '--data', data, '--heads', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^top-1 accuracy \d+\.\d\d% on 3 images/);
    expect(r.stderr).toContain(
      "left out 3 files: '.DS_Store' (hidden file), 'a/notes.txt' (not an image (.txt)), 'b/broken.png' (not a decodable image",
    );
  });
});
