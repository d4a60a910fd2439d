// A page of the shared headless Chromium with the engine loaded (window.stochca).
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { inject } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { envLayout } from '../../src/gpu/device-node.ts';

let browser: Promise<Browser> | undefined;

/** Opens `path` of the dev server (or, with `app`, of the production build) in a fresh context of
 *  the shared browser (or of `options.browser`); `init` runs before the page's own scripts, `listen`
 *  before the page is opened (to record its console, say). */
export async function openPage(
  path: string,
  options: { init?: () => void; listen?: (page: Page) => void; app?: boolean; browser?: Browser } = {},
): Promise<Page> {
  const context = await (options.browser ?? (await (browser ??= chromium.connect(inject('browserWs'))))).newContext();
  if (options.init) await context.addInitScript(options.init);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  options.listen?.(page);
  await page.goto(`${inject(options.app ? 'appUrl' : 'baseUrl')}${path}`);
  return page;
}

let harness: Promise<Page> | undefined;

/** The engine test harness page (one per test file), once its device is ready; STOCHCA_LAYOUT, when set, forces its kernel layout. */
export function harnessPage(): Promise<Page> {
  return (harness ??= openHarness(envLayout()));
}

/** A new engine test harness page, once its device is ready; `layout` goes to the page as `?layout=`. */
export async function openHarness(layout?: string): Promise<Page> {
  const page = await openPage(`/tests/browser/harness.html${layout ? `?layout=${layout}` : ''}`);
  await page.waitForFunction(() => window.stochca || window.stochcaError, null, { timeout: 60_000 });
  const error = await page.evaluate(() => window.stochcaError);
  if (error) {
    await page.context().close();
    throw new Error(`the engine did not start in Chromium: ${error}`);
  }
  return page;
}

/**
 * Gives every thread of `browser`'s GPU process the lowest CPU priority (nice 19); returns how many
 * threads it lowered (0 off Linux). Without a GPU, WebGPU runs on SwiftShader on the CPU's cores, and
 * Chromium raises its GPU main thread's priority (nice -8 where it may): the page's main thread then
 * waits for SwiftShader's share of the CPU, which a real GPU would not take. With the emulated GPU
 * lowered, a main-thread long task measures the page's own work. Threads created later inherit it.
 */
export async function lowerGpuProcessPriority(browser: Browser): Promise<number> {
  if (process.platform !== 'linux') return 0;
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
    processInfo: { type: string; id: number }[];
  };
  await cdp.detach();
  let lowered = 0;
  for (const gpu of processInfo.filter((p) => p.type === 'GPU')) {
    for (const tid of readdirSync(`/proc/${gpu.id}/task`)) {
      try {
        setPriority(Number(tid), 19);
        lowered++;
      } catch (e) {
        // A thread that ended since the listing.
        if ((e as { code?: string }).code !== 'ESRCH') throw e;
      }
    }
  }
  return lowered;
}
