// `stochca train`: the loop in Node (data, schedule of evaluations, records, files), the
// engine in the host. Writes curves.json, curves.csv, config.json and model.safetensors, and with
// saveBest best.safetensors: the weights at the best validation accuracy (model selection).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Batcher, type Batch } from '../data/batcher.ts';
import { cacheSizeFor, type AugmentOptions } from '../data/augment.ts';
import { nodeDecoder } from '../data/decode-node.ts';
import { selectImages } from '../data/entries.ts';
import { openDataPath } from '../data/folder-source.ts';
import { isDataUrl, urlTree } from '../data/url-source.ts';
import { imageFolder, type Sample } from '../data/layout.ts';
import { splitDataset } from '../data/split.ts';
import { scoreRow } from '../train/scoring.ts';
import type { StepRecord, TrainSettings } from '../train/session.ts';
import type { EngineHost } from './engine-host.ts';
import type { ModelArgs } from './engine-commands.ts';

/** The session's settings (p, steps, batch, lr, weight decay, warm-up, seed, clipping) and the run's own. */
export interface TrainOptions extends ModelArgs, Omit<TrainSettings, 'mean' | 'std'> {
  data: string;
  out: string;
  /** 'finetune' trains with p = 0 whatever p says. */
  method: 'stochca' | 'finetune';
  imageSize?: number;
  fraction: number;
  valFraction: number;
  evalEvery: number;
  augment: Pick<AugmentOptions, 'crop' | 'flip'>;
  /** Also write best.safetensors each time the validation accuracy improves. */
  saveBest?: boolean;
}

interface EvalRecord {
  step: number;
  split: 'val' | 'test';
  loss: number;
  accuracy: number;
  count: number;
}

/** Top-1 accuracy and mean cross-entropy of a host's logits over a whole split. */
export async function evaluate(host: EngineHost, session: 'trainLogits' | 'evalLogits', batcher: Batcher, classes: number): Promise<{ loss: number; accuracy: number; count: number }> {
  let loss = 0;
  let correct = 0;
  let count = 0;
  for await (const b of batcher as AsyncIterable<Batch>) {
    const logits = await host.call(session, b.pixels, b.count);
    for (let i = 0; i < b.count; i++) {
      const r = scoreRow(logits, i, classes, b.labels[i]);
      loss += r.loss;
      correct += r.predicted === b.labels[i] ? 1 : 0;
    }
    count += b.count;
  }
  return { loss: loss / Math.max(1, count), accuracy: correct / Math.max(1, count), count };
}

