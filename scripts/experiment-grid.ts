// The experiment grid: StochCA against fine-tuning of the built-in model on MNIST with few training
// images. For each fraction of the training images per class (--fractions), method (--methods:
// finetune or stochca:P) and seed (--seeds), one `stochca train` run, all with the same steps and
// hyperparameters, then `stochca eval` of the run's best-validation checkpoint on two digit sets
// from other sources (scripts/build-digit-sets.ts). Reported, mean ± std over the seeds: MNIST test
// accuracy at the best validation step, and the UCI and OpenCV accuracy of that checkpoint.
//
// Data, built once into OUT/data/: mnist-grid.zip holds all 60,000 MNIST training images and the first
// 200 test images of each class (2,000; the whole test set is slow to score many times on a CPU).
// Validation images are drawn from the training images with each run's seed (--val-fraction) before
// the fraction is taken, so every fraction and method of one seed validates on the same images.
//
// OUT/runs/<id>/ holds a run's files (train's, best.safetensors, *.log) and result.json, written last:
// runs whose result.json exists are skipped, so an interrupted grid resumes where it stopped.
// OUT/results.json holds every run, OUT/results.md the tables (also printed).
//
// Run with: npx tsx scripts/experiment-grid.ts [options]   (--help lists them)
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { hasIdxSet, idxSetMissing } from '../src/data/idx.ts';
import { buildPack, PACKS } from './build-packs.ts';
import { buildDigitSets, DigitSetError } from './build-digit-sets.ts';
import {
  GridError,
  gridOrExit,
  parseGridArgs,
  trainCommandLine,
  type CommonGrid,
  type GridDefaults,
  type Method,
  type RunSettingsOfGrid,
} from './grid/options.ts';
import { runAll } from './grid/runs.ts';
import { cell, mean, methodLabel, pct, table } from './grid/stats.ts';
import { seconds, stochca } from './grid/stochca.ts';

const TEST_PER_CLASS = 200;

const DEFAULTS: GridDefaults = {
  script: 'experiment-grid.ts',
  model: 'public/models/vit-fmnist.safetensors',
  out: 'experiments/grid',
  steps: 150,
  evalEvery: 25,
  valFraction: 0.02,
  fractions: '0.01,0.05,0.15',
  extra: {},
  quick: { steps: 10, evalEvery: 5, fractions: '0.01' },
};

type Grid = CommonGrid;

interface EvalResult {
  accuracy: number;
  count: number;
  perClass: { name: string; accuracy: number | null; count: number }[];
}

interface RunResult {
  id: string;
  fraction: number;
  method: string;
  seed: number;
  settings: RunSettingsOfGrid;
  command: string[];
  /** The train command's final JSON line. */
  train: {
    test_accuracy_at_best_val?: number;
    best_val_accuracy?: number;
    best_val_step?: number;
    adapter: string;
    [k: string]: unknown;
  };
  counts: { train: number; val: number; test: number };
  uci: EvalResult;
  opencv: EvalResult;
  seconds: { train: number; uci: number; opencv: number };
}

/** OUT/data: the MNIST zip of the grid and the two digit sets, each built when missing. */
async function prepareData(dir: string, roots: string[]): Promise<{ mnist: string; uci: string; opencv: string }> {
  await mkdir(dir, { recursive: true });
  const paths = {
    mnist: join(dir, 'mnist-grid.zip'),
    uci: join(dir, 'uci-digits.zip'),
    opencv: join(dir, 'opencv-digits.zip'),
  };
  // The digit sets first: a missing package is reported before the minutes the MNIST zip takes.
  if (!existsSync(paths.uci) || !existsSync(paths.opencv)) await buildDigitSets(dir, roots);
  if (!existsSync(paths.mnist)) {
    if (!(await hasIdxSet('mnist'))) throw new GridError(idxSetMissing('mnist'));
    const started = performance.now();
    const bytes = await buildPack(
      PACKS.find((p) => p.id === 'mnist')!,
      { train: Infinity, test: TEST_PER_CLASS },
    );
    // Renamed into place once whole, so an interrupted build is not taken for a finished one.
    await writeFile(`${paths.mnist}.part`, bytes);
    await rename(`${paths.mnist}.part`, paths.mnist);
    console.log(`${paths.mnist}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB in ${seconds(started)} s`);
  }
  return paths;
}

