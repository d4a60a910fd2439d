// npm run bench -- <suite> [--json]: serves the suite's page with Vite, runs it
// in headless Chromium (WebGPU), and prints one row per case as it finishes.
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumPath, INSTALL_CHROMIUM, launchChromium } from '../node/chromium.ts';
import { kernelTable } from '../bench/table.ts';
import type { BenchPage } from '../bench/page.ts';

const SUITES: Record<string, string> = {
  kernels: '/bench/kernels.html',
};

const USAGE = `usage: npm run bench -- <suite> [--json]
suites: ${Object.keys(SUITES).join(', ')}
  --json  one JSON object per case and line on stdout`;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function run(pagePath: string, json: boolean): Promise<void> {
  let vite: ViteDevServer | undefined;
  let browser: Browser | undefined;
  try {
    // No file watching, and TF.js pre-bundled before the page asks for it: a file saved
    // elsewhere in the tree, or a dependency found late, would otherwise reload the page mid-run.
    vite = await createServer({
      root: ROOT,
      server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
      optimizeDeps: { include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'] },
      logLevel: 'error',
    });
    await vite.listen();
    const address = vite.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('the Vite dev server did not start');
    browser = await launchChromium();
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`http://127.0.0.1:${address.port}${pagePath}`);
    await page.waitForFunction(() => window.stochcaBench || window.stochcaBenchError, null, { timeout: 120_000 });
    const error = await page.evaluate(() => window.stochcaBenchError);
    if (error) throw new Error(`the benchmark page did not start: ${error}`);
    const { adapter, cases } = await page.evaluate(() => {
      const { adapter, cases } = window.stochcaBench as BenchPage;
      return { adapter, cases };
    });
    const table = kernelTable(adapter, cases);
    if (!json) for (const line of table.header) console.log(line);
    for (const { name } of cases) {
      const r = await page.evaluate((n) => (window.stochcaBench as BenchPage).run(n), name);
      const { vendor, architecture, description } = adapter;
      console.log(json ? JSON.stringify({ ...r, vendor, architecture, description }) : table.row(r));
    }
  } finally {
    await browser?.close();
    await vite?.close();
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const suite = args.find((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--json');
  if (!suite || !(suite in SUITES) || unknown.length > 0) {
    console.error(USAGE);
    return 1;
  }
  try {
    chromiumPath();
  } catch {
    console.error(INSTALL_CHROMIUM);
    return 1;
  }
  try {
    await run(SUITES[suite], args.includes('--json'));
    return 0;
  } catch (e) {
    console.error(`bench ${suite}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

process.exitCode = await main();
