// One Vite dev server and one headless Chromium for the whole test run; each
// test file opens its own page (tests/helpers/browser.ts). The `stochca` commands the tests run
// load one production build of the engine host page (STOCHCA_HOST_PAGE, tests/helpers/cli.ts)
// rather than each starting a dev server that compiles the engine's modules again.
import type { TestProject } from 'vitest/node';
import { launchChromiumServer } from '../src/node/chromium.ts';
import { startDevServer, startPreviewServer } from '../src/node/dev-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    /** The playground as `npm start` serves it: a production build. */
    appUrl: string;
    browserWs: string;
    /** A build of cli/host.html, for `stochca`'s Chromium host. */
    hostPage: string;
  }
}

export default async function setup(project: TestProject) {
  const [server, app, host, browser] = await Promise.all([
    startDevServer(),
    startPreviewServer(),
    startPreviewServer('cli/host.html'),
    launchChromiumServer(),
  ]);
  project.provide('baseUrl', server.url);
  project.provide('appUrl', app.url);
  project.provide('browserWs', browser.wsEndpoint());
  project.provide('hostPage', `${host.url}/cli/host.html`);
  return async () => {
    await browser.close();
    await host.close();
    await app.close();
    await server.close();
  };
}
