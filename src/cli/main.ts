// The `stochca` command line. Every bad argument or file ends with one error on stderr (a line, then
// its details: the tensors, the shapes) and a non-zero exit code (2: usage, 1: anything else).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openEngineHost } from './engine-host.ts';
import { leftOutLine } from '../train/run.ts';
import { evalCommand, formatReport, type EvalSplit } from './eval-command.ts';
import { info } from './info-command.ts';
import { initCommand } from './init-command.ts';
import { EXPORT_TORCH_FLAGS, exportTorch } from './export-torch.ts';
import { trainCommand } from './train-command.ts';
import { cacheZooModel } from './zoo-cache.ts';
import {
  dataPath,
  heads,
  HELP_FLAG,
  MODEL_FLAGS,
  modelSource,
  settingsUsage,
  TRAIN_FLAGS,
  trainOptions,
  UsageError,
} from './train-args.ts';
import { errorMessage } from '../gpu/error-message.ts';
import { readFlagFile, readFlagText } from './flag-files.ts';

const USAGE = () => `usage:
  stochca infer --model M.safetensors --input x.npy --out logits.npy [--heads N] [--config config.json]
  stochca attention --model M.safetensors --input x.npy --out attn.npy [--heads N] [--config config.json]
  stochca grad  --model S.safetensors --teacher T.safetensors --input x.npy --labels y.npy
                --ca-mask 0101 --out grads.safetensors [--heads N] [--config config.json]

  x.npy: float32 [N, 3, H, W], already normalised; y.npy: int32 or int64 [N].
  attn.npy: float32 [N, depth, heads, tokens], the class token's attention probabilities over all tokens
  in each block and head (self-attention, as at evaluation).
  stochca train --model M.safetensors|builtin:ID|hub:ORG/NAME --data DIR|ZIP|URL|pack:ID [--experiment experiment.json]
                ${settingsUsage('                ')}
                [--out DIR] [--heads N] [--config config.json] [--stop-after N] [--memory-budget MiB]
  stochca train --resume DIR [--stop-after N] [--memory-budget MiB]
  stochca export-torch --model M.safetensors|builtin:ID --data DIR|ZIP|URL|pack:ID --out DIR
                [train's settings flags, or --experiment experiment.json] [--heads N] [--config config.json]
                the same experiment for PyTorch: experiment.json, split.json, model.safetensors (the
                starting weights as the engine loads them), train.py (torchrun-ready) and README.md
  stochca init  --out M.safetensors [--image-size 28] [--patch 4] [--dim 64] [--depth 4] [--heads 4]
                [--mlp 128] [--classes 10] [--seed 0]
  stochca info  [--json]   the adapter, its limits and features, the engine's host and kernel layout

  --ca-mask: one character per block, 1 = cross-attention to the teacher (grad needs --teacher then).
  stochca eval  --model M.safetensors|builtin:ID|hub:ORG/NAME --data DIR|ZIP|URL|pack:ID [--data ...]... [--split all|train|val|test]
                [--batch 32] [--json] [--heads N] [--config config.json]

  --data may also be an http(s) URL of a zip, downloaded when the command runs.
  --model hub:ORG/NAME takes a model of the zoo (docs/model-zoo.md), fetched from the Hub (STOCHCA_HUB,
  default https://huggingface.co) the first time and kept in $STOCHCA_CACHE/hub (else
  $XDG_CACHE_HOME/stochca/hub, else ~/.cache/stochca/hub) for later runs.
  train writes config.json, curves.json, curves.csv, model.safetensors and state.safetensors (the last
  checkpoint, which manifest.json commits) and best.safetensors (the best validation accuracy) into --out
  (default stochca-run).
  Its settings, defaults and rules are the page's: --experiment reads the page's experiment.json, flags
  override it; without --model/--data the experiment's built-in model and pack are used. --warmup and
  --eval-every both default to a tenth of --steps. Ctrl-C or --stop-after ends the run with a
  checkpoint; --resume DIR continues it exactly (same masks, same images). --memory-budget caps the GPU
  memory planned: a batch that does not fit runs in micro-batches whose gradients are summed.
  eval uses the checkpoint's own input size and normalisation and prints accuracy, per-class accuracy and
  the confusion matrix of each --data in turn (with --json, one line per --data: a JSON object whose
  "data" names it).
  init writes a ViT initialised from scratch (timm's scheme), to pretrain with train.`;

