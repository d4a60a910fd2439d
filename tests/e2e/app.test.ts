// The page a person opens: it finds the GPU, or says how to get WebGPU.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openPage } from '../helpers/browser.ts';

const SHOTS = 'test-results/screenshots';

describe('playground page', () => {
  it('shows the WebGPU adapter it found', async () => {
    const page = await openPage('/');
    await expect.poll(() => page.getByTestId('adapter-name').textContent(), { timeout: 60_000 }).toMatch(/\S/);
    await expect(page.locator('h1').textContent()).resolves.toBe('StochCA Playground');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/adapter.png`, fullPage: true });
  });

  it('explains what to do in a browser without WebGPU', async () => {
    const page = await openPage('/', {
      init: () => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }),
    });
    const alert = page.getByTestId('no-webgpu');
    await expect.poll(() => alert.textContent(), { timeout: 60_000 }).toMatch(/does not offer WebGPU.*Chrome/);
    await page.screenshot({ path: `${SHOTS}/no-webgpu.png`, fullPage: true });
  });
});
