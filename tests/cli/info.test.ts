// `stochca info`: the adapter, its limits and features, the host and the kernel layout, in
// words or as JSON; STOCHCA_LAYOUT forces the layout and a bad value is refused in one line.
// It lists the Vulkan drivers Dawn for Node left out, and why, whichever host runs the engine.
import { describe, expect, it } from 'vitest';
import { stochca, stochcaWithEnv } from '../helpers/cli.ts';
import { LAVAPIPE_ICD, NO_LAVAPIPE } from '../helpers/mesa.ts';

describe('stochca info', () => {
  it('reports the adapter, its limits and features, the host and the layout the adapter chose as JSON', async () => {
    // As a person runs it: without the test run's build of the host page, Chromium's host serves its own.
    const r = await stochcaWithEnv({ STOCHCA_LAYOUT: '', STOCHCA_HOST_PAGE: '' }, 'info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual([
      'adapter',
      'fallback',
      'features',
      'host',
      'layout',
      'limits',
      'skipped',
    ]);
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

  it('lists each Vulkan driver Dawn for Node left out and why, also when the engine runs in Chromium', async ({
    skip,
  }) => {
    if (!LAVAPIPE_ICD) return skip(NO_LAVAPIPE);
    const json = await stochcaWithEnv({ STOCHCA_HOST: 'chromium' }, 'info', '--json');
    expect(json.code, json.stderr).toBe(0);
    const skipped: { driver: string; icd: string; reason: string }[] = JSON.parse(json.stdout).skipped;
    // Mesa's drivers run on no hardware adapter here: lavapipe is on the CPU, the others find no device.
    const lavapipe = skipped.find((s) => s.icd === LAVAPIPE_ICD);
    expect(lavapipe).toMatchObject({ driver: 'lavapipe (Mesa llvmpipe)', reason: expect.stringMatching(/\S/) });
    const words = await stochcaWithEnv({ STOCHCA_HOST: 'chromium' }, 'info');
    expect(words.code, words.stderr).toBe(0);
    expect(words.stdout).toMatch(/^skipped +Vulkan drivers Dawn for Node left out:$/m);
    const rows = words.stdout.split('\n');
    for (const s of skipped) {
      const row = rows.find((l) => l.startsWith(`  ${s.driver} `) && l.endsWith(` ${s.reason} (${s.icd})`));
      expect(row, s.driver).toBeDefined();
    }
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
