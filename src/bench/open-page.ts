// A benchmark page (bench/*.html) driven from Node: the Vite server that serves the pages,
// and one page opened in headless Chromium once its device and cases are ready.
import type { Browser, Page } from 'playwright-core';
import type { AdapterFields, BenchPage, CaseInfo } from './page.ts';
import type { TrainOverrides } from './train-models.ts';
import { envLayout } from '../gpu/device-node.ts';
import { startDevServer, type DevServer } from '../node/dev-server.ts';

/** The dev server with TF.js pre-bundled before a page asks for it, so a late discovery cannot reload the page. */
export function startBenchServer(): Promise<DevServer> {
  return startDevServer({
    prebundle: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-core/dist/register_all_gradients',
      '@tensorflow/tfjs-backend-webgpu',
    ],
  });
}

/** The page's query: --model, --batch, --steps, and STOCHCA_LAYOUT (a page cannot read the environment). */
export function pageQuery(models: string[] | undefined, overrides: TrainOverrides): URLSearchParams {
  const query = new URLSearchParams();
  if (models) query.set('models', models.join(','));
  for (const [key, n] of Object.entries(overrides)) if (n !== undefined) query.set(key, String(n));
  const forced = envLayout();
  if (forced) query.set('layout', forced);
  return query;
}

export interface OpenBenchPage<R extends CaseInfo> {
  adapter: AdapterFields;
  cases: CaseInfo[];
  /** Measures one case in the page. */
  run(name: string): Promise<R>;
  close(): Promise<void>;
}

export async function openBenchPage<R extends CaseInfo>(browser: Browser, url: string): Promise<OpenBenchPage<R>> {
  const page: Page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  // An error while the page's modules load leaves it with neither a suite nor an error to offer.
  const failed = new Promise<never>((_, reject) =>
    page.once('pageerror', (e) => reject(new Error(`the benchmark page failed: ${e.message}`))),
  );
  failed.catch(() => undefined);
  try {
    await page.goto(url);
    await Promise.race([
      page.waitForFunction(() => window.stochcaBench || window.stochcaBenchError, null, { timeout: 120_000 }),
      failed,
    ]);
    const error = await page.evaluate(() => window.stochcaBenchError);
    if (error) throw new Error(`the benchmark page did not start: ${error}`);
    const { adapter, cases } = await page.evaluate(() => {
      const { adapter, cases } = window.stochcaBench as BenchPage;
      return { adapter, cases };
    });
    return {
      adapter,
      cases,
      run: (name) => page.evaluate((n) => (window.stochcaBench as BenchPage).run(n), name) as Promise<R>,
      close: () => page.close(),
    };
  } catch (e) {
    await page.close();
    throw e;
  }
}
