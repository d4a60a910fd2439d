// The new-head experiment (experiments/new-head/README.md): a pretrained ViT gets a new classifier for a
// target's classes and is trained on a few images per class by linear probing, fine-tuning and StochCA.
//   near   the OpenCV digits from the digits model (vit-mnist); the class folders renamed so the head is new;
//          scored also on the UCI digits (unseen) and on MNIST's test images (source), classes in order
//   far    MNIST from the Fashion-MNIST model (vit-fmnist), scored on MNIST's 10,000 test images
// Each method's learning rate is chosen once per target on validation (seed 0, --lr-count images per
// class) and used for every count and seed. A run is `stochca export-torch` then the exported train.py
// (PyTorch on the CPU, equal to the engine's losses; --engine runs a cell in the engine instead), then
// scripts/grid/score.py for the scores train.py does not give.
//
// OUT/data/ holds the data (built when missing), OUT/runs/<id>/ each run, its result.json written last
// (finished runs are skipped: an interrupted grid resumes; the repository keeps result.json, so a clone
// resumes it too), OUT/results.json every run, OUT/results.md.
//
// Run with: npx tsx scripts/new-head-grid.ts [options]   (--help lists them)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openEngineHost, type EngineHost } from '../src/cli/engine-host.ts';
import { exportTorch } from '../src/cli/export-torch.ts';
import { trainOptions } from '../src/cli/train-args.ts';
import { trainCommand } from '../src/cli/train-command.ts';
import { errorMessage } from '../src/gpu/error-message.ts';
import { PROPERTIES } from '../src/train/settings.ts';
import { hasIdxSet, idxSetMissing, type IdxSetId } from '../src/data/idx.ts';
import { buildDigitSets, buildOpenCvTransfer, DigitSetError } from './build-digit-sets.ts';
import { buildPack, PACKS } from './build-packs.ts';
import { GridError, number, parseMethod, type Method } from './grid/options.ts';
import { runAll } from './grid/runs.ts';
import { seconds } from './grid/stochca.ts';
import { newHeadFigure } from './grid/new-head-figure.ts';
import { pct } from './grid/stats.ts';
import {
  converged,
  newHeadReport,
  type NewHeadResults,
  type NewHeadRun,
  type NewHeadSettings,
  type TargetInfo,
} from './grid/new-head-report.ts';

