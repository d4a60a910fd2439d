// The exported script's ViT (src/torch/train.py) with every optional feature of CLIP and DINOv2 (pre-norm,
// QuickGELU, no patch bias, LayerScale, 4 registers, patch 14) is the engine's: in float64, its StochCA loss
// is the float64 reference's, and autograd's gradients of it are the engine's, parameter by parameter; and
// such models exported for PyTorch (the activation in the file's stochca_config) train as `stochca train` does,
// the one with registers also under torchrun with 2 processes.
// Skipped, saying so, where Debian's python3-torch is not installed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromCanonical } from '../../src/checkpoint/convert.ts';
import type { Naming } from '../../src/checkpoint/name-tables.ts';
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import type { VitArch } from '../../src/nn/vit-arch.ts';
import { vitParamSpecs } from '../../src/nn/vit-params.ts';
import { mnistSubset, removeTempDirs } from '../data/fixtures.ts';
import { stochca } from '../helpers/cli.ts';
import { harnessPage } from '../helpers/browser.ts';
import { relError } from '../helpers/compare.ts';
import { plainWeights, randomVitWeights } from '../helpers/model.ts';
import { normal } from '../helpers/random.ts';
import { maxRelative, python, readCurvesCsv, torchMissing, torchrun } from '../helpers/torch.ts';
import { EVERY_FEATURE, vitLossRef } from '../reference/vit.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-torch-features-'));
afterAll(removeTempDirs);

const config = EVERY_FEATURE;
const B = 2;
const mask = [false, true];

// The engine's parameter names → train.py's module: its attribute names, and the checkpoints' leading
// 1-dims for the class token, position embedding and registers.
const SCRIPT = String.raw`
import importlib.util, json, sys
sys.dont_write_bytecode = True  # no __pycache__ beside the script in the repository
import torch
import torch.nn.functional as F
spec = importlib.util.spec_from_file_location('train', sys.argv[1])
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)
with open(sys.argv[2]) as f:
    d = json.load(f)
c = d['config']
RENAMED = {'preNorm.weight': 'pre_norm.weight', 'preNorm.bias': 'pre_norm.bias'}
def model(weights):
    m = train.ViT(c).double()
    shapes = {k: v.shape for k, v in m.state_dict().items()}
    as_module = lambda name, values: torch.tensor(values, dtype=torch.float64).reshape(shapes[RENAMED.get(name, name)])
    m.load_state_dict({RENAMED.get(n, n): as_module(n, v) for n, v in weights.items()})
    return m
student, teacher = model(d['student']), model(d['teacher'])
S = c['imageSize']
x = torch.tensor(d['images'], dtype=torch.float64).reshape(-1, 3, S, S)
loss = F.cross_entropy(student(x, teacher.keys_values(x, d['mask'])), torch.tensor(d['labels']))
loss.backward()
engine = {v: k for k, v in RENAMED.items()}
grads = {engine.get(n, n): p.grad.flatten().tolist() for n, p in student.named_parameters()}
print(json.dumps({'loss': loss.item(), 'grads': grads}))
`;

