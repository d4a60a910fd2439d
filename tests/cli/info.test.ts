// `stochca info`: the adapter, its limits and features, the host and the kernel layout, in
// words or as JSON; STOCHCA_LAYOUT forces the layout and a bad value is refused in one line.
import { describe, expect, it } from 'vitest';
import { stochca, stochcaWithEnv } from '../helpers/cli.ts';

describe('stochca info', () => {
  it('reports the adapter, its limits and features, the host and the layout the adapter chose as JSON', async () => {
    const r = await stochcaWithEnv({ STOCHCA_LAYOUT: '' }, 'info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual(['adapter', 'fallback', 'features', 'host', 'layout', 'limits']);
    expect(Object.keys(report.adapter).sort()).toEqual(['architecture', 'description', 'device', 'vendor']);
    expect(report.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(Array.isArray(report.features)).toBe(true);
    expect(['node', 'chromium']).toContain(report.host);
    // No GPU here: SwiftShader, a fallback adapter, gets the CPU layout.
    if (/swiftshader/i.test(report.adapter.architecture)) {
      expect(report.fallback).toBe(true);
      expect(report.layout).toBe('cpu');
    }
  });

  it('runs the layout STOCHCA_LAYOUT forces, and says so in words', async () => {
    const json = await stochcaWithEnv({ STOCHCA_LAYOUT: 'gpu' }, 'info', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).layout).toBe('gpu');
    const words = await stochcaWithEnv({ STOCHCA_LAYOUT: 'cpu' }, 'info');
    expect(words.code, words.stderr).toBe(0);
    expect(words.stdout).toMatch(/^layout +cpu /m);
    expect(words.stdout).toMatch(/^host +(node|chromium) /m);
    expect(words.stdout).toMatch(/^ +maxBufferSize +[\d,]+$/m);
  });

  it('refuses a bad STOCHCA_LAYOUT in one line, naming the allowed values', async () => {
    const r = await stochcaWithEnv({ STOCHCA_LAYOUT: 'fast' }, 'info');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("stochca: STOCHCA_LAYOUT must be gpu or cpu, got 'fast'");
  });

  it('takes no other flags', async () => {
    const r = await stochca('info', '--model', 'm');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^stochca: Unknown option '--model'/);
  });
});
