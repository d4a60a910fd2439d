// Ctrl-C during `stochca train`: the run ends after the step in progress with a checkpoint of that
// step, on the engine that ran it (a headless Chromium without a GPU), and resumes from there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStateFile } from '../../src/train/checkpoint-files.ts';
import { makeFolder, png, removeTempDirs, tempDir, type Files } from '../data/fixtures.ts';
import { spawnStochca, stochca } from '../helpers/cli.ts';

afterAll(removeTempDirs);

describe('stochca train, interrupted', () => {
  it('stops after the step in progress on Ctrl-C, with a checkpoint of it, and resumes from there', async () => {
    const dir = await tempDir();
    const files: Files = {};
    for (let i = 0; i < 8; i++) {
      files[`dark/${i}.png`] = await png(20 + i, 16);
      files[`light/${i}.png`] = await png(200 + i, 16);
    }
    const data = await makeFolder(files);
    const model = join(dir, 'init.safetensors');
    const init = await stochca(
      'init',
      '--out',
      model,
      '--image-size',
      '16',
      '--patch',
      '8',
      '--dim',
      '32',
      '--depth',
      '2',
      '--heads',
      '2',
      '--mlp',
      '64',
      '--classes',
      '2',
      '--seed',
      '0',
    );
    expect(init.code, init.stderr).toBe(0);
    const out = join(dir, 'run');
    // Far more steps than the test waits for; the first validation (step 2) says training is under way.
    const child = spawnStochca(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--steps',
      '100000',
      '--batch',
      '4',
      '--warmup',
      '0',
      '--eval-every',
      '2',
      '--val-fraction',
      '0.25',
      '--out',
      out,
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/step 2: validation accuracy/.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`stochca train exited before its first validation:\n${stderr}`)));
    });
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(summary.reason).toBe('stopped');
    expect(stderr).toContain(`stopped after step ${summary.steps}; continue with: stochca train --resume ${out}`);
    expect(readStateFile(readFileSync(join(out, 'state.safetensors'))).step).toBe(summary.steps);
    const curves = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8'));
    expect(curves.train.at(-1).step).toBe(summary.steps);

    const resumed = await stochca('train', '--resume', out, '--stop-after', String(summary.steps + 1));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resumed after step ${summary.steps}`);
    expect(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      steps: summary.steps + 1,
      reason: 'stopped',
    });
  });
});