function progressLine(r: StepRecord, steps: number, started: number, batch: number): string {
  const seconds = (performance.now() - started) / 1000;
  const rate = (r.step * batch) / seconds;
  const left = ((steps - r.step) * batch) / rate;
  const width = 24;
  const done = Math.round((width * r.step) / steps);
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}] step ${r.step}/${steps} loss ${r.loss.toFixed(4)} ` +
    `acc ${(100 * r.accuracy).toFixed(1)}% ${rate.toFixed(1)} img/s ${Math.ceil(left)} s left`;
}

export interface TrainResult {
  /** The best validation evaluation, and the test evaluation at its step when there is a test split. */
  best?: EvalRecord;
  testAtBest?: EvalRecord;
  /** The test evaluation of the final weights. */
  finalTest?: EvalRecord;
  final: StepRecord;
}

export async function trainCommand(host: EngineHost, o: TrainOptions): Promise<TrainResult> {
  const files = selectImages(await (isDataUrl(o.data) ? urlTree(o.data) : openDataPath(o.data)));
  const folder = imageFolder(files);
  const split = splitDataset(folder, { seed: o.seed, valFraction: o.valFraction, trainFraction: o.fraction });
  if (o.saveBest && split.val.length === 0) {
    throw new Error('--save-best needs validation images: a val/ folder or --val-fraction above 0');
  }
  const p = o.method === 'finetune' ? 0 : o.p;
  const info = await host.call('trainStart', {
    model: o.model, config: o.config, heads: o.heads, classNames: folder.classes, imageSize: o.imageSize,
    settings: { p, steps: o.steps, batch: o.batch, lr: o.lr, weightDecay: o.weightDecay, warmup: o.warmup, seed: o.seed, maxNorm: o.maxNorm },
  });
  const S = info.config.imageSize;
  const decode = nodeDecoder(cacheSizeFor(S));
  const batcher = (samples: Sample[], augment: 'eval' | object) =>
    new Batcher({ samples, decode, imageSize: S, batchSize: o.batch, seed: o.seed, augment, cacheBytes: 256 * 2 ** 20 });
  const train = batcher(split.train, o.augment);
  const val = split.val.length ? batcher(split.val, 'eval') : undefined;
  const test = split.test.length ? batcher(split.test, 'eval') : undefined;
  mkdirSync(o.out, { recursive: true });
  const steps: StepRecord[] = [];
  const evals: EvalRecord[] = [];
  const started = performance.now();
  const tty = process.stderr.isTTY;
  console.error(`training ${folder.classes.length} classes: ${split.train.length} train, ${split.val.length} val, ${split.test.length} test images; ` +
    `${o.method}${p > 0 ? ` p=${p}` : ''}; ${(info.plannedBytes / 2 ** 20).toFixed(1)} MiB planned${info.changes.length ? `; ${info.changes.join(', ')}` : ''}`);
  let step = 0;
  let best: EvalRecord | undefined;
  // The weights at the best validation accuracy, kept when they are saved or the test split needs them.
  let bestWeights: Uint8Array | undefined;
  for await (const b of train as AsyncIterable<Batch>) {
    const r = await host.call('trainStep', b.pixels, b.labels, ++step);
    steps.push(r);
    if (tty) process.stderr.write(`\r${progressLine(r, o.steps, started, o.batch)}`);
    else if (step % Math.max(1, Math.floor(o.steps / 10)) === 0 || step === o.steps) console.error(progressLine(r, o.steps, started, o.batch));
    if (val && (step % o.evalEvery === 0 || step === o.steps)) {
      const e = await evaluate(host, 'trainLogits', val, folder.classes.length);
      const improved = !best || e.accuracy > best.accuracy;
      evals.push({ step, split: 'val', ...e });
      if (improved) best = evals[evals.length - 1];
      if (improved && (o.saveBest || test)) bestWeights = await host.call('trainSave');
      if (improved && o.saveBest) writeFileSync(join(o.out, 'best.safetensors'), bestWeights!);
      if (tty) process.stderr.write('\n');
      console.error(`step ${step}: validation accuracy ${(100 * e.accuracy).toFixed(2)}% (${e.count} images), loss ${e.loss.toFixed(4)}`);
    }
    if (step === o.steps) break;
  }
  // The test split is scored once per set of weights, after training: model selection by validation
  // never sees it. The best-validation weights go through an evaluation session of their own.
  const testRecord = async (session: 'trainLogits' | 'evalLogits', at: number, what: string): Promise<EvalRecord> => {
    const e: EvalRecord = { step: at, split: 'test', ...(await evaluate(host, session, test!, folder.classes.length)) };
    evals.push(e);
    console.error(`step ${at}: test accuracy ${(100 * e.accuracy).toFixed(2)}% (${e.count} images, ${what})`);
    return e;
  };
  let testAtBest: EvalRecord | undefined;
  if (test && best && best.step !== step) {
    await host.call('evalStart', { model: bestWeights!, batch: o.batch });
    testAtBest = await testRecord('evalLogits', best.step, 'the best validation weights');
  }
  const finalTest = test ? await testRecord('trainLogits', step, 'the final weights') : undefined;
  if (best?.step === step) testAtBest = finalTest;
  // The best-validation weights are the final ones when validation peaked at the last step: no second readback.
  const finalWeights = best?.step === step && bestWeights ? bestWeights : await host.call('trainSave');
  writeFileSync(join(o.out, 'model.safetensors'), finalWeights);
  writeFileSync(join(o.out, 'curves.json'), JSON.stringify({ train: steps, eval: evals }, null, 1));
  const csv = ['step,split,loss,accuracy,lr,crossed',
    ...steps.map((r) => `${r.step},train,${r.loss},${r.accuracy},${r.lr},${r.crossed}`),
    ...evals.map((e) => `${e.step},${e.split},${e.loss},${e.accuracy},,`)];
  writeFileSync(join(o.out, 'curves.csv'), `${csv.join('\n')}\n`);
  const { model: _m, config: _c, ...options } = o;
  writeFileSync(join(o.out, 'config.json'), JSON.stringify({
    options, p, model: info.config, classes: folder.classes, normalization: { mean: info.mean, std: info.std },
    counts: { train: split.train.length, val: split.val.length, test: split.test.length },
    leftOut: [...folder.leftOut, ...train.skipped], problems: folder.problems,
  }, null, 1));
  return { best, testAtBest, finalTest, final: steps[steps.length - 1] };
}
