// A page of the shared headless Chromium with the engine loaded (window.stochca).
import { inject } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';

let browser: Promise<Browser> | undefined;

/** Opens `path` of the dev server (or, with `app`, of the production build) in a fresh context of
 *  the shared browser (or of `options.browser`); `init` runs before the page's own scripts. */
export async function openPage(path: string, options: { init?: () => void; app?: boolean; browser?: Browser } = {}): Promise<Page> {
  const context = await (options.browser ?? (await (browser ??= chromium.connect(inject('browserWs'))))).newContext();
  if (options.init) await context.addInitScript(options.init);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${inject(options.app ? 'appUrl' : 'baseUrl')}${path}`);
  return page;
}

let harness: Promise<Page> | undefined;

/** The engine test harness page (one per test file), once its device is ready. */
export function harnessPage(): Promise<Page> {
  return (harness ??= (async () => {
    const page = await openPage('/tests/browser/harness.html');
    await page.waitForFunction(() => window.stochca || window.stochcaError, null, { timeout: 60_000 });
    const error = await page.evaluate(() => window.stochcaError);
    if (error) throw new Error(`the engine did not start in Chromium: ${error}`);
    return page;
  })());
}
