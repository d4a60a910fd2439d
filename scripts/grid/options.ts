// The command line the experiment grids share: the model, the run settings, fractions, methods (fine-
// tuning, the linear probe or StochCA at a p) and seeds, checked, with their usage; and the error that ends a script
// with one line instead of a stack.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorMessage } from '../../src/gpu/error-message.ts';

export class GridError extends Error {}

export interface Method {
  /** 'finetune', 'linear-probe' or 'stochca:P'. */
  name: string;
  /** The cross-attention probability: 0 for fine-tuning and the linear probe. */
  p: number;
  /** The flags that select it in `stochca train`. */
  args: string[];
}

export function parseMethod(text: string): Method {
  if (text === 'finetune' || text === 'linear-probe') return { name: text, p: 0, args: ['--method', text] };
  const m = /^stochca:(.+)$/.exec(text);
  const p = m ? Number(m[1]) : NaN;
  if (!(p >= 0 && p <= 1))
    throw new GridError(`--methods: '${text}' is not finetune, linear-probe or stochca:P with P in [0, 1]`);
  return { name: `stochca:${p}`, p, args: ['--method', 'stochca', '--p', String(p)] };
}

export interface Range {
  int?: boolean;
  min?: number;
  max?: number;
  above?: number;
}

export function number(flag: string, text: string, o: Range = {}): number {
  const n = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(n) &&
    (!o.int || Number.isInteger(n)) &&
    (o.min === undefined || n >= o.min) &&
    (o.max === undefined || n <= o.max) &&
    (o.above === undefined || n > o.above);
  if (!ok) throw new GridError(`--${flag}: '${text}' is not ${o.int ? 'a whole number' : 'a number'} in range`);
  return n;
}

const list = (flag: string, text: string, o: Range) => text.split(',').map((t) => number(flag, t, o));

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const CROPS = ['random-resized', 'random', 'none'];

function crop(text: string): string {
  if (!CROPS.includes(text)) throw new GridError(`--crop: '${text}' is not ${CROPS.join(', ')}`);
  return text;
}

/** The settings every run of a grid shares, recorded with each run (a finished run of other settings is refused). */
export interface RunSettingsOfGrid {
  model: string;
  modelSha256: string;
  steps: number;
  batch: number;
  lr: number;
  evalEvery: number;
  valFraction: number;
  crop: string;
}

/** The grid a script's command line gives (`parse` reads it), or an exit with code 2 after the error's
 *  first line and the usage's. */
export function gridOrExit<G>(parse: () => G, d: GridDefaults): G {
  try {
    return parse();
  } catch (e) {
    console.error(`${errorMessage(e).split('\n')[0]}\n${gridUsage(d).split('\n')[0]} (--help for the options)`);
    process.exit(2);
  }
}

/** The `stochca train` command line of one run of a grid, its output in `out`: the grid's settings, no flips. */
export function trainCommandLine(
  s: RunSettingsOfGrid,
  data: string,
  method: Method,
  fraction: number,
  seed: number,
  out: string,
): string[] {
  return [
    'train',
    '--model',
    s.model,
    '--data',
    data,
    ...method.args,
    '--fraction',
    String(fraction),
    '--seed',
    String(seed),
    '--steps',
    String(s.steps),
    '--batch',
    String(s.batch),
    '--lr',
    String(s.lr),
    '--eval-every',
    String(s.evalEvery),
    '--val-fraction',
    String(s.valFraction),
    '--crop',
    s.crop,
    '--no-flip',
    '--out',
    out,
  ];
}

/** What the grid scripts have in common, parsed; `values` holds the script's own flags. */
export interface CommonGrid {
  settings: RunSettingsOfGrid;
  out: string;
  fractions: number[];
  methods: Method[];
  seeds: number[];
  roots: string[];
  quick: boolean;
  values: Record<string, string | boolean | string[] | undefined>;
}

