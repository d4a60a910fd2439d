// The experiment exported for PyTorch (`stochca export-torch`, src/torch/train.py) is the engine's run:
// the same first-step loss and the same masks as `stochca train` on the same data, the same losses under
// torchrun with 2 processes (Gloo) as with one, the same epoch order, crops, flips and pixels as the
// batcher, and model files that `stochca eval` reads as they are, under each naming.
// Skipped, saying so, where Debian's python3-torch is not installed.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { Naming } from '../../src/checkpoint/name-tables.ts';
import { parseSafetensors } from '../../src/checkpoint/safetensors.ts';
import { Batcher } from '../../src/data/batcher.ts';
import { nodeDecoder } from '../../src/data/decode-node.ts';
import { folderTree } from '../../src/data/folder-source.ts';
import { drawMask } from '../../src/nn/stochca-step.ts';
import { makeFolder, mnistSubset, png, removeTempDirs, type Files } from '../data/fixtures.ts';
import { stochca } from '../helpers/cli.ts';
import { MNIST_SIZED_VIT, randomCheckpoint } from '../helpers/model.ts';
import { maxRelative, python, readCurvesCsv, torchMissing, torchrun, type CurveRow } from '../helpers/torch.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-torch-'));
const config = MNIST_SIZED_VIT;
const SETTINGS = [
  '--p',
  '0.5',
  '--steps',
  '10',
  '--batch',
  '8',
  '--lr',
  '3e-3',
  '--warmup',
  '2',
  '--eval-every',
  '5',
  '--seed',
  '3',
  '--crop',
  'none',
  '--no-flip',
];

afterAll(removeTempDirs);

/** The same random tiny ViT under one naming. */
function checkpoint(naming: Naming): string {
  const path = join(dir, `${naming}.safetensors`);
  writeFileSync(path, randomCheckpoint(config, 3, naming));
  return path;
}

let data: string;

async function exported(naming: Naming): Promise<string> {
  data ??= await (async () => {
    const path = join(dir, 'mnist.zip');
    writeFileSync(path, new Uint8Array(await (await mnistSubset(12, 4)).arrayBuffer()));
    return path;
  })();
  const out = join(dir, `bundle-${naming}`);
  const r = await stochca(
    'export-torch',
    '--model',
    checkpoint(naming),
    '--data',
    data,
    '--heads',
    '2',
    ...SETTINGS,
    '--out',
    out,
  );
  expect(r.code, r.stderr).toBe(0);
  return out;
}

const train = (rows: CurveRow[]) => rows.filter((r) => r.split === 'train');
let oneProcess: CurveRow[];

