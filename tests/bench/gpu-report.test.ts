// `npm run bench -- gpu-report`: without a hardware adapter it stops in one line; with
// --allow-software it runs every section on SwiftShader with the tiny model, and the report
// holds the adapter, each kernel and training case with finite figures, and per-kernel shares
// of the GPU time that add up to 100 %. Nothing here is a speed: only the report's structure.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

async function report(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('npx', ['tsx', 'src/bench/main.ts', 'gpu-report', ...args], {
      timeout: 240_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);

let hardware = false;
let plain: Awaited<ReturnType<typeof report>>;

// The report without flags tells whether there is a hardware adapter (Dawn is not loaded in this worker).
beforeAll(async () => {
  plain = await report();
  hardware = plain.code === 0;
});

describe('npm run bench -- gpu-report', () => {
  it('says in one line that there is no hardware adapter, and exits 1', async ({ skip }) => {
    if (hardware) skip('this machine has a hardware adapter: the report ran');
    const r = plain;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^bench gpu-report: no hardware GPU: .*--allow-software/);
  });

  it('runs every section with --allow-software: adapter, kernels, training steps, kernel shares', async () => {
    // With a GPU, --allow-software changes nothing and the default models would be the 224-px ones.
    const r = await report('--allow-software', '--json', ...(hardware ? ['--model', 'vit-tiny-16px'] : []));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning:/);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const section = (name: string) => lines.filter((l) => l.section === name);
    expect(lines.map((l) => l.section)).toEqual([
      'adapter',
      ...Array(5).fill('kernels'),
      ...Array(4).fill('train'),
      ...Array(4).fill('shares'),
    ]);

    const [adapter] = section('adapter');
    expect(adapter).toMatchObject({ software: !hardware, models: ['vit-tiny-16px'], timestamps: true });
    expect(adapter.fallback).toBe(!hardware);

    const kernels = section('kernels');
    expect(kernels.map((k) => k.name)).toEqual(
      ['qkv', 'proj', 'fc1', 'fc2', 'attention'].map((k) => `vit-tiny-16px ${k}`),
    );
    for (const k of kernels) {
      for (const key of ['ms', 'gpu_ms', 'gflops', 'tfjs_ms', 'tfjs_gflops', 'ratio'])
        expect(finite(k[key]) && k[key] > 0, `${k.name} ${key}`).toBe(true);
    }

    const train = section('train');
    expect(train.map((t) => [t.method, t.p])).toEqual([
      ['finetune', 0],
      ['linear-probe', 0],
      ['stochca', 0.1],
      ['stochca', 0.5],
    ]);
    for (const t of train) {
      for (const key of ['images_per_s', 'tfjs_images_per_s', 'ratio', 'gflops', 'loss', 'tfjs_loss']) {
        expect(finite(t[key]), `${t.name} ${key}`).toBe(true);
      }
    }

    const shares = section('shares');
    expect(shares.map((s) => [s.model, s.method, s.p])).toEqual(train.map((t) => [t.model, t.method, t.p]));
    for (const s of shares) {
      const values = Object.values(s.shares as Record<string, number>);
      expect(values.every((v) => finite(v) && v >= 0)).toBe(true);
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
      expect(Object.keys(s.shares)).toEqual(expect.arrayContaining(['matmul', 'attention', 'adamw']));
      expect(finite(s.gpu_ms) && s.gpu_ms > 0).toBe(true);
    }
  });
});
