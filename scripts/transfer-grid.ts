// The transfer experiment: from the digits generalist (public/models/vit-mnist.safetensors, pretrained
// on MNIST), fine-tune on few OpenCV digits (a new domain of the same ten classes) with fine-tuning and
// StochCA at several p, several seeds, and measure what each run keeps and gains:
//   target   the OpenCV test split: 1,000 digits drawn once with a fixed seed (opencv-transfer.zip)
//   unseen   the UCI 8×8 digits, which no run trains on
//   source   MNIST's test images, which the pretrained model knows
// all scored with the run's best-validation checkpoint (validation images come from the OpenCV training
// split, drawn with the run's seed before the fraction is taken; the test split never selects).
//
// Convergence: a run has converged when its best validation accuracy over the last third of its
// evaluations is at most --flat points above the best before them (more training no longer helps).
// The report says which runs meet it; the grid is meant to be run with steps enough that every
// fine-tuning run does.
//
// OUT/data/ holds the data (built when missing), OUT/runs/<id>/ each run's files and result.json
// (written last: finished runs are skipped, so an interrupted grid resumes), OUT/results.json every
// run, OUT/results.md the tables (also printed).
//
// Run with: npx tsx scripts/transfer-grid.ts [options]   (--help lists them)
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { openEngineHost, type EngineHost } from '../src/cli/engine-host.ts';
import { evalCommand } from '../src/cli/eval-command.ts';
import { TRAIN_FLAGS, trainOptions } from '../src/cli/train-args.ts';
import { trainCommand } from '../src/cli/train-command.ts';
import { hasIdxSet, idxSetMissing } from '../src/data/idx.ts';
import { buildPack, PACKS } from './build-packs.ts';
import { buildDigitSets, buildOpenCvTransfer, DigitSetError, OPENCV_TRANSFER } from './build-digit-sets.ts';
import {
  GridError,
  gridOrExit,
  number,
  parseGridArgs,
  trainCommandLine,
  type CommonGrid,
  type GridDefaults,
  type Method,
} from './grid/options.ts';
import { runAll } from './grid/runs.ts';
import { pct } from './grid/stats.ts';
import { seconds } from './grid/stochca.ts';
import {
  converged,
  transferReport,
  type TransferResults,
  type TransferRun,
  type TransferSettings,
} from './grid/transfer-report.ts';

const DEFAULTS: GridDefaults = {
  script: 'transfer-grid.ts',
  model: 'public/models/vit-mnist.safetensors',
  out: 'experiments/transfer',
  steps: 100,
  evalEvery: 10,
  valFraction: 0.05,
  fractions: '0.01,0.05,0.2',
  extra: {
    '--flat X':
      "convergence: the last third's best validation accuracy at most X points above the best before it (default 1)",
    '--source-per-class N': 'MNIST test images per class scored for the source accuracy (default 100)',
  },
  quick: { steps: 10, evalEvery: 5, fractions: '0.05' },
};

interface Grid extends Omit<CommonGrid, 'settings'> {
  settings: TransferSettings;
  flat: number;
}

interface Data {
  target: string;
  unseen: Record<string, string>;
  source: string;
}

function parseGrid(argv: string[]): Grid {
  const grid = parseGridArgs(argv, DEFAULTS);
  const value = (flag: string, quick: string, full: string) =>
    (grid.values[flag] as string | undefined) ?? (grid.quick ? quick : full);
  return {
    ...grid,
    settings: {
      ...grid.settings,
      sourcePerClass: number('source-per-class', value('source-per-class', '20', '100'), { int: true, min: 1 }),
    },
    flat: number('flat', value('flat', '1', '1'), { min: 0 }) / 100,
  };
}

/** OUT/data: the OpenCV transfer split, the UCI digits and MNIST's test images, each built when missing. */
async function prepareData(dir: string, roots: string[], sourcePerClass: number): Promise<Data> {
  await mkdir(dir, { recursive: true });
  const data = {
    target: join(dir, OPENCV_TRANSFER.file),
    unseen: { uci: join(dir, 'uci-digits.zip') },
    source: join(dir, `mnist-test-${sourcePerClass}.zip`),
  };
  if (!existsSync(data.unseen.uci)) await buildDigitSets(dir, roots);
  if (!existsSync(data.target)) await buildOpenCvTransfer(dir, roots);
  if (!existsSync(data.source)) {
    if (!(await hasIdxSet('mnist'))) throw new GridError(idxSetMissing('mnist'));
    const bytes = await buildPack(
      PACKS.find((p) => p.id === 'mnist')!,
      { train: 0, test: sourcePerClass },
    );
    // Renamed into place once whole, so an interrupted build is not taken for a finished one.
    await writeFile(`${data.source}.part`, bytes);
    await rename(`${data.source}.part`, data.source);
  }
  return data;
}

const runId = (fraction: number, method: Method, seed: number) =>
  `f${fraction}_${method.name.replace(':', '')}_s${seed}`;

/** Runs `body` with console.error (where `stochca train` reports progress) written to `path`. */
async function loggedTo<T>(path: string, body: () => Promise<T>): Promise<T> {
  const file = createWriteStream(path);
  const error = console.error;
  console.error = (...args: unknown[]) => file.write(`${args.join(' ')}\n`);
  try {
    return await body();
  } finally {
    console.error = error;
    await new Promise((resolve) => file.end(resolve));
  }
}

