// What a benchmark page (bench/*.html) runs: one suite on the page's device, offered to the
// command line on window (page.ts); an error that stops it is offered instead.
import { requestBrowserGpu, urlLayout } from '../gpu/device-browser.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { BenchPage } from './page.ts';

export async function serveSuite(suite: (gpu: Gpu, query: URLSearchParams) => Promise<BenchPage>): Promise<void> {
  try {
    window.stochcaBench = await suite(
      await requestBrowserGpu({ layout: urlLayout() }),
      new URLSearchParams(location.search),
    );
  } catch (e) {
    window.stochcaBenchError = String(e);
  }
}
