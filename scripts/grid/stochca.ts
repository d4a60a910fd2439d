// Runs the command-line tool as the experiment scripts do: one process per command, its stderr into
// a log file beside the run, its last stdout line parsed as the result.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GridError } from './options.ts';

const CLI = fileURLToPath(new URL('../../bin/stochca.mjs', import.meta.url));

export const seconds = (since: number) => Math.round((performance.now() - since) / 1000);

/** Runs `node bin/stochca.mjs ...args` with its stderr into `log`; returns its stdout's JSON lines, parsed. */
export async function stochca(args: string[], log: string): Promise<unknown[]> {
  const file = createWriteStream(log);
  file.write(`$ node bin/stochca.mjs ${args.join(' ')}\n`);
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.pipe(file);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  await new Promise((resolve) => file.end(resolve));
  if (code !== 0) {
    const last = readFileSync(log, 'utf8').trim().split('\n').at(-1);
    throw new GridError(`stochca ${args[0]} exited with ${code}: ${last} (log: ${log})`);
  }
  return stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}
