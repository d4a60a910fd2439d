// One Vite dev server and one headless Chromium for the whole test run; each
// test file opens its own page (tests/helpers/browser.ts).
import type { TestProject } from 'vitest/node';
import { createServer } from 'vite';
import { launchChromiumServer } from '../src/node/chromium.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    browserWs: string;
  }
}

export default async function setup(project: TestProject) {
  // No file watching: an edit during a run must not reload the pages under test.
  const vite = await createServer({ server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'error' });
  await vite.listen();
  const address = vite.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('the Vite dev server did not start');
  const browser = await launchChromiumServer();
  project.provide('baseUrl', `http://127.0.0.1:${address.port}`);
  project.provide('browserWs', browser.wsEndpoint());
  return async () => {
    await browser.close();
    await vite.close();
  };
}
