// scripts/new-head-grid.ts refuses, before it builds data or trains, a grid whose longest runs would have
// more steps than a run may have (the settings schema's limit), with a line that says so instead of a stack.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const grid = (...args: string[]) =>
  spawnSync('npx', ['tsx', 'scripts/new-head-grid.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('the new-head grid command line', () => {
  it('refuses an --again whose longest runs would pass the step limit, naming the target and the limit', () => {
    const out = mkdtempSync(join(tmpdir(), 'new-head-'));
    const r = grid('--out', out, '--again', '7');
    expect(r.status).toBe(2); // a usage error, as every option's
    expect(r.stderr.split('\n')[0]).toBe(
      "--again 7: far's longest runs would take 102400 steps, over the 100000 a run may have",
    );
  });
});