/** A script's defaults, full and for --quick (a smoke test: 1 fraction, 1 seed, finetune and stochca:0.5). */
export interface GridDefaults {
  script: string;
  model: string;
  out: string;
  steps: number;
  evalEvery: number;
  valFraction: number;
  fractions: string;
  /** The script's own flags: name → usage line. */
  extra: Record<string, string>;
  quick: { steps: number; evalEvery: number; fractions: string };
}

const ALL_METHODS = 'finetune,stochca:0.1,stochca:0.3,stochca:0.5';

export function gridUsage(d: GridDefaults): string {
  const line = (flag: string, text: string) => `  ${flag.padEnd(24)}${text}`;
  return [
    `usage: npx tsx scripts/${d.script} [options]`,
    line('--model M.safetensors', `the pretrained model (default ${d.model})`),
    line('--out DIR', `results and runs (default ${d.out}; ${d.out}-quick with --quick)`),
    line('--steps N', `training steps of every run (default ${d.steps})`),
    line('--batch N', 'batch size (default 32)'),
    line('--lr X', 'peak learning rate (default 1e-3)'),
    line('--eval-every N', `validation every N steps (default ${d.evalEvery})`),
    line('--val-fraction X', `validation images drawn per class from the training images (default ${d.valFraction})`),
    line('--crop C', 'training crop: random-resized, random or none (default random; never flipped)'),
    ...Object.entries(d.extra).map(([flag, text]) => line(flag, text)),
    line('--seeds S,S,...', 'seeds (default 0,1,2)'),
    line('--fractions F,F,...', `training images kept per class (default ${d.fractions})`),
    line('--methods finetune,...', `finetune, linear-probe or stochca:P (default ${ALL_METHODS})`),
    line('--root DIR', 'where python3-sklearn and opencv-doc are extracted (repeatable; default /)'),
    line('--quick', `smoke test: 1 fraction, 1 seed, finetune and stochca:0.5, ${d.quick.steps} steps`),
  ].join('\n');
}

/** Parses a grid script's command line (exits with the usage for --help). */
export function parseGridArgs(argv: string[], d: GridDefaults): CommonGrid {
  const extra = Object.fromEntries(
    Object.keys(d.extra).map((flag) => [flag.replace(/^--/, '').split(' ')[0], { type: 'string' as const }]),
  );
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      'eval-every': { type: 'string' },
      'val-fraction': { type: 'string' },
      crop: { type: 'string' },
      seeds: { type: 'string' },
      fractions: { type: 'string' },
      methods: { type: 'string' },
      root: { type: 'string', multiple: true },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...extra,
    },
  });
  const v = values as CommonGrid['values'];
  if (v.help) {
    console.log(gridUsage(d));
    process.exit(0);
  }
  const quick = v.quick === true;
  const model = (v.model as string | undefined) ?? d.model;
  if (!existsSync(model)) throw new GridError(`the model ${model} does not exist: pass --model PATH`);
  const str = (k: string) => v[k] as string | undefined;
  return {
    settings: {
      model,
      modelSha256: sha256(model),
      steps: number('steps', str('steps') ?? String(quick ? d.quick.steps : d.steps), { int: true, min: 1 }),
      batch: number('batch', str('batch') ?? '32', { int: true, min: 1 }),
      lr: number('lr', str('lr') ?? '1e-3', { above: 0 }),
      evalEvery: number('eval-every', str('eval-every') ?? String(quick ? d.quick.evalEvery : d.evalEvery), {
        int: true,
        min: 1,
      }),
      valFraction: number('val-fraction', str('val-fraction') ?? String(d.valFraction), { above: 0, max: 0.9 }),
      crop: crop(str('crop') ?? 'random'),
    },
    out: str('out') ?? (quick ? `${d.out}-quick` : d.out),
    fractions: list('fractions', str('fractions') ?? (quick ? d.quick.fractions : d.fractions), { above: 0, max: 1 }),
    methods: (str('methods') ?? (quick ? 'finetune,stochca:0.5' : ALL_METHODS)).split(',').map(parseMethod),
    seeds: list('seeds', str('seeds') ?? (quick ? '0' : '0,1,2'), { int: true, min: 0 }),
    roots: (v.root as string[] | undefined) ?? ['/'],
    quick,
    values: v,
  };
}