const SCORE = fileURLToPath(new URL('./grid/score.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
/** The steps a run may have (the settings schema's), which the longest runs run again must fit. */
const MAX_STEPS = PROPERTIES.steps.max ?? Infinity;

interface Target extends Omit<TargetInfo, 'modelSha256' | 'test'> {
  /** The zip trained on: train/, the pool. */
  data: string;
  /** The target's test images. */
  test: string;
  /** What the test images are, in words. */
  testText: string;
  /** Scored with the best-validation checkpoint, by name. */
  unseen: Record<string, string>;
  /** The source's test images, or undefined where the new head has none of the source's classes. */
  source?: string;
}

const USAGE = `usage: npx tsx scripts/new-head-grid.ts [options]
  --out DIR               results and runs (default experiments/new-head)
  --targets near,far      which targets (default both)
  --counts 2,5,20         training images per class (default 2,5,20)
  --methods M,M,...       linear-probe, finetune, stochca:P (default linear-probe,finetune,stochca:0.1,stochca:0.5)
  --seeds 0,1,2,3,4       seeds (default 0..4)
  --lrs 3e-4,1e-3,3e-3    learning rates tried per method and target (default these)
  --lr-count N            images per class of the learning-rate choice (default 5)
  --steps T:N,T:N         steps of each target's runs (default near:200,far:800; one number: every target);
                          warm-up a tenth, validation every tenth
  --again N               a run that has not converged is run again from the start with twice the steps, up
                          to N times (default 1; the longest within the ${MAX_STEPS} steps a run may
                          have); a grid resumed with a larger N runs only the longer runs
  --batch N               (default 16, the paper's)
  --pool N                training images per class of the pool, validation drawn from it (default 400)
  --val-fraction X        of each class of the pool, drawn per seed for validation (default 0.1)
  --flat X                convergence tolerance in points (default 1)
  --engine T:N:M:S,...    also run these cells (target:count:method:seed) in the engine (default none)
  --root DIR              where opencv-doc and python3-sklearn are extracted (repeatable; default /)
  --threads N             PyTorch threads of a run (default 1)
  --parallel N            runs at a time (default 1)`;

interface Grid {
  out: string;
  targets: string[];
  counts: number[];
  methods: Method[];
  seeds: number[];
  lrs: number[];
  lrCount: number;
  again: number;
  threads: number;
  parallel: number;
  flat: number;
  engine: { target: string; count: number; method: Method; seed: number }[];
  roots: string[];
  settings: NewHeadSettings;
}

function parseGrid(argv: string[]): Grid {
  const o = Object.fromEntries(
    ['out', 'targets', 'counts', 'methods', 'seeds', 'lrs', 'lr-count', 'steps', 'batch', 'pool', 'val-fraction']
      .concat(['again', 'flat', 'engine', 'threads', 'parallel'])
      .map((k) => [k, { type: 'string' as const }]),
  );
  const { values: v } = parseArgs({
    args: argv,
    options: { ...o, root: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
  });
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const str = (k: string, d: string) => (v[k as keyof typeof v] as string | undefined) ?? d;
  const ints = (k: string, d: string, min = 0) =>
    str(k, d)
      .split(',')
      .map((t) => number(k, t, { int: true, min }));
  const targets = str('targets', 'near,far').split(',');
  for (const t of targets) if (!(t in TARGETS)) throw new GridError(`--targets: '${t}' is not near or far`);
  const methods = str('methods', 'linear-probe,finetune,stochca:0.1,stochca:0.5').split(',').map(parseMethod);
  if (!methods.some((m) => m.name === 'finetune')) throw new GridError('--methods: finetune is the reference');
  const engine = str('engine', '')
    .split(',')
    .filter(Boolean)
    .map((cell) => {
      const [target, count, method, seed] = cell.split(':').length === 5 ? splitStochca(cell) : cell.split(':');
      if (!(target in TARGETS)) throw new GridError(`--engine: '${cell}' is not target:count:method:seed`);
      return {
        target,
        count: number('engine', count, { int: true, min: 1 }),
        method: parseMethod(method),
        seed: number('engine', seed, { int: true, min: 0 }),
      };
    });
  const steps = targetSteps(str('steps', 'near:200,far:800'), targets);
  const again = number('again', str('again', '1'), { int: true, min: 0 });
  for (const [t, n] of Object.entries(steps)) {
    const longest = n * 2 ** again;
    if (longest > MAX_STEPS)
      throw new GridError(
        `--again ${again}: ${t}'s longest runs would take ${longest} steps, over the ${MAX_STEPS} a run may have`,
      );
  }
  return {
    out: str('out', 'experiments/new-head'),
    targets,
    counts: ints('counts', '2,5,20', 1),
    methods,
    seeds: ints('seeds', '0,1,2,3,4'),
    lrs: str('lrs', '3e-4,1e-3,3e-3')
      .split(',')
      .map((t) => number('lrs', t, { above: 0 })),
    lrCount: number('lr-count', str('lr-count', '5'), { int: true, min: 1 }),
    again,
    threads: number('threads', str('threads', '1'), { int: true, min: 1 }),
    parallel: number('parallel', str('parallel', '1'), { int: true, min: 1 }),
    flat: number('flat', str('flat', '1'), { min: 0 }) / 100,
    engine,
    roots: (v.root as string[] | undefined) ?? ['/'],
    settings: {
      steps,
      batch: number('batch', str('batch', '16'), { int: true, min: 1 }),
      pool: number('pool', str('pool', '400'), { int: true, min: 2 }),
      valFraction: number('val-fraction', str('val-fraction', '0.1'), { above: 0, max: 0.5 }),
      weightDecay: 0.05,
      crop: 'random',
    },
  };
}

/** '200' (every target) or 'near:200,far:800' → the steps of each target. */
function targetSteps(text: string, targets: string[]): Record<string, number> {
  const given = text.includes(':')
    ? Object.fromEntries(text.split(',').map((pair) => pair.split(':')))
    : Object.fromEntries(targets.map((t) => [t, text]));
  return Object.fromEntries(
    targets.map((t) => {
      if (given[t] === undefined) throw new GridError(`--steps: no steps for target '${t}'`);
      return [t, number('steps', given[t], { int: true, min: 10 })];
    }),
  );
}

/** 'near:5:stochca:0.1:0' splits as target, count, 'stochca:0.1', seed. */
function splitStochca(cell: string): string[] {
  const [t, c, m, p, s] = cell.split(':');
  return [t, c, `${m}:${p}`, s];
}

const TARGETS: Record<string, { model: string; domain: string; testText: string }> = {
  near: {
    model: 'public/models/vit-mnist.safetensors',
    domain: 'OpenCV digits from the digits model',
    testText: 'the OpenCV test split (1,000)',
  },
  far: {
    model: 'public/models/vit-fmnist.safetensors',
    domain: 'MNIST from the Fashion-MNIST model',
    testText: "MNIST's test images (10,000)",
  },
};

/** A pack zip of `id` (train: the first `train` per class; test: `test` per class), built once. */
async function packZip(path: string, id: IdxSetId, perClass: { train: number; test: number }): Promise<string> {
  if (existsSync(path)) return path;
  if (!(await hasIdxSet(id))) throw new GridError(idxSetMissing(id));
  const bytes = await buildPack(
    PACKS.find((p) => p.id === id)!,
    perClass,
  );
  // Renamed into place once whole, so an interrupted build is not taken for a finished one.
  await writeFile(`${path}.part`, bytes);
  await rename(`${path}.part`, path);
  return path;
}

async function prepareTargets(grid: Grid): Promise<Record<string, Target>> {
  const dir = join(grid.out, 'data');
  await mkdir(dir, { recursive: true });
  const uci = join(dir, 'uci-digits.zip');
  if (!existsSync(uci)) await buildDigitSets(dir, grid.roots);
  // The pool (train/ only: the exported script then scores no test split) and the test images apart,
  // scored by score.py with every run's best and final checkpoints.
  const opencv = (split: 'train' | 'test') => join(dir, `opencv-new-head-${split}.zip`);
  for (const only of ['train', 'test'] as const) {
    if (!existsSync(opencv(only)))
      await buildOpenCvTransfer(dir, grid.roots, {
        file: `opencv-new-head-${only}.zip`,
        className: (d) => `opencv-${d}`,
        only,
      });
  }
  const mnist = (name: string, perClass: { train: number; test: number }) =>
    packZip(join(dir, name), 'mnist', perClass);
  return {
    near: {
      ...TARGETS.near,
      name: 'near',
      data: opencv('train'),
      test: opencv('test'),
      unseen: { uci },
      source: await mnist('mnist-test-100.zip', { train: 0, test: 100 }),
    },
    far: {
      ...TARGETS.far,
      name: 'far',
      data: await mnist(`mnist-train-${grid.settings.pool}.zip`, { train: grid.settings.pool, test: 0 }),
      test: await mnist('mnist-test.zip', { train: 0, test: Infinity }),
      unseen: {},
    },
  };
}

/** Runs a command with its stdout and stderr into `log`; returns its stdout. */
async function run(command: string, args: string[], log: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const file = createWriteStream(log, { flags: 'a' });
  file.write(`$ ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    file.write(d);
  });
  child.stderr.pipe(file, { end: false });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  await new Promise((resolve) => file.end(resolve));
  if (code !== 0) throw new GridError(`${command} ${args[0]} exited with ${code} (log: ${log})`);
  return stdout;
}

/** The training images per class as the run driver's fraction of what validation leaves of the pool. */
function fractionFor(s: NewHeadSettings, count: number): number {
  const left = s.pool - Math.max(1, Math.round(s.valFraction * s.pool));
  if (count > left) throw new GridError(`${count} images per class: the pool leaves ${left} after validation`);
  return count / left;
}

interface Plan {
  target: Target;
  count: number;
  method: Method;
  lr: number;
  seed: number;
  engine: boolean;
  /** The target's steps, or 2^k times them for a run again for the k-th time. */
  steps: number;
}

const planId = (p: Plan, base: Record<string, number>) =>
  `${p.target.name}_n${p.count}_${p.method.name.replace(':', '')}_lr${p.lr}_s${p.seed}` +
  `${p.steps !== base[p.target.name] ? `_t${p.steps}` : ''}${p.engine ? '_webgpu' : ''}`;

/** The flags of `stochca train` / `export-torch` for one run. */
function runFlags(s: NewHeadSettings, p: Plan): Record<string, string | boolean> {
  return {
    model: p.target.model,
    data: p.target.data,
    method: p.method.name.split(':')[0],
    ...(p.method.p > 0 && { p: String(p.method.p) }),
    lr: String(p.lr),
    wd: String(s.weightDecay),
    steps: String(p.steps),
    warmup: String(Math.round(p.steps / 10)),
    'eval-every': String(Math.round(p.steps / 10)),
    batch: String(s.batch),
    fraction: String(fractionFor(s, p.count)),
    'val-fraction': String(s.valFraction),
    crop: s.crop,
    'no-flip': true,
    seed: String(p.seed),
  };
}

async function score(grid: Grid, bundle: string, pairs: [string, string][], log: string): Promise<number[]> {
  const cache = join(grid.out, 'data');
  const out = await run(
    PYTHON,
    [SCORE, '--bundle', bundle, '--cache', cache, ...pairs.map(([m, d]) => `${m}=${d}`)],
    log,
    {
      OMP_NUM_THREADS: String(grid.threads),
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as number[];
}

/** The starting model's (its new head seeded by the run's seed) accuracy on the target's test split, kept
 *  by the model file's hash: the runs of one seed and target start from the same file. */
async function pretrainedAccuracy(grid: Grid, bundle: string, data: string, log: string): Promise<number> {
  const model = join(bundle, 'model.safetensors');
  const kept = join(
    grid.out,
    'data',
    `pretrained-${createHash('sha256').update(readFileSync(model)).digest('hex')}.json`,
  );
  if (existsSync(kept)) return JSON.parse(readFileSync(kept, 'utf8')) as number;
  const [accuracy] = await score(grid, bundle, [[model, data]], log);
  await writeFile(kept, JSON.stringify(accuracy));
  return accuracy;
}

async function runOne(grid: Grid, host: () => Promise<EngineHost>, p: Plan, dir: string): Promise<NewHeadRun> {
  const s = grid.settings;
  const longest = s.steps[p.target.name] * 2 ** grid.again;
  const log = join(dir, 'run.log');
  const bundle = join(dir, 'bundle');
  const out = join(dir, 'run');
  let started = performance.now();
  const flags = runFlags(s, p);
  // The bundle also when the engine trains: its model.safetensors is the starting model with the new head.
  await exportTorch({ ...flags, out: bundle });
  if (p.engine) await trainCommand(await host(), trainOptions({ ...flags, out }));
  else
    await run(
      PYTHON,
      [join(bundle, 'train.py'), '--data-root', p.target.data, '--out', out, '--decode-threads', '1'],
      log,
      {
        OMP_NUM_THREADS: String(grid.threads),
      },
    );
  const trainSeconds = seconds(started);
  started = performance.now();
  const curves = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8')) as {
    eval: { step: number; accuracy: number; split: string }[];
  };
  const valCurve = curves.eval.filter((e) => e.split === 'val').map((e): [number, number] => [e.step, e.accuracy]);
  const isConverged = converged(valCurve, grid.flat);
  const best = join(out, 'best.safetensors');
  const unseen = Object.entries(p.target.unseen);
  // A run that will be run again with twice the steps is not scored: only its validation decides.
  const scored = isConverged || p.steps >= longest || p.engine;
  // best.safetensors holds the first best validation's weights: when that is the last step, they are the final ones.
  const bestIsLast =
    valCurve.findIndex(([, a]) => a === Math.max(...valCurve.map(([, v]) => v))) === valCurve.length - 1;
  const scores = scored
    ? await score(
        grid,
        bundle,
        [
          [best, p.target.test],
          ...(bestIsLast ? [] : [[join(out, 'model.safetensors'), p.target.test] as [string, string]]),
          ...unseen.map(([, data]): [string, string] => [best, data]),
          ...(p.target.source ? [[best, p.target.source] as [string, string]] : []),
        ],
        log,
      )
    : [];
  const [atBest = null, final = atBest, ...others] = bestIsLast && scored ? [scores[0], ...scores] : scores;
  const pretrained = await pretrainedAccuracy(grid, bundle, p.target.test, log);
  const { counts } = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  return {
    id: planId(p, s.steps),
    target: p.target.name,
    images_per_class: p.count,
    method: p.method.name,
    p: p.method.p,
    lr: p.lr,
    seed: p.seed,
    steps: p.steps,
    pretrained_target_accuracy: pretrained,
    target_test_accuracy: atBest,
    final_target_test_accuracy: final,
    unseen_accuracy: scored ? Object.fromEntries(unseen.map(([name], k) => [name, others[k]])) : {},
    source_test_accuracy: scored && p.target.source ? others.at(-1)! : null,
    best_val_accuracy: Math.max(...valCurve.map(([, a]) => a)),
    val_curve: valCurve,
    converged: isConverged,
    engine: p.engine ? 'webgpu' : 'pytorch',
    counts,
    settings: s,
    seconds: { train: trainSeconds, eval: seconds(started) },
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let grid: Grid;
  try {
    grid = parseGrid(argv);
  } catch (e) {
    console.error(`${errorMessage(e).split('\n')[0]}\n${USAGE.split('\n')[0]} (--help for the options)`);
    process.exit(2);
  }
  const targets = await prepareTargets(grid);
  let engine: EngineHost | undefined;
  const host = async () => (engine ??= await openEngineHost());
  const runs: NewHeadRun[] = [];
  const go = (plan: Plan[], parallel = grid.parallel) =>
    runAll({
      plan,
      out: grid.out,
      settings: grid.settings,
      id: (p) => planId(p, grid.settings.steps),
      run: (p, dir) => runOne(grid, host, p, dir),
      parallel,
      line: (r) =>
        (r.target_test_accuracy === null
          ? `not scored (runs again with ${2 * r.steps} steps), `
          : `test ${pct(r.target_test_accuracy)} % (final ${pct(r.final_target_test_accuracy!)} %, before ${pct(r.pretrained_target_accuracy)} %), `) +
        `validation ${pct(r.best_val_accuracy)} %${r.converged ? '' : ', not converged'} (${r.seconds.train} s + ${r.seconds.eval} s)`,
    });
  try {
    // 1. Each method's learning rate, chosen once per target on validation.
    const lrChoice: NewHeadResults['lr_choice'] = {};
    for (const name of grid.targets) {
      const target = targets[name];
      const sweep = await go(
        grid.methods.flatMap((method) =>
          grid.lrs.map((lr) => ({
            target,
            count: grid.lrCount,
            method,
            lr,
            seed: 0,
            engine: false,
            steps: grid.settings.steps[name],
          })),
        ),
      );
      lrChoice[name] = Object.fromEntries(
        grid.methods.map((m) => {
          const tried = sweep.filter((r) => r.method === m.name);
          // The best validation accuracy; a tie goes to the smaller learning rate (the gentler change).
          const chosen = tried.reduce((a, b) =>
            b.best_val_accuracy > a.best_val_accuracy || (b.best_val_accuracy === a.best_val_accuracy && b.lr < a.lr)
              ? b
              : a,
          );
          return [m.name, { lr: chosen.lr, tried: tried.map((r) => [r.lr, r.best_val_accuracy] as [number, number]) }];
        }),
      );
      runs.push(...sweep.filter((r) => r.lr !== lrChoice[name][r.method].lr || r.images_per_class !== grid.lrCount));
    }
    // 2. The grid, seed by seed, so a grid stopped early still fills every cell.
    const plan: Plan[] = grid.seeds.flatMap((seed) =>
      grid.targets.flatMap((name) =>
        grid.counts.flatMap((count) =>
          grid.methods.map((method) => ({
            target: targets[name],
            count,
            method,
            lr: lrChoice[name][method.name].lr,
            seed,
            engine: false,
            steps: grid.settings.steps[name],
          })),
        ),
      ),
    );
    const cells = await go(plan);
    // Runs not converged, again from the start with twice the steps (their schedule stretched with them),
    // each time the longer run taking the shorter one's place.
    const replaced: NewHeadRun[] = [];
    for (let k = 0; k < grid.again; k++) {
      const redo = cells.flatMap((r, i) => (r.converged ? [] : [i]));
      for (const i of redo) plan[i] = { ...plan[i], steps: 2 * plan[i].steps };
      const longer = await go(redo.map((i) => plan[i]));
      redo.forEach((i, j) => {
        replaced.push(cells[i]);
        cells[i] = longer[j];
      });
    }
    // 3. A few cells in the engine (one engine, one run at a time), beside the same cells in PyTorch.
    const engineRuns = await go(
      grid.engine.map((c) => ({
        target: targets[c.target],
        count: c.count,
        method: c.method,
        lr: lrChoice[c.target][c.method.name].lr,
        seed: c.seed,
        engine: true,
        // The steps of the PyTorch run it stands beside (longer than the target's where that one was run again).
        steps:
          cells.find(
            (r) =>
              r.target === c.target &&
              r.images_per_class === c.count &&
              r.method === c.method.name &&
              r.seed === c.seed,
          )?.steps ?? grid.settings.steps[c.target],
      })),
      1,
    );
    const results: NewHeadResults = {
      settings: grid.settings,
      flat: grid.flat,
      targets: grid.targets.map((t) => {
        const { name, domain, model, testText: test } = targets[t];
        return {
          name,
          domain,
          model,
          modelSha256: createHash('sha256').update(readFileSync(model)).digest('hex'),
          test,
        };
      }),
      counts: grid.counts,
      methods: grid.methods.map((m) => m.name),
      seeds: grid.seeds,
      lrs: grid.lrs,
      lr_count: grid.lrCount,
      lr_choice: lrChoice,
      again: grid.again,
      argv,
      runs: [...cells, ...engineRuns],
      lr_sweep: runs,
      replaced,
    };
    const md = newHeadReport(results);
    await writeFile(join(grid.out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
    await writeFile(join(grid.out, 'results.md'), md);
    await writeFile(join(grid.out, 'figure.svg'), newHeadFigure(results));
    console.log(`\n${md}`);
    console.log(
      `written: ${relative('.', join(grid.out, 'results.json'))}, ${relative('.', join(grid.out, 'results.md'))}`,
    );
  } finally {
    await engine?.close();
  }
}

main().catch((e: unknown) => {
  if (!(e instanceof GridError || e instanceof DigitSetError)) throw e;
  console.error(e.message);
  process.exit(1);
});
