// One Vite dev server and one headless Chromium for the whole test run; each
// test file opens its own page (tests/helpers/browser.ts).
import type { TestProject } from 'vitest/node';
import { launchChromiumServer } from '../src/node/chromium.ts';
import { startDevServer, startPreviewServer } from '../src/node/dev-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    /** The playground as `npm start` serves it: a production build. */
    appUrl: string;
    browserWs: string;
  }
}

export default async function setup(project: TestProject) {
  const [server, app, browser] = await Promise.all([startDevServer(), startPreviewServer(), launchChromiumServer()]);
  project.provide('baseUrl', server.url);
  project.provide('appUrl', app.url);
  project.provide('browserWs', browser.wsEndpoint());
  return async () => {
    await browser.close();
    await app.close();
    await server.close();
  };
}
