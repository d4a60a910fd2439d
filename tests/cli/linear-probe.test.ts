// `stochca train --method linear-probe`: the built-in Fashion-MNIST ViT on the built-in MNIST pack, whose
// classes are not the model's, so it starts from a new head; the run trains that head and nothing else.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { parseSafetensors } from '../../src/checkpoint/safetensors.ts';
import { loadStartingModel } from '../../src/train/engine-api.ts';
import { completeExperiment } from '../../src/train/settings.ts';
import { stochca } from '../helpers/cli.ts';

const MODEL = 'public/models/vit-fmnist.safetensors';

describe('stochca train --method linear-probe', () => {
  it("changes the new head alone: every other tensor of the saved model is the starting model's, bit for bit", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'stochca-probe-')), 'run');
    const flags = { steps: 4, batch: 16, lr: 0.01, seed: 5, fraction: 0.1 };
    const r = await stochca(
      'train',
      '--model',
      'builtin:vit-fmnist',
      '--data',
      'pack:mnist',
      '--method',
      'linear-probe',
      '--wd-exempt',
      ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]),
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('; linear-probe; ');
    const run = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(run.settings.method).toBe('linear-probe');
    expect(run.changes.join()).toMatch(/new 10-class head/);

    // The model the engine started from: the file's weights with the head drawn from the run's seed.
    const start = loadStartingModel({
      model: readFileSync(MODEL),
      classNames: run.classes,
      imageSize: 0,
      settings: { ...completeExperiment({ method: 'linear-probe', ...flags }), p: 0, headOnly: true },
    });
    const trained = loadModelFile(readFileSync(join(out, 'model.safetensors')));
    expect([...trained.weights.keys()].sort()).toEqual([...start.weights.keys()].sort());
    const changed = [...start.weights].filter(([name, t]) => {
      const a = trained.weights.get(name)!.data;
      return a.length !== t.data.length || a.some((x, i) => !Object.is(x, t.data[i]));
    });
    expect(changed.map(([name]) => name).sort()).toEqual(['head.bias', 'head.weight']);
    // Every value of the head moved (the weight decays, the bias does not with --wd-exempt, both follow Adam).
    expect(changed.every(([name, t]) => trained.weights.get(name)!.data.every((x, i) => x !== t.data[i]))).toBe(true);

    // The optimizer state holds the head's moments alone (padded to the planner's 64-element alignment).
    const { tensors } = parseSafetensors(readFileSync(join(out, 'state.safetensors')));
    const [D, C] = [start.config.dim, start.config.numClasses];
    const headElems = Math.ceil((C * D) / 64) * 64 + Math.ceil(C / 64) * 64;
    expect(tensors.get('m')!.shape).toEqual([headElems]);
    expect(tensors.get('v')!.shape).toEqual([headElems]);
  }, 240_000);
});
