// The kernel layout: chosen once per device from the adapter, forced by STOCHCA_LAYOUT
// (pages: ?layout=), refused when it names no layout.
import { describe, expect, it } from 'vitest';
import { chooseLayout, LAYOUTS, parseLayoutName } from '../../src/gpu/layout.ts';
import { openHarness } from '../helpers/browser.ts';

const swiftshader = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: 'swiftshader-device-subzero-',
  description: 'SwiftShader driver 5.0.0',
};
const hardware = { vendor: 'nvidia', architecture: 'ada', device: '0x2684', description: 'NVIDIA GeForce RTX 4090' };
const unnamed = { vendor: '', architecture: '', device: '', description: '' };

describe('kernel layout', () => {
  it('takes the CPU layout on SwiftShader and on any fallback adapter, the GPU layout otherwise', () => {
    expect(chooseLayout(swiftshader, false).name).toBe('cpu');
    expect(chooseLayout({ ...unnamed, description: 'SwiftShader Device (Subzero)' }, false).name).toBe('cpu');
    expect(chooseLayout(unnamed, true).name).toBe('cpu');
    expect(chooseLayout(hardware, false).name).toBe('gpu');
    expect(chooseLayout(unnamed, false).name).toBe('gpu');
  });

  it('lets a forced layout win either way', () => {
    expect(chooseLayout(swiftshader, true, 'gpu')).toBe(LAYOUTS.gpu);
    expect(chooseLayout(hardware, false, 'cpu')).toBe(LAYOUTS.cpu);
  });

  it('keeps each layout within WebGPU guarantees, and both matmul blockings on a 64x64 tile', () => {
    for (const l of Object.values(LAYOUTS)) {
      expect(4 * l.matmul.rb * l.matmul.wg).toBe(64);
      for (const threads of [l.matmul.wg ** 2, l.layernormRowThreads, l.attentionRows, l.reduceWorkgroup]) {
        expect(threads).toBeLessThanOrEqual(256); // maxComputeInvocationsPerWorkgroup's default
      }
    }
  });

  it('reads a forced layout, treats unset or empty as none, and refuses anything else naming the allowed values', () => {
    expect(parseLayoutName('gpu', 'STOCHCA_LAYOUT')).toBe('gpu');
    expect(parseLayoutName('cpu', 'STOCHCA_LAYOUT')).toBe('cpu');
    for (const none of [undefined, null, '']) expect(parseLayoutName(none, 'STOCHCA_LAYOUT')).toBeUndefined();
    expect(() => parseLayoutName('GPU', 'STOCHCA_LAYOUT')).toThrow("STOCHCA_LAYOUT must be gpu or cpu, got 'GPU'");
    expect(() => parseLayoutName('toString', '?layout=')).toThrow("?layout= must be gpu or cpu, got 'toString'");
  });

  it('forces the layout of the harness page from ?layout=, and refuses a bad one', async () => {
    for (const layout of ['gpu', 'cpu'] as const) {
      const page = await openHarness(layout);
      expect(await page.evaluate(() => window.stochca!.gpu.layout.name)).toBe(layout);
      await page.context().close();
    }
    await expect(openHarness('fast')).rejects.toThrow("?layout= must be gpu or cpu, got 'fast'");
  });
});
