// The Node device (Dawn): finds an adapter by itself, and says what to install
// when there is none. Only adapter and device creation run here: see README
// ("Node and SwiftShader") for why kernels are tested in Chromium.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requestNodeGpu } from '../../src/gpu/device-node.ts';

describe('Node device', () => {
  it('finds an adapter without any setting (SwiftShader when there is no GPU)', async () => {
    const gpu = await requestNodeGpu();
    expect(`${gpu.adapter.vendor} ${gpu.adapter.description}`).toMatch(/\S/);
    expect(gpu.adapter.limits.maxBufferSize).toBeGreaterThan(0);
    expect(gpu.software).toBe(/swiftshader/i.test(`${gpu.adapter.architecture} ${gpu.adapter.description}`));
    gpu.destroy();
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
