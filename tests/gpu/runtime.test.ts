// The runtime in Chromium: adapter report, errors that name the op, device loss,
// timestamps, and the same engine inside a dedicated Worker.
import { describe, expect, it } from 'vitest';
import { harnessPage, openPage } from '../helpers/browser.ts';

describe('runtime', () => {
  it('reports the adapter, its limits and features', async () => {
    const page = await harnessPage();
    const adapter = await page.evaluate(() => window.stochca!.gpu.adapter);
    expect(`${adapter.vendor} ${adapter.architecture} ${adapter.description}`).toMatch(/\S/);
    expect(adapter.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(adapter.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(Array.isArray(adapter.features)).toBe(true);
    expect(typeof adapter.fallback).toBe('boolean');
  });

  it('turns a validation error into an exception naming the op', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(async () => {
      const { gpu, Kernel, empty } = window.stochca!;
      const uniforms = { R: 'u32', N: 'u32', rowsPerChunk: 'u32' } as const;
      gpu.dispatch({
        op: 'probe x[4]',
        kernel: new Kernel({ shader: 'reduce', entry: 'colsum', workgroupSize: 64, uniforms }),
        uniforms: { R: 1, N: 4, rowsPerChunk: 1 },
        tensors: [empty([4])], // colsum binds two
        workgroups: [1],
      });
      try {
        await gpu.flush();
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toMatch(/^GpuError: probe x\[4\]: /);
    expect(message).toMatch(/number of entries/i);
  });

  it("refuses a kernel whose uniforms do not fit its shader's struct when it makes the pipeline, naming the op, kernel and field", async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, Kernel, empty } = window.stochca!;
      const uniforms = { R: 'u32', rowsPerChunk: 'u32', N: 'u32' } as const;
      try {
        gpu.dispatch({
          op: 'probe x[4]',
          kernel: new Kernel({ shader: 'reduce', entry: 'colsum', workgroupSize: 64, uniforms }),
          uniforms: { R: 1, N: 4, rowsPerChunk: 1 },
          tensors: [empty([4]), empty([4])],
          workgroups: [1],
        });
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe(
      'GpuError: probe x[4]: kernel reduce:colsum: uniforms out of order: struct Params (reduce.wgsl) has N where the kernel has rowsPerChunk',
    );
  });

  it('refuses a buffer larger than the adapter allows, naming the tensor and the sizes', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu } = window.stochca!;
      try {
        gpu.tensor([gpu.adapter.limits.maxBufferSize], 'f32', 'activations');
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toMatch(
      /^GpuOutOfMemoryError: activations\[\d+\]: \d+ bytes exceeds this adapter's largest buffer/,
    );
    expect(message).toMatch(/smaller batch/);
  });

  it('reports a lost device on the next call instead of hanging', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(async () => {
      const gpu = await window.stochca!.newGpu();
      gpu.destroy();
      await new Promise((r) => setTimeout(r, 50));
      try {
        gpu.tensor([4]);
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toMatch(/^DeviceLostError: The GPU device was lost \(destroyed\)/);
  });

  it('times dispatches with GPU timestamps where the adapter has them', async () => {
    const page = await harnessPage();
    const result = await page.evaluate(async () => {
      const { gpu, ops, empty } = window.stochca!;
      if (!gpu.hasTimestamps) return null;
      const a = empty([64, 64]);
      const times = await gpu.timed(() => {
        ops.matmul(gpu, a, a, empty([64, 64]));
        ops.colsum(gpu, a, empty([64]));
      });
      return Object.fromEntries(times);
    });
    if (result === null) return; // adapters without timestamp-query: nothing to time
    expect(Object.keys(result).sort()).toEqual(['colsum', 'matmul']);
    expect(result.matmul).toBeGreaterThan(0);
  });

  it('runs the same engine inside a dedicated Worker', async () => {
    const page = await openPage('/tests/browser/worker.html');
    const result = await page.evaluate(() => (window as unknown as { workerResult: Promise<unknown> }).workerResult);
    expect(result).toMatchObject({ c: [4, 5, 10, 11] });
  });
});