const runId = (fraction: number, method: Method, seed: number) =>
  `f${fraction}_${method.name.replace(':', '')}_s${seed}`;

async function runOne(
  grid: Grid,
  data: { mnist: string; uci: string; opencv: string },
  fraction: number,
  method: Method,
  seed: number,
  dir: string,
): Promise<RunResult> {
  const s = grid.settings;
  const command = trainCommandLine(s, data.mnist, method, fraction, seed, dir);
  let started = performance.now();
  const [train] = (await stochca(command, join(dir, 'train.log'))) as RunResult['train'][];
  const times = { train: seconds(started), uci: 0, opencv: 0 };
  const evals: Partial<Record<'uci' | 'opencv', EvalResult>> = {};
  for (const set of ['uci', 'opencv'] as const) {
    started = performance.now();
    const [r] = (await stochca(
      ['eval', '--model', join(dir, 'best.safetensors'), '--data', data[set], '--json'],
      join(dir, `eval-${set}.log`),
    )) as EvalResult[];
    evals[set] = { accuracy: r.accuracy, count: r.count, perClass: r.perClass };
    times[set] = seconds(started);
  }
  const { counts } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  return {
    id: runId(fraction, method, seed),
    fraction,
    method: method.name,
    seed,
    settings: s,
    command,
    train,
    counts,
    uci: evals.uci!,
    opencv: evals.opencv!,
    seconds: times,
  };
}

function fractionLabel(runs: RunResult[], fraction: number): string {
  const train = runs.find((r) => r.fraction === fraction)?.counts.train;
  return `${+(100 * fraction).toFixed(4)} %${train === undefined ? '' : ` (${train} images)`}`;
}

