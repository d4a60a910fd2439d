// The project's pages (engine host, benchmarks, test pages) served by Vite on a free
// loopback port. No file watching: an edit made during a run must not reload a page mid-run.
// The playground itself can also be served as a production build, as `npm start` serves it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createServer, preview } from 'vite';

export interface DevServer {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `prebundle`: dependencies to bundle at start, so a late discovery cannot reload the page. */
export async function startDevServer(
  options: { prebundle?: string[]; logLevel?: 'error' | 'silent' } = {},
): Promise<DevServer> {
  const vite = await createServer({
    root: ROOT,
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
    optimizeDeps: options.prebundle ? { include: options.prebundle } : undefined,
    // Its own dependency cache: Vite rebuilds a shared one whenever the pre-bundled list differs,
    // replacing the files another running server's pages are loading.
    cacheDir: options.prebundle ? join(ROOT, 'node_modules/.vite/prebundled') : undefined,
    logLevel: options.logLevel ?? 'error',
    clearScreen: false,
  });
  try {
    await vite.listen();
    const address = vite.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('the Vite dev server did not start');
    return { url: `http://127.0.0.1:${address.port}`, close: () => vite.close() };
  } catch (e) {
    await vite.close();
    throw e;
  }
}

/** A production build of one of the project's pages in a temporary folder, served by `vite preview`:
 *  the playground (index.html) as `npm start` builds it, or the command line's engine host
 *  (cli/host.html, at /cli/host.html). The build runs in its own process with NODE_ENV=production:
 *  Vite takes NODE_ENV from the environment, and under a test runner (NODE_ENV=test) it would bundle
 *  React's development build. */
export async function startPreviewServer(page = 'index.html'): Promise<DevServer> {
  const outDir = mkdtempSync(join(tmpdir(), 'stochca-build-'));
  const remove = () => rmSync(outDir, { recursive: true, force: true });
  try {
    // `vite build` with the page as its input, which Vite's command line has no flag for.
    const script = `const { build } = await import('vite');
      const [outDir, input] = process.argv.slice(1);
      await build({ logLevel: 'error', build: { outDir, emptyOutDir: true, rolldownOptions: { input } } });`;
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, outDir, page], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const server = await preview({
      root: ROOT,
      logLevel: 'error',
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1' },
    });
    const address = server.httpServer.address();
    if (!address || typeof address === 'string') throw new Error('the Vite preview server did not start');
    return { url: `http://127.0.0.1:${address.port}`, close: async () => (await server.close(), remove()) };
  } catch (e) {
    remove();
    throw e;
  }
}
