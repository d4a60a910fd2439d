// `stochca train --model hub:ORG/NAME` against the loopback Hub mirror (STOCHCA_HUB) with a cache of its
// own (STOCHCA_CACHE): the first run fetches the zoo model (its connection dropped half way and resumed
// with a Range request) and trains a step on it; a second run takes it from the cache without a request;
// a distilled DeiT is refused, named from the zoo or as a file, with the model to take instead.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { zooEntry } from '../../src/checkpoint/zoo.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../src/nn/ops/normalize.ts';
import { makeFolder, png } from '../data/fixtures.ts';
import { stochcaWithEnv } from '../helpers/cli.ts';
import { startHubMirror, type HubMirror } from '../helpers/hub-mirror.ts';

const REPO = 'facebook/deit-tiny-patch16-224';
const entry = zooEntry(REPO);
const dir = mkdtempSync(join(tmpdir(), 'stochca-zoo-'));
const cache = join(dir, 'cache');

let mirror: HubMirror;
let data = '';
let env: Record<string, string> = {};

beforeAll(async () => {
  mirror = await startHubMirror();
  env = { STOCHCA_HUB: mirror.base, STOCHCA_CACHE: cache };
  data = await makeFolder({
    'dark/0.png': await png(20, 8),
    'dark/1.png': await png(30, 8),
    'light/0.png': await png(220, 8),
    'light/1.png': await png(230, 8),
  });
});

afterAll(() => mirror.close());

/** Two runs of `stochca train`, each starting headless Chromium and compiling the engine's pipelines:
 *  40 s each on a quiet 2-core machine, twice that when other tests share it. */
const RUNS_TIMEOUT_MS = 360_000;

/** One step of batch 2 at the model's 224 px, no validation: a ViT-Ti step takes seconds on SwiftShader. */
const train = (model: string, out: string) =>
  stochcaWithEnv(
    env,
    'train',
    '--model',
    model,
    '--data',
    data,
    '--steps',
    '1',
    '--batch',
    '2',
    '--val-fraction',
    '0',
    '--method',
    'finetune',
    '--out',
    join(dir, out),
  );

const paths = (r: { path: string; range?: string; status: number }[]) =>
  r.map((q) => `${q.status} ${q.path.replace(/[0-9a-f]{64}/, '<hash>')}${q.range ? ` ${q.range}` : ''}`);

describe('stochca train --model hub:', () => {
  it(
    'fetches a zoo model once (resuming a dropped connection), trains on it, and takes it from the cache after',
    async () => {
      mirror.dropNext();
      const t0 = performance.now();
      const first = await train(`hub:${REPO}`, 'first');
      const firstMs = performance.now() - t0;
      expect(first.code, first.stderr).toBe(0);
      const half = Math.floor(entry.bytes / 2);
      expect(paths(mirror.requests)).toEqual([
        `200 /${REPO}/resolve/main/config.json`,
        `302 /${REPO}/resolve/main/model.safetensors`,
        '200 /cdn/<hash>',
        `302 /${REPO}/resolve/main/model.safetensors bytes=${half}-`,
        `206 /cdn/<hash> bytes=${half}-`,
      ]);
      const fetched = first.stderr.split('\n').find((l) => l.includes('fetched in'));
      expect(fetched).toMatch(/resumed once/);
      const kept = join(cache, 'hub', ...REPO.split('/'));
      expect(statSync(join(kept, 'model.safetensors')).size).toBe(entry.bytes);
      expect(existsSync(join(kept, 'config.json'))).toBe(true);
      expect(existsSync(join(kept, 'model.safetensors.partial'))).toBe(false);
      const summary = JSON.parse(first.stdout.trim().split('\n').at(-1)!);
      expect(summary.steps).toBe(1);
      expect(Number.isFinite(summary.final_loss)).toBe(true);
      const cfg = JSON.parse(readFileSync(join(dir, 'first', 'config.json'), 'utf8'));
      expect(cfg.model).toMatchObject({
        hub: REPO,
        path: join(kept, 'model.safetensors'),
        configPath: join(kept, 'config.json'),
      });
      expect(cfg.normalization).toEqual({ mean: IMAGENET_MEAN, std: IMAGENET_STD });
      expect(cfg.config).toMatchObject({ imageSize: 224, dim: 192, depth: 12, heads: 3, numClasses: 2 });
      expect(cfg.changes).toEqual(['new 2-class head']);

      // A second run takes the model from the cache with no request. Its data has one class, so it ends
      // right after the model is resolved: a second step at 224 px would add half a minute and nothing else.
      const before = mirror.requests.length;
      const oneClass = await makeFolder({ 'dark/0.png': await png(20, 8), 'dark/1.png': await png(30, 8) });
      const t1 = performance.now();
      const second = await stochcaWithEnv(
        env,
        'train',
        '--model',
        `hub:${REPO}`,
        '--data',
        oneClass,
        '--out',
        join(dir, 'second'),
      );
      const secondMs = performance.now() - t1;
      expect(second.stderr).toContain(`${REPO}: from the cache, ${kept}`);
      expect(second.stderr).toContain('needs at least 2 classes');
      expect(mirror.requests.length).toBe(before);
      console.log(
        `first run (fetch, resumed after a drop, and one step): ${(firstMs / 1000).toFixed(1)} s, "${fetched}"; ` +
          `second run (from the cache): ${(secondMs / 1000).toFixed(1)} s, no request`,
      );
    },
    RUNS_TIMEOUT_MS,
  );

  it('refuses a distilled DeiT, named from the zoo or as a file, with the model to take instead', async () => {
    const before = mirror.requests.length;
    const named = await train('hub:facebook/deit-tiny-distilled-patch16-224', 'distilled');
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(
      /^stochca: --model hub:facebook\/deit-tiny-distilled-patch16-224: a distilled DeiT .* hub:facebook\/deit-tiny-patch16-224 /,
    );
    expect(mirror.requests.length).toBe(before);

    const t = (...shape: number[]): HostTensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const file = join(dir, 'deit_small_distilled.safetensors');
    writeFileSync(
      file,
      writeSafetensors(
        new Map([
          ['cls_token', t(1, 1, 384)],
          ['dist_token', t(1, 1, 384)],
          ['pos_embed', t(1, 198, 384)],
        ]),
      ),
    );
    const local = await train(file, 'distilled-file');
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(/^stochca: dist_token: a distilled DeiT .* hub:facebook\/deit-small-patch16-224 /);
  });
});
