// The Node device (Dawn): finds an adapter by itself, and says what to install
// when there is none. Only adapter and device creation run here: see README
// ("Node and SwiftShader") for why kernels are tested in Chromium.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { envLayout, requestNodeGpu } from '../../src/gpu/device-node.ts';

describe('Node device', () => {
  it('finds an adapter without any setting (SwiftShader when there is no GPU)', async () => {
    const gpu = await requestNodeGpu();
    expect(`${gpu.adapter.vendor} ${gpu.adapter.description}`).toMatch(/\S/);
    expect(gpu.adapter.limits.maxBufferSize).toBeGreaterThan(0);
    const software = /swiftshader/i.test(`${gpu.adapter.architecture} ${gpu.adapter.description}`);
    if (software) expect(gpu.adapter.fallback).toBe(true); // Dawn marks SwiftShader as a fallback adapter
    expect(gpu.layout.name).toBe(envLayout() ?? (software ? 'cpu' : 'gpu'));
    gpu.destroy();
  });

  it('takes the kernel layout STOCHCA_LAYOUT forces, and refuses any other value naming the allowed ones', async () => {
    const before = process.env.STOCHCA_LAYOUT;
    try {
      process.env.STOCHCA_LAYOUT = 'gpu';
      const gpu = await requestNodeGpu();
      expect(gpu.layout.name).toBe('gpu');
      gpu.destroy();
      process.env.STOCHCA_LAYOUT = 'fast';
      await expect(requestNodeGpu()).rejects.toThrow("STOCHCA_LAYOUT must be gpu or cpu, got 'fast'");
    } finally {
      if (before === undefined) delete process.env.STOCHCA_LAYOUT;
      else process.env.STOCHCA_LAYOUT = before;
    }
  });

  it('says which Vulkan driver failed when none works', () => {
    const script = `
      import { requestNodeGpu } from './src/gpu/device-node.ts';
      requestNodeGpu('swiftshader').then(() => console.log('found'), (e) => console.log(e.name + ': ' + e.message));`;
    const out = execFileSync('npx', ['tsx', '--eval', script], {
      env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' },
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('NoWebGPUError: Dawn found no adapter with the Vulkan driver /nonexistent/icd.json.');
  });
});
