// The page half of the Chromium engine host: window.stochcaHost runs the command line's
// engine commands on the page's WebGPU device (`?layout=` forces its kernel layout).
import { requestBrowserGpu, urlLayout } from '../gpu/device-browser.ts';
import { hostApi, type HostApi } from './engine-commands.ts';
import { errorMessage } from '../gpu/error-message.ts';

declare global {
  interface Window {
    stochcaHost?: { adapter: string; api: HostApi };
    stochcaHostError?: string;
  }
}

try {
  const gpu = await requestBrowserGpu({ layout: urlLayout() });
  window.stochcaHost = {
    adapter: `${gpu.adapter.vendor} ${gpu.adapter.architecture} (Chromium)`.trim(),
    api: hostApi(gpu),
  };
} catch (e) {
  window.stochcaHostError = errorMessage(e);
}
