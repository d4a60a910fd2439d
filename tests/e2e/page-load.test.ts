// Loading a page logs no error in the browser's console: the playground (from source and as `npm start`
// builds it) once it has found its adapter and loaded its default data, and no other page the tests and
// commands open asks for a file that is not there (a page without the favicon link asks for
// /favicon.ico). A browser of its own: Chromium asks a server for /favicon.ico once per run, so in the
// shared browser another file's page would have had the 404 already.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../src/node/chromium.ts';
import { openPage } from '../helpers/browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser.close());

/** The console's errors and the responses of 400 or more, from opening `path` until `ready` and the network is idle. */
async function loadErrors(path: string, ready: (page: Page) => Promise<unknown>, app = false): Promise<string[]> {
  const errors: string[] = [];
  const page = await openPage(path, {
    browser,
    app,
    listen: (p) => {
      p.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
      });
      p.on('response', (r) => {
        if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
      });
    },
  });
  await ready(page);
  await page.waitForLoadState('networkidle');
  await page.context().close();
  return errors;
}

const playgroundReady = async (page: Page) => {
  await expect.poll(() => page.getByTestId('adapter-name').textContent(), { timeout: 60_000 }).toMatch(/\S/);
  await expect.poll(() => page.getByTestId('data-classes').textContent(), { timeout: 60_000 }).toMatch(/\d/);
};

describe('a page load', () => {
  it('logs no console error on the playground, as built and from source', async () => {
    expect(await loadErrors('/', playgroundReady, true)).toEqual([]);
    expect(await loadErrors('/', playgroundReady)).toEqual([]);
  });

  it('asks for no missing file on the engine host, benchmark and test pages', async () => {
    const pages = [
      '/cli/host.html',
      '/bench/kernels.html',
      '/bench/train.html',
      '/bench/data.html',
      '/tests/browser/harness.html',
      '/tests/browser/data.html',
      '/tests/browser/worker.html',
      '/tests/browser/training-worker.html',
    ];
    for (const path of pages) {
      const missing = (await loadErrors(path, () => Promise.resolve())).filter((e) => /\b404\b/.test(e));
      expect(missing, path).toEqual([]);
    }
  });
});
