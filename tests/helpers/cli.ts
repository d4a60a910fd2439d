// Runs the `stochca` command as a person would, returning its exit code and output. Its Chromium host
// loads the test run's build of the engine host page (global-setup.ts) unless `env` sets
// STOCHCA_HOST_PAGE to '' (then it serves the page itself, as it does for a person).
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);
/** The command line that runs `stochca` from the repository's root. */
const COMMAND = ['bin/stochca.mjs'];

export function stochca(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return stochcaWithEnv({}, ...args);
}

/** `stochca` with `env` set over this process's environment (e.g. STOCHCA_LAYOUT). */
export async function stochcaWithEnv(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [...COMMAND, ...args], {
      timeout: 240_000,
      env: commandEnv(env),
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** `stochca` started and left running, for a test that signals it or reads its output as it comes. */
export function spawnStochca(...args: string[]): ChildProcessWithoutNullStreams {
  return spawn('node', [...COMMAND, ...args], { env: commandEnv({}) });
}

function commandEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, STOCHCA_HOST_PAGE: inject('hostPage'), ...env };
}