describe.skipIf(torchMissing !== '')(`train.py's ViT with every CLIP and DINOv2 feature${torchMissing}`, () => {
  it('gives the float64 reference’s StochCA loss and the engine’s gradients', async () => {
    const student = randomVitWeights(config, 60);
    const teacher = randomVitWeights(config, 61);
    const images = normal(B * 3 * config.imageSize ** 2, 62);
    const labels = [2, 0];
    const input = join(dir, 'input.json');
    const w = { student: plainWeights(student), teacher: plainWeights(teacher) };
    writeFileSync(input, JSON.stringify({ config, ...w, images: [...images], labels, mask }));
    const script = join(dir, 'run.py');
    writeFileSync(script, SCRIPT);
    const torch = await python([script, resolve('src/torch/train.py'), input]);
    expect(torch.code, torch.stderr).toBe(0);
    const out = JSON.parse(torch.stdout) as { loss: number; grads: Record<string, number[]> };

    const want = vitLossRef(config, student, teacher, images, labels, mask);
    expect(Math.abs(out.loss - want) / want, `${out.loss} vs ${want}`).toBeLessThan(1e-12);

    const page = await harnessPage();
    const engine = await page.evaluate(
      async ({ c, B, student, teacher, images, labels, mask }) => {
        const { gpu, nn } = window.stochca!;
        const net = nn.allocateVit(gpu, nn.planVit(c, { batch: B, training: true, teacher: true }));
        for (const [name, data] of Object.entries(student)) gpu.write(net.weights.at[name], Float32Array.from(data));
        for (const [name, data] of Object.entries(teacher))
          gpu.write(net.teacher.weights.at[name], Float32Array.from(data));
        gpu.write(net.stem.images, Float32Array.from(images));
        gpu.write(net.stem.labels, Uint32Array.from(labels));
        nn.computeGradients(gpu, net, mask);
        const grads: Record<string, number[]> = {};
        for (const name of Object.keys(student)) grads[name] = Array.from(await gpu.read(net.grads.at[name]));
        return grads;
      },
      { c: config, B, ...w, images: [...images], labels, mask },
    );
    expect(Object.keys(out.grads).sort()).toEqual(Object.keys(engine).sort());
    for (const [name, g] of Object.entries(engine)) {
      const { err } = relError(g, out.grads[name]);
      expect(err, `${name}: ${g.slice(0, 4)} vs ${out.grads[name].slice(0, 4)}`).toBeLessThan(1e-3);
    }
    console.log(`train.py's ViT with every feature: loss ${out.loss} (reference ${want})`);
  }, 300_000);

  // timm's names for CLIP's features and LayerScale; DINOv2's registers under HF's names, and under timm's,
  // whose register models keep the class position in cls_token (classPosition false: not trained apart).
  // The HF registers' export also under torchrun with 2 processes (Gloo), each taking half the batch.
  const exports: [string, Naming, Partial<VitArch>, { processes: number }][] = [
    ['pre-norm, QuickGELU, no patch bias, LayerScale (timm names)', 'timm', { registers: 0 }, { processes: 1 }],
    ["4 registers, LayerScale (HF's DINOv2 names)", 'hf-dinov2', { preNorm: false, patchBias: true }, { processes: 2 }],
    [
      '4 registers, LayerScale, the class position in the class token (timm names)',
      'timm',
      { preNorm: false, patchBias: true, classPosition: false },
      { processes: 1 },
    ],
  ];
  for (const [i, [what, naming, change, { processes }]] of exports.entries()) {
    it(`exported with ${what}, trains as the engine does: the first-step loss to 1e-4, the same masks`, async () => {
      const c: VitArch = { ...config, dim: 32, mlpDim: 64, numClasses: 10, ...change };
      const w = randomVitWeights(c, 63);
      const canonical = new Map<string, HostTensor>(
        vitParamSpecs(c).map((s) => [s.name, { shape: s.shape, data: Float32Array.from(w[s.name]) }]),
      );
      // The names tell every feature but the activation, which the saved config says.
      const model = join(dir, `${naming}-${i}.safetensors`);
      const metadata = { stochca_config: JSON.stringify(c) };
      writeFileSync(model, writeSafetensors(fromCanonical(canonical, naming), { metadata }));
      const data = join(dir, 'mnist.zip');
      writeFileSync(data, new Uint8Array(await (await mnistSubset(12, 4)).arrayBuffer()));
      const run = ['--model', model, '--data', data, '--heads', '2', '--p', '0.5', '--steps', '4', '--batch', '8'];
      const settings = [...run, '--lr', '3e-3', '--warmup', '1', '--seed', '3', '--crop', 'none', '--no-flip'];
      const bundle = join(dir, `bundle-${naming}-${i}`);
      const exported = await stochca('export-torch', ...settings, '--out', bundle);
      expect(exported.code, exported.stderr).toBe(0);
      const out = (who: string) => join(dir, `${who}-${naming}-${i}`);
      const script = [join(bundle, 'train.py'), '--data-root', data, '--out'];
      const [engine, ...torch] = await Promise.all([
        stochca('train', ...settings, '--out', out('engine')),
        python([...script, out('torch-1')]),
        ...(processes > 1 ? [torchrun(processes, [...script, out(`torch-${processes}`)])] : []),
      ]);
      expect(engine.code, engine.stderr).toBe(0);
      const train = (who: string) => readCurvesCsv(join(out(who), 'curves.csv')).filter((r) => r.split === 'train');
      const b = train('engine');
      for (const [k, ran] of torch.entries()) {
        expect(ran.code, ran.stderr).toBe(0);
        const who = `torch-${k === 0 ? 1 : processes}`;
        const a = train(who);
        expect(a.map((r) => r.mask)).toEqual(b.map((r) => r.mask));
        const first = maxRelative([a[0].loss], [b[0].loss]);
        const all = maxRelative(
          a.map((r) => r.loss),
          b.map((r) => r.loss),
        );
        console.log(
          `${what}, PyTorch (${who}) against the engine: first-step loss ${a[0].loss} vs ${b[0].loss} ` +
            `(relative ${first.toExponential(1)}), ${a.length} steps at most ${all.toExponential(1)}`,
        );
        expect(first).toBeLessThan(1e-4);
        expect(all).toBeLessThan(1e-3);
      }
    }, 300_000);
  }
});