/** Top-1 accuracy of a model file on each data set (`stochca eval`'s). */
async function score(host: EngineHost, model: Uint8Array, sets: string[], split: 'all' | 'test'): Promise<number[]> {
  const out = [];
  for (const data of sets) out.push((await evalCommand(host, { model, data, split, batch: 64 })).accuracy);
  return out;
}

// One engine for the whole grid: a run is `stochca train` and `stochca eval` as the command line runs
// them, without starting the engine (a headless Chromium on a machine without a GPU) three times a run.
async function runOne(
  host: EngineHost,
  grid: Grid,
  data: Data,
  fraction: number,
  method: Method,
  seed: number,
  dir: string,
): Promise<TransferRun> {
  const s = grid.settings;
  const command = trainCommandLine(s, data.target, method, fraction, seed, dir);
  let started = performance.now();
  const options = trainOptions(
    parseArgs({ args: command.slice(1), options: TRAIN_FLAGS, strict: true }).values as Record<
      string,
      string | boolean
    >,
  );
  const train = await loggedTo(join(dir, 'train.log'), () => trainCommand(host, options));
  if (!train.best || !train.test.atBest)
    throw new GridError(`${dir}: the run ended without a validation or test score (see train.log)`);
  const trainSeconds = seconds(started);
  started = performance.now();
  const unseen = Object.entries(data.unseen);
  const [source, ...others] = await score(
    host,
    new Uint8Array(readFileSync(join(dir, 'best.safetensors'))),
    [data.source, ...unseen.map(([, path]) => path)],
    'all',
  );
  const curves = JSON.parse(readFileSync(join(dir, 'curves.json'), 'utf8')) as {
    eval: { step: number; accuracy: number; split: string }[];
  };
  const valCurve = curves.eval.filter((e) => e.split === 'val').map((e): [number, number] => [e.step, e.accuracy]);
  const { counts } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  return {
    id: runId(fraction, method, seed),
    fraction,
    method: method.name,
    p: method.p,
    seed,
    steps: s.steps,
    target_test_accuracy: train.test.atBest.accuracy,
    unseen_accuracy: Object.fromEntries(unseen.map(([name], k) => [name, others[k]])),
    source_test_accuracy: source,
    best_val_accuracy: train.best.accuracy,
    best_val_step: train.best.step,
    val_curve: valCurve,
    converged: converged(valCurve, grid.flat),
    counts,
    settings: s,
    command,
    adapter: host.adapter,
    seconds: { train: trainSeconds, eval: seconds(started) },
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const grid: Grid = gridOrExit(() => parseGrid(argv), DEFAULTS);
  const started = performance.now();
  const data = await prepareData(join(grid.out, 'data'), grid.roots, grid.settings.sourcePerClass);
  const host = await openEngineHost();
  try {
    // The pretrained model on the same images: what every run starts from.
    const model = new Uint8Array(readFileSync(grid.settings.model));
    const [opencv] = await score(host, model, [data.target], 'test');
    const [mnist, ...unseen] = await score(host, model, [data.source, ...Object.values(data.unseen)], 'all');
    const pretrained = {
      opencv,
      ...Object.fromEntries(Object.keys(data.unseen).map((name, k) => [name, unseen[k]])),
      mnist,
    };
    // Seed by seed, so that a grid stopped early still fills every cell of the tables.
    const plan = grid.seeds.flatMap((seed) => grid.fractions.flatMap((f) => grid.methods.map((m) => ({ f, m, seed }))));
    const runs = await runAll({
      plan,
      out: grid.out,
      settings: grid.settings,
      id: ({ f, m, seed }) => runId(f, m, seed),
      run: ({ f, m, seed }, dir) => runOne(host, grid, data, f, m, seed, dir),
      line: (r) =>
        `OpenCV ${pct(r.target_test_accuracy)} % at step ${r.best_val_step} (validation ${pct(r.best_val_accuracy)} %), ` +
        `${Object.entries(r.unseen_accuracy)
          .map(([k, a]) => `${k.toUpperCase()} ${pct(a)} %`)
          .join(', ')}, MNIST ${pct(r.source_test_accuracy)} %` +
        `${r.converged ? '' : ', not converged'} (train ${r.seconds.train} s, scoring ${r.seconds.eval} s)`,
    });
    const results: TransferResults = {
      settings: grid.settings,
      flat: grid.flat,
      fractions: grid.fractions,
      methods: grid.methods.map((m) => m.name),
      seeds: grid.seeds,
      pretrained,
      testSeed: OPENCV_TRANSFER.seed,
      argv,
      wallSeconds: seconds(started),
      runs,
    };
    const md = transferReport(results);
    await writeFile(join(grid.out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
    await writeFile(join(grid.out, 'results.md'), md);
    console.log(`\n${md}`);
    console.log(
      `written: ${relative('.', join(grid.out, 'results.json'))}, ${relative('.', join(grid.out, 'results.md'))}`,
    );
  } finally {
    await host.close();
  }
}

main().catch((e: unknown) => {
  if (!(e instanceof GridError || e instanceof DigitSetError)) throw e;
  console.error(e.message);
  process.exit(1);
});
