// The benchmark command line refuses what it does not know, before starting anything.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function bench(...args: string[]) {
  return spawnSync('npx', ['tsx', 'src/bench/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('npm run bench', () => {
  it.each([[['no-such-suite']], [[]], [['kernels', '--no-such-flag']]])('prints usage and exits 1 for %j', (args) => {
    const r = bench(...args);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('usage: npm run bench -- <suite> [--json]');
    expect(r.stderr).toContain('suites: kernels');
    expect(r.stdout).toBe('');
  });
});
