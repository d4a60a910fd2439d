// A linear probe exported for PyTorch (`stochca export-torch --method linear-probe`) is the engine's run:
// the same first-step loss, the same losses after updates of the head alone, and a saved model whose every
// tensor but the head's is the exported starting model's. The built-in Fashion-MNIST ViT on MNIST digits,
// a new head. Skipped, saying so, where Debian's python3-torch is not installed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/checkpoint/safetensors.ts';
import { mnistSubset, removeTempDirs } from '../data/fixtures.ts';
import { stochca } from '../helpers/cli.ts';
import { maxRelative, python, readCurvesCsv, torchMissing } from '../helpers/torch.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-torch-probe-'));
const SETTINGS = ['--method', 'linear-probe', '--steps', '8', '--batch', '8', '--lr', '1e-2', '--warmup', '1'];
const RUN = [...SETTINGS, '--eval-every', '4', '--seed', '4', '--crop', 'none', '--wd-exempt', '--clip', '1'];

afterAll(removeTempDirs);

describe.skipIf(torchMissing !== '')(`a linear probe exported for PyTorch${torchMissing}`, () => {
  it('trains the head alone as the engine does: the first-step loss to 1e-4, the rest of the model as it started', async () => {
    const data = join(dir, 'mnist.zip');
    writeFileSync(data, new Uint8Array(await (await mnistSubset(12, 4)).arrayBuffer()));
    const common = ['--model', 'builtin:vit-fmnist', '--data', data, ...RUN];
    const bundle = join(dir, 'bundle');
    const exported = await stochca('export-torch', ...common, '--out', bundle);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(bundle, 'experiment.json'), 'utf8')).method).toBe('linear-probe');
    const [engine, torch] = await Promise.all([
      stochca('train', ...common, '--out', join(dir, 'engine')),
      python([join(bundle, 'train.py'), '--data-root', data, '--out', join(dir, 'torch')]),
    ]);
    expect(engine.code, engine.stderr).toBe(0);
    expect(torch.code, torch.stderr).toBe(0);

    const train = (run: string) => readCurvesCsv(join(dir, run, 'curves.csv')).filter((r) => r.split === 'train');
    const [a, b] = [train('torch'), train('engine')];
    expect(a.map((r) => r.step)).toEqual(b.map((r) => r.step));
    const first = maxRelative([a[0].loss], [b[0].loss]);
    const all = maxRelative(
      a.map((r) => r.loss),
      b.map((r) => r.loss),
    );
    console.log(
      `linear probe, PyTorch against the engine: first-step loss ${a[0].loss} vs ${b[0].loss} (relative ${first.toExponential(1)}), ` +
        `${a.length} steps at most ${all.toExponential(1)}`,
    );
    expect(first).toBeLessThan(1e-4);
    expect(all).toBeLessThan(1e-3);

    // Both saved models: the exported start's backbone exactly, a head of their own training.
    const tensors = (path: string) => parseSafetensors(readFileSync(path)).tensors;
    const start = tensors(join(bundle, 'model.safetensors'));
    for (const run of ['torch', 'engine']) {
      const trained = tensors(join(dir, run, 'model.safetensors'));
      expect([...trained.keys()].sort(), run).toEqual([...start.keys()].sort());
      const changed = [...start].filter(([name, t]) => trained.get(name)!.data.some((x, i) => x !== t.data[i]));
      expect(changed.map(([name]) => name).sort(), run).toEqual(['head.bias', 'head.weight']);
    }
  }, 300_000);
});
