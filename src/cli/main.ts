// The `stochca` command line. Every bad argument or file ends with one line on stderr
// and a non-zero exit code (2: usage, 1: anything else).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openEngineHost } from './engine-host.ts';

const USAGE = `usage:
  stochca infer --model M.safetensors --input x.npy --out logits.npy [--heads N] [--config config.json]
  stochca grad  --model S.safetensors --teacher T.safetensors --input x.npy --labels y.npy
                --ca-mask 0101 --out grads.safetensors [--heads N] [--config config.json]

  x.npy: float32 [N, 3, H, W], already normalised; y.npy: int32 or int64 [N].
  --ca-mask: one character per block, 1 = cross-attention to the teacher (grad needs --teacher then).`;

class UsageError extends Error {}

const COMMON = {
  model: { type: 'string' },
  input: { type: 'string' },
  out: { type: 'string' },
  heads: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMANDS = {
  infer: COMMON,
  grad: { ...COMMON, teacher: { type: 'string' }, labels: { type: 'string' }, 'ca-mask': { type: 'string' } },
} as const;

function need(v: string | undefined, flag: string): string {
  if (v === undefined) throw new UsageError(`missing --${flag}`);
  return v;
}

function readFile(path: string, flag: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read --${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function heads(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--heads must be a positive integer, got '${v}'`);
  return n;
}

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  if (!(command in COMMANDS)) throw new UsageError(`unknown command '${command}'`);
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = COMMANDS[command as keyof typeof COMMANDS];
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const str = (k: string) => values[k] as string | undefined;
  const out = need(str('out'), 'out');
  const headCount = heads(str('heads'));
  const base = {
    model: readFile(need(str('model'), 'model'), 'model'),
    config: str('config') === undefined ? undefined : new TextDecoder().decode(readFile(str('config')!, 'config')),
    heads: headCount,
    input: readFile(need(str('input'), 'input'), 'input'),
  };
  const grad = command === 'grad'
    ? {
        ...base,
        labels: readFile(need(str('labels'), 'labels'), 'labels'),
        mask: need(str('ca-mask'), 'ca-mask'),
        teacher: str('teacher') === undefined ? undefined : readFile(str('teacher')!, 'teacher'),
      }
    : undefined;
  const host = await openEngineHost();
  try {
    if (grad) {
      const r = await host.grad(grad);
      writeFileSync(out, r.file);
      console.log(JSON.stringify({ loss: r.loss, correct: r.correct, out, adapter: host.adapter }));
    } else {
      writeFileSync(out, await host.infer(base));
      console.log(JSON.stringify({ out, adapter: host.adapter }));
    }
  } finally {
    await host.close();
  }
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`stochca: ${message.split('\n')[0]}`);
    if (e instanceof UsageError) console.error("run 'stochca --help' for usage");
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