function report(grid: Grid, runs: RunResult[], argv: string[], wall: number): string {
  const s = grid.settings;
  const n = grid.seeds.length;
  const of = (f: number, m: Method) => runs.filter((r) => r.fraction === f && r.method === m.name);
  const header = ['training fraction (images)', ...grid.methods.map((m) => methodLabel(m.name))];
  const test = table(
    header,
    grid.fractions.map((f) => [
      fractionLabel(runs, f),
      ...grid.methods.map((m) =>
        cell(
          of(f, m).map((r) => r.train.test_accuracy_at_best_val ?? NaN),
          n,
        ),
      ),
    ]),
  );
  const other = table(
    header,
    grid.fractions.flatMap((f) =>
      (['uci', 'opencv'] as const).map((set) => [
        `${fractionLabel(runs, f)}, ${set === 'uci' ? 'UCI' : 'OpenCV'}`,
        ...grid.methods.map((m) =>
          cell(
            of(f, m).map((r) => r[set].accuracy),
            n,
          ),
        ),
      ]),
    ),
  );
  const first = runs[0];
  const runSeconds = runs.map((r) => r.seconds.train + r.seconds.uci + r.seconds.opencv);
  const example = first ? `node bin/stochca.mjs ${first.command.join(' ')}` : '';
  return [
    '# StochCA against fine-tuning on MNIST with few training images',
    '',
    `## MNIST test accuracy at the best validation step (%)`,
    '',
    `Test images: the first ${TEST_PER_CLASS} of each class of the MNIST test set (${10 * TEST_PER_CLASS}). ` +
      `Validation: ${first ? first.counts.val : '?'} images (${s.valFraction} of each class) drawn from the 60,000 training images with the run's seed, ` +
      'the rest then sampled at the fraction. ' +
      `Mean ± std over seeds ${grid.seeds.join(', ')} (n = ${n}; std with n − 1).`,
    '',
    ...test,
    '',
    '## Accuracy of the best-validation checkpoint on other digit sets (%)',
    '',
    `UCI: the ${first?.uci.count ?? 1797} 8×8 digits of scikit-learn's load_digits; OpenCV: the ${first?.opencv.count ?? 5000} 20×20 digits of ` +
      'digits.png (scripts/build-digit-sets.ts), resized to the model input. Mean ± std over the seeds.',
    '',
    ...other,
    '',
    '## Settings',
    '',
    `- model: ${s.model} (sha256 ${s.modelSha256.slice(0, 16)}…)`,
    `- every run: ${s.steps} steps, batch ${s.batch}, peak learning rate ${s.lr}, validation every ${s.evalEvery} steps; ` +
      `the CLI's defaults otherwise (AdamW weight decay 0.05, warmup ${Math.min(100, Math.round(s.steps / 10))} steps then cosine); ` +
      `crop ${s.crop}, no flip; best.safetensors is the model at the best validation accuracy`,
    `- a run (the first): \`${example}\`, then \`node bin/stochca.mjs eval --model ${first ? join(grid.out, 'runs', first.id) : 'RUN'}/best.safetensors --data DIGITS.zip --json\``,
    `- the grid: \`npx tsx scripts/experiment-grid.ts ${argv.join(' ')}\``,
    `- adapter: ${first?.train.adapter ?? '?'}`,
    `- time: ${runs.length} runs, ${Math.round(runSeconds.reduce((a, b) => a + b, 0))} s in all ` +
      `(${runs.length ? Math.round(mean(runSeconds)) : 0} s a run: train ${Math.round(mean(runs.map((r) => r.seconds.train)))} s, ` +
      `UCI ${Math.round(mean(runs.map((r) => r.seconds.uci)))} s, OpenCV ${Math.round(mean(runs.map((r) => r.seconds.opencv)))} s); ` +
      `this invocation ${wall} s, data included`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const grid: Grid = gridOrExit(() => parseGridArgs(argv, DEFAULTS), DEFAULTS);
  const started = performance.now();
  const data = await prepareData(join(grid.out, 'data'), grid.roots);
  // Seed by seed, so that a grid stopped early still fills every cell of the tables.
  const plan = grid.seeds.flatMap((seed) => grid.fractions.flatMap((f) => grid.methods.map((m) => ({ f, m, seed }))));
  const runs = await runAll({
    plan,
    out: grid.out,
    settings: grid.settings,
    id: ({ f, m, seed }) => runId(f, m, seed),
    run: ({ f, m, seed }, dir) => runOne(grid, data, f, m, seed, dir),
    line: (r) =>
      `train ${r.seconds.train} s, UCI ${r.seconds.uci} s, OpenCV ${r.seconds.opencv} s: ` +
      `test ${pct(r.train.test_accuracy_at_best_val ?? NaN)} % at step ${r.train.best_val_step} ` +
      `(validation ${pct(r.train.best_val_accuracy ?? NaN)} %), UCI ${pct(r.uci.accuracy)} %, OpenCV ${pct(r.opencv.accuracy)} %`,
  });
  const wall = seconds(started);
  const md = report(grid, runs, argv, wall);
  await writeFile(
    join(grid.out, 'results.json'),
    `${JSON.stringify(
      {
        settings: grid.settings,
        fractions: grid.fractions,
        methods: grid.methods.map((m) => m.name),
        seeds: grid.seeds,
        testPerClass: TEST_PER_CLASS,
        wallSeconds: wall,
        runs,
      },
      null,
      1,
    )}\n`,
  );
  await writeFile(join(grid.out, 'results.md'), md);
  console.log(`\n${md}`);
  console.log(
    `written: ${relative('.', join(grid.out, 'results.json'))}, ${relative('.', join(grid.out, 'results.md'))}`,
  );
}

main().catch((e: unknown) => {
  if (!(e instanceof GridError || e instanceof DigitSetError)) throw e;
  console.error(e.message);
  process.exit(1);
});