const COMMON = { ...MODEL_FLAGS, input: { type: 'string' }, out: { type: 'string' }, ...HELP_FLAG } as const;

const INIT = {
  out: { type: 'string' },
  'image-size': { type: 'string' },
  patch: { type: 'string' },
  dim: { type: 'string' },
  depth: { type: 'string' },
  heads: { type: 'string' },
  mlp: { type: 'string' },
  classes: { type: 'string' },
  seed: { type: 'string' },
  ...HELP_FLAG,
} as const;

const EVAL = {
  ...MODEL_FLAGS,
  data: { type: 'string', multiple: true },
  batch: { type: 'string' },
  json: { type: 'boolean' },
  split: { type: 'string' },
  ...HELP_FLAG,
} as const;

const COMMANDS = {
  init: INIT,
  train: TRAIN_FLAGS,
  'export-torch': EXPORT_TORCH_FLAGS,
  eval: EVAL,
  infer: COMMON,
  attention: COMMON,
  grad: { ...COMMON, teacher: { type: 'string' }, labels: { type: 'string' }, 'ca-mask': { type: 'string' } },
  info: { json: { type: 'boolean' }, ...HELP_FLAG },
} as const;

function need(v: string | undefined, flag: string): string {
  if (v === undefined) throw new UsageError(`missing --${flag}`);
  return v;
}

/** A numeric flag: integer and/or range checked, with its default. */
function num(
  values: Record<string, unknown>,
  flag: string,
  fallback: number,
  o: { int?: boolean; min?: number; max?: number } = {},
): number {
  const v = values[flag] as string | undefined;
  if (v === undefined) return fallback;
  const n = Number(v);
  const bad =
    !Number.isFinite(n) ||
    (o.int && !Number.isInteger(n)) ||
    (o.min !== undefined && n < o.min) ||
    (o.max !== undefined && n > o.max);
  if (bad) {
    const range = [o.min !== undefined ? `≥ ${o.min}` : '', o.max !== undefined ? `≤ ${o.max}` : '']
      .filter(Boolean)
      .join(' and ');
    throw new UsageError(
      `--${flag} must be ${o.int ? 'a whole number' : 'a number'}${range ? ` ${range}` : ''}, got '${v}'`,
    );
  }
  return n;
}

const SPLITS = ['all', 'train', 'val', 'test'];

async function train(values: Record<string, string | boolean | undefined>): Promise<void> {
  const options = trainOptions(values);
  if (options.model.hub) await cacheZooModel(options.model.hub);
  const host = await openEngineHost();
  try {
    const r = await trainCommand(host, options);
    console.log(
      JSON.stringify({
        out: options.out,
        steps: r.step,
        reason: r.reason,
        final_loss: r.last?.loss,
        best_val_accuracy: r.best?.accuracy,
        best_val_step: r.best?.step,
        test_accuracy_at_best_val: r.test.atBest?.accuracy,
        final_test_accuracy: r.test.final?.accuracy,
        adapter: host.adapter,
      }),
    );
  } finally {
    await host.close();
  }
}

async function evaluate(values: Record<string, unknown>): Promise<void> {
  const str = (k: string) => values[k] as string | undefined;
  const split = str('split') ?? 'all';
  if (!SPLITS.includes(split)) throw new UsageError(`--split must be ${SPLITS.join(', ')}, got '${split}'`);
  const data = values.data as string[] | undefined;
  if (!data?.length) throw new UsageError('missing --data');
  // The model and data references `train` takes: a path, builtin:ID, hub:ORG/NAME, pack:ID.
  const source = modelSource(need(str('model'), 'model'));
  if (source.hub) await cacheZooModel(source.hub);
  const configPath = str('config') ?? source.configPath;
  const options = {
    split: split as EvalSplit,
    batch: num(values, 'batch', 32, { int: true, min: 1 }),
    heads: heads(str('heads')),
    model: readFlagFile(source.path, 'model'),
    config: configPath === undefined ? undefined : readFlagText(configPath, 'config'),
    normalization: source.normalization,
  };
  // One engine for every data set: its start is most of a small set's time.
  const host = await openEngineHost();
  try {
    for (const [k, text] of data.entries()) {
      const path = dataPath(text);
      const report = await evalCommand(host, { ...options, data: path });
      if (report.skipped.length) console.error(leftOutLine(report.skipped));
      if (values.json) console.log(JSON.stringify({ data: text, ...report }));
      else console.log(`${data.length > 1 ? `${k ? '\n' : ''}${text}:\n` : ''}${formatReport(report)}`);
    }
  } finally {
    await host.close();
  }
}

