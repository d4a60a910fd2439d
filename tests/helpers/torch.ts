// Running the exported PyTorch script (src/torch/train.py) in the tests, with Debian's python3-torch.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

/** Debian's Python, which python3-torch installs into (a `python3` earlier on PATH may lack it). */
export const PYTHON = '/usr/bin/python3';

/** Why the PyTorch tests are skipped, or '' when torch imports. */
export const torchMissing: string =
  spawnSync(PYTHON, ['-c', 'import torch, PIL'], { stdio: 'ignore' }).status === 0
    ? ''
    : ' (skipped: PyTorch is missing: sudo apt-get install python3-torch python3-torchvision libopenblas0-openmp)';

const run = promisify(execFile);

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs the interpreter with `args`, as a person would run the script. */
export async function python(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const start = performance.now();
  const seconds = () => (performance.now() - start) / 1000;
  try {
    const { stdout, stderr } = await run(PYTHON, args, {
      timeout: 240_000,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 2 ** 20,
    });
    return { code: 0, stdout, stderr, seconds: seconds() };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, seconds: seconds() };
  }
}

/** `torchrun --nproc_per_node n script …` on the CPU (Gloo). Debian 12's torch 1.13 under Python 3.11 reads
 *  torchrun's default --redirects and --tee of 0 as None and stops; a mapping for a rank that does not
 *  exist sets them to nothing for every real rank, which works with any torch. */
export function torchrun(n: number, args: string[]): Promise<Ran> {
  return python([
    '-m',
    'torch.distributed.run',
    '--redirects',
    '9:0',
    '--tee',
    '9:0',
    '--nproc_per_node',
    String(n),
    ...args,
  ]);
}

export interface CurveRow {
  step: number;
  split: string;
  loss: number;
  accuracy: number;
  lr: number;
  mask: string;
}

/** curves.csv as `stochca train` and the script write it: step,split,loss,accuracy,lr,mask. */
export function readCurvesCsv(path: string): CurveRow[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  if (head !== 'step,split,loss,accuracy,lr,mask') throw new Error(`${path}: header ${head}`);
  return lines.map((l) => {
    const [step, split, loss, accuracy, lr, mask] = l.split(',');
    return { step: Number(step), split, loss: Number(loss), accuracy: Number(accuracy), lr: Number(lr), mask };
  });
}

/** The largest |a − b| / |b| over the pairs. */
export const maxRelative = (a: number[], b: number[]) =>
  Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));
