// `stochca train` and `stochca eval` end to end: a real image folder (PNG files made here) and the built-in
// MNIST pack, a tiny ViT checkpoint file, the loss falls, and the output folder holds
// curves, config and checkpoints (final and best validation) that load back; a run stopped and resumed
// is the run that was not stopped; flags are read through the page's settings schema.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stochca } from '../helpers/cli.ts';
import { loadModelFile } from '../../src/checkpoint/model-file.ts';
import { planVit } from '../../src/nn/planner.ts';
import { makeFolder, mnistSubset, png, type Files } from '../data/fixtures.ts';
import { MNIST_SIZED_VIT, randomCheckpoint } from '../helpers/model.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-train-'));
const config = MNIST_SIZED_VIT;

function checkpoint(): string {
  const path = join(dir, 'pretrained.safetensors');
  writeFileSync(path, randomCheckpoint(config, 3, 'timm'));
  return path;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

let small: Promise<string> | undefined;
/** 100 training and 20 test images of each digit from the built-in pack: real digits, quick to score. */
const smallMnist = () =>
  (small ??= (async () => {
    const path = join(dir, 'mnist-100-20.zip');
    writeFileSync(path, new Uint8Array(await (await mnistSubset(100, 20)).arrayBuffer()));
    return path;
  })());

/** `stochca train` fine-tuning the checkpoint on the small MNIST zip (batch 32, 5 % of its training images
 *  for validation) with `flags`, into `out`. */
const fineTuneMnist = async (out: string, ...flags: string[]) =>
  stochca(
    'train',
    '--model',
    checkpoint(),
    '--data',
    await smallMnist(),
    '--method',
    'finetune',
    '--batch',
    '32',
    '--val-fraction',
    '0.05',
    '--heads',
    '2',
    '--out',
    out,
    ...flags,
  );

/** What `stochca eval` gives `model` on the small MNIST zip's test split. */
async function mnistTestAccuracy(model: string): Promise<number> {
  const e = await stochca('eval', '--model', model, '--data', await smallMnist(), '--split', 'test', '--json');
  expect(e.code, e.stderr).toBe(0);
  return JSON.parse(e.stdout).accuracy;
}

describe('stochca train', () => {
  it('learns an easy two-class folder with StochCA and writes curves, config and loadable final and best checkpoints', async () => {
    // Two classes of different colours, 24 images each, plus files the scan must leave out.
    const files: Files = { '.DS_Store': 'x', 'light/readme.txt': 'not an image' };
    for (let i = 0; i < 24; i++) {
      files[`dark/${i}.png`] = await png(20 + i, 20);
      files[`light/${i}.png`] = await png(200 + i, 20);
    }
    const data = await makeFolder(files);
    const out = join(dir, 'run-shapes');
    const r = await stochca(
      'train',
      '--model',
      checkpoint(),
      '--data',
      data,
      '--steps',
      '24',
      '--batch',
      '8',
      '--lr',
      '3e-3',
      '--warmup',
      '2',
      '--eval-every',
      '12',
      '--p',
      '0.5',
      '--seed',
      '1',
      '--heads',
      '2',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary.steps).toBe(24);
    const curves = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'));
    const losses: number[] = curves.train.map((s: { loss: number }) => s.loss);
    expect(losses).toHaveLength(24);
    expect(mean(losses.slice(-6)), losses.map((l) => l.toFixed(3)).join(' ')).toBeLessThan(
      0.6 * mean(losses.slice(0, 6)),
    );
    expect(curves.train.every((s: { mask: string }) => /^[01]{2}$/.test(s.mask))).toBe(true);
    expect(curves.train.some((s: { mask: string }) => s.mask.includes('1'))).toBe(true);
    expect(curves.eval.map((e: { step: number }) => e.step)).toEqual([12, 24]);
    expect(readFileSync(join(out, 'curves.csv'), 'utf8').split('\n')[0]).toBe('step,split,loss,accuracy,lr,mask');
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.classes).toEqual(['dark', 'light']);
    expect(cfg.leftOut.map((l: { path: string }) => l.path).sort()).toEqual(['.DS_Store', 'light/readme.txt']);
    expect(r.stderr).toContain('left out 2 files: ');
    const model = loadModelFile(readFileSync(join(out, 'model.safetensors')));
    expect(model.naming).toBe('timm');
    expect(model.config.numClasses).toBe(2);
    expect(model.classNames).toEqual(['dark', 'light']);
    // best.safetensors holds the weights of the best validation step: the final ones only when that is the last step
    // (a later evaluation replaces the best only when strictly better, and 12 more steps change every weight).
    const best = readFileSync(join(out, 'best.safetensors'));
    expect(loadModelFile(best).classNames).toEqual(['dark', 'light']);
    const vals = curves.eval.filter((e: { split: string }) => e.split === 'val');
    const bestStep = vals[0].accuracy >= vals[1].accuracy ? 12 : 24;
    expect(summary.best_val_step).toBe(bestStep);
    expect(best.equals(readFileSync(join(out, 'model.safetensors')))).toBe(bestStep === 24);

    // stochca eval on the whole folder with the saved checkpoint, which reloads with no options; the
    // folder twice in one command: one engine scores several data sets, one JSON line each.
    const e = await stochca(
      'eval',
      '--model',
      join(out, 'model.safetensors'),
      '--data',
      data,
      '--data',
      data,
      '--json',
    );
    expect(e.code, e.stderr).toBe(0);
    const [report, again] = e.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(report.data).toBe(data);
    expect(again).toEqual(report);
    expect(report.count).toBe(48);
    expect(report.classes).toEqual(['dark', 'light']);
    expect(report.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(48);
    expect(report.perClass.map((c: { count: number }) => c.count)).toEqual([24, 24]);
    expect(report.accuracy).toBe((report.confusion[0][0] + report.confusion[1][1]) / 48);
    expect(report.accuracy).toBeGreaterThan(0.9);
    const text = await stochca('eval', '--model', join(out, 'model.safetensors'), '--data', data);
    expect(text.stdout).toMatch(/^top-1 accuracy \d+\.\d\d% on 48 images/);
    const other = await makeFolder({ 'cats/a.png': await png(1, 8), 'dogs/b.png': await png(2, 8) });
    const bad = await stochca('eval', '--model', join(out, 'model.safetensors'), '--data', other);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe("stochca: the data has classes the model does not know: 'cats', 'dogs'");
  });

  it('fine-tunes on real MNIST digits (a zip with train/test) and scores its test split once per set of weights', async () => {
    const out = join(dir, 'run-mnist');
    const r = await fineTuneMnist(
      out,
      '--steps',
      '40',
      '--lr',
      '5e-3',
      '--wd',
      '0',
      '--warmup',
      '4',
      '--eval-every',
      '20',
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const curves = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'));
    const losses: number[] = curves.train.map((s: { loss: number }) => s.loss);
    expect(mean(losses.slice(-8)), losses.map((l) => l.toFixed(3)).join(' ')).toBeLessThan(mean(losses.slice(0, 8)));
    expect(curves.train.every((s: { mask: string }) => s.mask === '00')).toBe(true);
    expect(existsSync(join(out, 'best.safetensors'))).toBe(true);
    // Test images are scored after training only: the final weights, and the best-validation ones when
    // they are not the final ones. Each figure is what `stochca eval` gives on the same weights.
    const tests = curves.eval.filter((e: { split: string }) => e.split === 'test');
    const bestIsFinal = summary.best_val_step === 40;
    expect(tests.map((e: { step: number }) => e.step)).toEqual(bestIsFinal ? [40] : [summary.best_val_step, 40]);
    expect(tests.every((e: { count: number }) => e.count === 200)).toBe(true);
    expect(summary.test_accuracy_at_best_val).toBe(tests[0].accuracy);
    expect(await mnistTestAccuracy(join(out, 'model.safetensors'))).toBe(summary.final_test_accuracy);
  });

  it('scores the test split on the best-validation weights too when they are not the final ones', async () => {
    // Learning rate 1e-12 moves no float32 weight: every validation ties, so the best stays the first
    // (step 1) and the run ends at step 3.
    const out = join(dir, 'run-mnist-best');
    const r = await fineTuneMnist(out, '--steps', '3', '--lr', '1e-12', '--warmup', '0', '--eval-every', '1');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary.best_val_step).toBe(1);
    const curves = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'));
    expect(
      curves.eval.filter((e: { split: string }) => e.split === 'test').map((e: { step: number }) => e.step),
    ).toEqual([1, 3]);
    expect(await mnistTestAccuracy(join(out, 'best.safetensors'))).toBe(summary.test_accuracy_at_best_val);
    expect(summary.final_test_accuracy).toBe(summary.test_accuracy_at_best_val);
  });

  it("refuses a dataset with one class, and settings that break the schema's rules, in one line", async () => {
    const data = await makeFolder({ 'cats/a.png': await png(1, 8), 'cats/b.png': await png(2, 8) });
    const r = await stochca('train', '--model', checkpoint(), '--data', data, '--out', join(dir, 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("stochca: needs at least 2 classes, found 1: 'cats'");
    const usage = async (...args: string[]) => {
      const u = await stochca('train', '--model', checkpoint(), '--data', data, ...args);
      expect(u.code, u.stderr).toBe(2);
      return u.stderr.split('\n')[0];
    };
    expect(await usage('--steps', '10', '--warmup', '20')).toBe('stochca: warmup must be at most steps (10)');
    expect(await usage('--lr', '0')).toBe("stochca: --lr: learning rate must be greater than 0 and at most 1, got '0'");
    expect(await usage('--crop', 'centre')).toBe(
      "stochca: --crop: crop must be 'random-resized', 'random' or 'none', got 'centre'",
    );
    expect(await usage('--flip', '--no-flip')).toBe('stochca: --flip and --no-flip contradict each other');
    expect(await usage('--resume', dir)).toBe(
      'stochca: --resume continues a run as it was set; it takes only --stop-after and --memory-budget, not --model',
    );
  });

  it('runs a batch beyond --memory-budget in micro-batches whose summed gradients give the same losses', async () => {
    const files: Files = {};
    for (let i = 0; i < 12; i++) {
      files[`dark/${i}.png`] = await png(20 + 3 * i, 28);
      files[`light/${i}.png`] = await png(180 + 3 * i, 28);
    }
    const data = await makeFolder(files);
    const two = { ...config, numClasses: 2 };
    // Just above what micro-batches of 2 plan, far below a whole batch of 8.
    const budget = planVit(two, { batch: 2, training: true, teacher: true }).bytes.total / 2 ** 20 + 0.01;
    const common = [
      '--model',
      checkpoint(),
      '--data',
      data,
      '--p',
      '0.5',
      '--steps',
      '4',
      '--batch',
      '8',
      '--lr',
      '3e-3',
      '--warmup',
      '1',
      '--eval-every',
      '4',
      '--val-fraction',
      '0.25',
      '--heads',
      '2',
      '--seed',
      '2',
    ];
    const whole = await stochca('train', ...common, '--out', join(dir, 'run-whole'));
    const micro = await stochca(
      'train',
      ...common,
      '--memory-budget',
      budget.toFixed(3),
      '--out',
      join(dir, 'run-micro'),
    );
    expect(whole.code, whole.stderr).toBe(0);
    expect(micro.code, micro.stderr).toBe(0);
    expect(micro.stderr).toContain('micro-batches of 2, gradients summed over 4');
    const losses = (d: string) =>
      JSON.parse(readFileSync(join(dir, d, 'curves.json'), 'utf8')).train.map((s: { loss: number }) => s.loss);
    const a = losses('run-whole');
    const b = losses('run-micro');
    console.log(`losses, whole batch: ${a.join(' ')}; micro-batches: ${b.join(' ')}`);
    for (const [i, l] of a.entries()) expect(Math.abs(b[i] - l)).toBeLessThan(1e-5 * Math.abs(l));
  });

  it('resumes a stopped run bit for bit: 3 steps, stop, resume, 3 steps give the losses of 6 steps straight', async () => {
    // StochCA at p = 0.5 with random crops and flips: the masks and the images after the resume must
    // be the ones the straight run drew.
    const model = checkpoint();
    const data = join(dir, 'mnist-small.zip');
    writeFileSync(data, new Uint8Array(await (await mnistSubset(12, 4)).arrayBuffer()));
    const common = [
      '--data',
      data,
      '--p',
      '0.5',
      '--steps',
      '6',
      '--batch',
      '8',
      '--lr',
      '3e-3',
      '--warmup',
      '2',
      '--eval-every',
      '2',
      '--val-fraction',
      '0.2',
      '--crop',
      'random-resized',
      '--flip',
      '--clip',
      '1',
      '--wd-exempt',
      '--heads',
      '2',
      '--seed',
      '4',
    ];
    const straight = join(dir, 'run-straight');
    const resumed = join(dir, 'run-resumed');
    const a = await stochca('train', '--model', model, ...common, '--out', straight);
    expect(a.code, a.stderr).toBe(0);
    const b1 = await stochca('train', '--model', model, ...common, '--out', resumed, '--stop-after', '3');
    expect(b1.code, b1.stderr).toBe(0);
    expect(JSON.parse(b1.stdout.trim().split('\n').at(-1)!)).toMatchObject({ steps: 3, reason: 'stopped' });
    expect(b1.stderr).toContain(`continue with: stochca train --resume ${resumed}`);
    const b2 = await stochca('train', '--resume', resumed);
    expect(b2.code, b2.stderr).toBe(0);
    expect(JSON.parse(b2.stdout.trim().split('\n').at(-1)!)).toMatchObject({ steps: 6, reason: 'finished' });
    const curves = (d: string) => JSON.parse(readFileSync(join(d, 'curves.json'), 'utf8'));
    const x = curves(straight);
    const y = curves(resumed);
    const losses = (c: { train: { loss: number }[] }) => c.train.map((s) => s.loss);
    expect(losses(y)).toHaveLength(6);
    expect(losses(y)).toEqual(losses(x));
    expect(y.train.map((s: { mask: string }) => s.mask)).toEqual(x.train.map((s: { mask: string }) => s.mask));
    expect(y.eval).toEqual(x.eval);
    expect(
      readFileSync(join(resumed, 'model.safetensors')).equals(readFileSync(join(straight, 'model.safetensors'))),
    ).toBe(true);
  });
});