function init(values: Record<string, unknown>): void {
  const out = need(values.out as string | undefined, 'out');
  const whole = (flag: string, fallback: number) => num(values, flag, fallback, { int: true, min: 1 });
  const r = initCommand(
    {
      imageSize: whole('image-size', 28),
      patchSize: whole('patch', 4),
      dim: whole('dim', 64),
      depth: whole('depth', 4),
      heads: whole('heads', 4),
      mlpDim: whole('mlp', 128),
      numClasses: whole('classes', 10),
      layerNormEps: 1e-6,
      channels: 3,
    },
    num(values, 'seed', 0, { int: true, min: 0 }),
  );
  writeFileSync(out, r.file);
  console.log(JSON.stringify({ out, parameters: r.parameters, config: r.config }));
}

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE());
    return;
  }
  if (!(command in COMMANDS)) throw new UsageError(`unknown command '${command}'`);
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = COMMANDS[command as keyof typeof COMMANDS];
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (e) {
    throw new UsageError(errorMessage(e).split('\n')[0]);
  }
  if (values.help) {
    console.log(USAGE());
    return;
  }
  if (command === 'init') return init(values);
  if (command === 'train') return train(values);
  if (command === 'export-torch') return console.log(JSON.stringify(await exportTorch(values)));
  if (command === 'eval') return evaluate(values);
  if (command === 'info') return info(values.json === true);
  const str = (k: string) => values[k] as string | undefined;
  const out = need(str('out'), 'out');
  const headCount = heads(str('heads'));
  const base = {
    model: readFlagFile(need(str('model'), 'model'), 'model'),
    config: str('config') === undefined ? undefined : readFlagText(str('config')!, 'config'),
    heads: headCount,
    input: readFlagFile(need(str('input'), 'input'), 'input'),
  };
  const grad =
    command === 'grad'
      ? {
          ...base,
          labels: readFlagFile(need(str('labels'), 'labels'), 'labels'),
          mask: need(str('ca-mask'), 'ca-mask'),
          teacher: str('teacher') === undefined ? undefined : readFlagFile(str('teacher')!, 'teacher'),
        }
      : undefined;
  const host = await openEngineHost();
  try {
    if (grad) {
      const r = await host.call('grad', grad);
      writeFileSync(out, r.file);
      console.log(JSON.stringify({ loss: r.loss, correct: r.correct, out, adapter: host.adapter }));
    } else {
      writeFileSync(out, await host.call(command === 'attention' ? 'attention' : 'infer', base));
      console.log(JSON.stringify({ out, adapter: host.adapter }));
    }
  } finally {
    await host.close();
  }
}

// Enough to see what a checkpoint gets wrong (a mistake tends to repeat block after block) without
// flooding the terminal.
const MAX_DETAIL_LINES = 20;

/** "stochca: " and the message's first line, then its detail lines indented, at most MAX_DETAIL_LINES. */
function errorText(message: string): string {
  const [first, ...details] = message.trimEnd().split('\n');
  const shown = details.slice(0, MAX_DETAIL_LINES).map((line) => `  ${line.trim()}`);
  if (details.length > MAX_DETAIL_LINES) shown.push(`  … and ${details.length - MAX_DETAIL_LINES} more`);
  return [`stochca: ${first}`, ...shown].join('\n');
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(errorText(errorMessage(e)));
    if (e instanceof UsageError) console.error("run 'stochca --help' for usage");
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