describe.skipIf(torchMissing !== '')(`the experiment exported for PyTorch${torchMissing}`, () => {
  it("trains as the engine does: the first-step loss to 1e-4, 10 steps within 1e-2, the same masks at p = 0.5 and the engine's split", async () => {
    const bundle = await exported('timm');
    const engineOut = join(dir, 'engine');
    const torchOut = join(dir, 'torch-1');
    const started = performance.now();
    const [engine, torch] = await Promise.all([
      stochca(
        'train',
        '--model',
        join(dir, 'timm.safetensors'),
        '--data',
        data,
        '--heads',
        '2',
        ...SETTINGS,
        '--out',
        engineOut,
      ),
      python([join(bundle, 'train.py'), '--data-root', data, '--out', torchOut]),
    ]);
    const engineSeconds = (performance.now() - started) / 1000;
    expect(engine.code, engine.stderr).toBe(0);
    expect(torch.code, torch.stderr).toBe(0);
    const experiment = JSON.parse(readFileSync(join(bundle, 'experiment.json'), 'utf8'));
    const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(experiment).toMatchObject({
      model: { kind: 'file', name: 'timm.safetensors', sha256: sha256(join(dir, 'timm.safetensors')) },
      data: { kind: 'local', name: 'mnist.zip', count: 1, sha256: sha256(data) },
      p: 0.5,
      steps: 10,
      crop: 'none',
      flip: false,
    });
    const split = JSON.parse(readFileSync(join(bundle, 'split.json'), 'utf8'));
    const engineConfig = JSON.parse(readFileSync(join(engineOut, 'config.json'), 'utf8'));
    expect(split.classes).toEqual(engineConfig.classes);
    expect([split.train.length, split.val.length, split.test.length]).toEqual([
      engineConfig.counts.train,
      engineConfig.counts.val,
      engineConfig.counts.test,
    ]);

    const ours = readCurvesCsv(join(engineOut, 'curves.csv'));
    oneProcess = readCurvesCsv(join(torchOut, 'curves.csv'));
    const [a, b] = [train(oneProcess), train(ours)];
    expect(a.map((r) => r.step)).toEqual(b.map((r) => r.step));
    expect(a.map((r) => r.mask)).toEqual(b.map((r) => r.mask));
    expect(new Set(a.map((r) => r.mask)).size).toBeGreaterThan(2);
    expect(
      maxRelative(
        a.map((r) => r.lr),
        b.map((r) => r.lr),
      ),
    ).toBeLessThan(1e-12);
    const first = maxRelative([a[0].loss], [b[0].loss]);
    const all = maxRelative(
      a.map((r) => r.loss),
      b.map((r) => r.loss),
    );
    const evals = (rows: CurveRow[]) => rows.filter((r) => r.split !== 'train');
    const evalLoss = maxRelative(
      evals(oneProcess).map((r) => r.loss),
      evals(ours).map((r) => r.loss),
    );
    console.log(
      `PyTorch against the engine: first-step loss ${a[0].loss} vs ${b[0].loss} (relative ${first.toExponential(1)}), ` +
        `10 steps at most ${all.toExponential(1)}, evaluations at most ${evalLoss.toExponential(1)}; ` +
        `stochca train ${engineSeconds.toFixed(1)} s, the script ${torch.seconds.toFixed(1)} s (both at once)`,
    );
    expect(first).toBeLessThan(1e-4);
    expect(all).toBeLessThan(1e-2);
    expect(evals(oneProcess).map((r) => [r.step, r.split, r.accuracy])).toEqual(
      evals(ours).map((r) => [r.step, r.split, r.accuracy]),
    );
  }, 300_000);

  it('gives the losses of one process under torchrun --nproc_per_node 2 (Gloo), each taking half the batch', async () => {
    const bundle = join(dir, 'bundle-timm');
    const r = await torchrun(2, [join(bundle, 'train.py'), '--data-root', data, '--out', join(dir, 'torch-2')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('2 processes');
    const two = readCurvesCsv(join(dir, 'torch-2', 'curves.csv'));
    const [a, b] = [train(two), train(oneProcess)];
    expect(a.map((x) => x.mask)).toEqual(b.map((x) => x.mask));
    const diff = maxRelative(
      a.map((x) => x.loss),
      b.map((x) => x.loss),
    );
    console.log(
      `torchrun with 2 processes against 1: losses of 10 steps at most ${diff.toExponential(1)} apart (relative), ${r.seconds.toFixed(1)} s`,
    );
    expect(diff).toBeLessThan(1e-5);
    expect(JSON.parse(readFileSync(join(dir, 'torch-2', 'config.json'), 'utf8')).host.processes).toBe(2);
  }, 300_000);

  it("draws the batcher's epoch orders, crops and flips and resamples to its pixels", async () => {
    // Images of several sizes, all enlarged to the cache size (32 px for 28): the engine's own bilinear.
    const files: Files = {};
    const sizes = [
      [28, 28],
      [20, 31],
      [13, 9],
      [32, 32],
      [7, 40],
    ];
    for (let i = 0; i < 10; i++) {
      const [w, h] = sizes[i % sizes.length];
      const pixels = Uint8Array.from({ length: w * h * 3 }, (_, k) => (k * 37 + i * 101) % 256);
      files[`${i % 2 ? 'odd' : 'even'}/${i}.png`] = new Uint8Array(
        await sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
          .png()
          .toBuffer(),
      );
    }
    files['even/gray.png'] = await png(90, 17);
    const root = await makeFolder(files);
    const tree = await folderTree(root);
    const samples = tree.files
      .sort((x, y) => (x.path < y.path ? -1 : 1))
      .map((entry) => ({ entry, label: entry.path.startsWith('odd') ? 1 : 0 }));
    const S = 28;
    const C = 32;
    const B = 4;
    const bundle = join(dir, 'bundle-timm');
    for (const [crop, seed] of [
      ['random-resized', 5],
      ['random', 6],
      ['none', 7],
    ] as const) {
      const batcher = new Batcher({
        samples,
        decode: nodeDecoder(C),
        imageSize: S,
        batchSize: B,
        seed,
        cacheBytes: 2 ** 24,
        augment: { crop, flip: true },
      });
      const ours: { indices: number[]; pixels: string }[] = [];
      for await (const b of batcher) {
        const rgb = new Uint8Array(b.count * S * S * 3);
        const rgba = new Uint8Array(b.pixels.buffer);
        for (let k = 0; k < b.count * S * S; k++) rgb.set(rgba.subarray(4 * k, 4 * k + 3), 3 * k);
        ours.push({ indices: b.indices, pixels: Buffer.from(rgb).toString('base64') });
        if (ours.length === 7) break; // 28 images: two epochs and a batch across their boundary
      }
      const script = `
import base64, json, sys
sys.path.insert(0, ${JSON.stringify(bundle)})
import train as t
samples = json.loads(sys.argv[1])
images = t.Images(t.DataRoot(${JSON.stringify(root)}), '', samples, ${C}, ${S}, [2 ** 24], t.ThreadPoolExecutor(2))
view = lambda it: t.train_view(${C}, ${S}, ${JSON.stringify(crop)}, True, t.seeded_rng(t.mix(${seed}, it[1], it[2], t.VIEW)))
batches, out = t.training_batches(len(samples), ${B}, ${seed}), []
for _ in range(7):
    _, items = next(batches)
    pixels, _ = images.batch(items, view)
    out.append({'indices': [i for i, _, _ in items], 'pixels': base64.b64encode(pixels.numpy().tobytes()).decode()})
print(json.dumps(out))`;
      const r = await python(['-c', script, JSON.stringify(samples.map((s) => [s.entry.path, s.label]))]);
      expect(r.code, r.stderr).toBe(0);
      const theirs = JSON.parse(r.stdout);
      expect(
        theirs.map((x: { indices: number[] }) => x.indices),
        crop,
      ).toEqual(ours.map((x) => x.indices));
      theirs.forEach((x: { pixels: string }, k: number) =>
        expect(x.pixels === ours[k].pixels, `${crop}: pixels of batch ${k}`).toBe(true),
      );
    }
    // And the masks of many steps, depths and probabilities.
    const cases = [
      [0, 1, 12, 0.1],
      [3, 7, 4, 0.5],
      [2 ** 31 - 1, 100_000, 24, 0.3],
      [123456, 42, 1, 0.9],
    ];
    const r = await python([
      '-c',
      `import json, sys; sys.path.insert(0, ${JSON.stringify(bundle)}); import train as t
print(json.dumps([t.draw_mask(*c) for c in ${JSON.stringify(cases)}]))`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(cases.map(([seed, step, depth, p]) => drawMask(seed, step, depth, p)));
  }, 120_000);

  it('trains a torchvision or HF checkpoint under its own names, which stochca eval reads as they are', async () => {
    const runs = await Promise.all(
      (['torchvision', 'hf'] as const).map(async (naming) => {
        const bundle = await exported(naming);
        const out = join(dir, `torch-${naming}`);
        const r = await python([join(bundle, 'train.py'), '--data-root', data, '--out', out, '--steps', '3']);
        expect(r.code, r.stderr).toBe(0);
        const names = (path: string) => [...parseSafetensors(readFileSync(path)).tensors.keys()];
        const metadata = (path: string) => parseSafetensors(readFileSync(path)).metadata;
        expect(names(join(out, 'model.safetensors'))).toEqual(names(join(bundle, 'model.safetensors')));
        expect(metadata(join(out, 'model.safetensors'))).toEqual(metadata(join(bundle, 'model.safetensors')));
        return { out, summary: JSON.parse(r.stdout.trim().split('\n').at(-1)!) };
      }),
    );
    expect(runs.map((r) => r.summary.reason)).toEqual(['stopped', 'stopped']);
    // The same weights under torchvision names are the timm run (HF's LayerNorm eps is 1e-12: another model).
    expect(train(readCurvesCsv(join(runs[0].out, 'curves.csv'))).map((x) => x.loss)).toEqual(
      train(oneProcess)
        .slice(0, 3)
        .map((x) => x.loss),
    );
    const e = await stochca(
      'eval',
      '--model',
      join(runs[1].out, 'model.safetensors'),
      '--data',
      data,
      '--split',
      'test',
      '--json',
    );
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBe(runs[1].summary.final_test_accuracy);
  }, 300_000);
});
