// The page a person opens: it finds the GPU, or says how to get WebGPU, and keeps what is dropped on
// it from the first moment.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPage } from '../helpers/browser.ts';
import { classFolders, makeFolder, png, removeTempDirs, tempDir } from '../data/fixtures.ts';

const SHOTS = 'test-results/screenshots';

afterAll(removeTempDirs);

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

  it('keeps a model file and a folder picked the moment the panels appear, while the page still reads its kept runs', async () => {
    const dir = await tempDir();
    const model = join(dir, 'digits.safetensors');
    copyFileSync('public/models/vit-mnist.safetensors', model);
    const folder = join(await makeFolder(classFolders({ a: 4, b: 4 }, await png(), 'shapes/')), 'shapes');
    // Reading the kept runs (IndexedDB, then the tabs' locks) takes 3 s here: the default model and
    // dataset start loading only after it, and must not replace what was picked before.
    const page = await openPage('/', {
      init: () => {
        const query = navigator.locks.query.bind(navigator.locks);
        navigator.locks.query = async () => {
          await new Promise((done) => setTimeout(done, 3000));
          const held = await query();
          // Flagged a task later: after what the page does once the runs are read.
          setTimeout(() => ((window as unknown as { runsRead: boolean }).runsRead = true));
          return held;
        };
      },
    });
    await page.setInputFiles('[data-testid=model-drop-file]', model);
    await page.setInputFiles('[data-testid=data-drop-folder]', folder);
    await page.waitForFunction(() => (window as unknown as { runsRead?: boolean }).runsRead, null, { timeout: 60_000 });
    await expect
      .poll(() => page.getByTestId('model-name').textContent(), { timeout: 60_000 })
      .toBe('digits.safetensors');
    await expect.poll(() => page.getByTestId('data-name').textContent(), { timeout: 60_000 }).toBe('shapes');
    await expect.poll(() => page.getByTestId('data-classes').textContent(), { timeout: 60_000 }).toBe('2');
  });
});
