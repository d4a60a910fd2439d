// The page half of the Chromium engine host: window.stochcaHost runs the command line's
// engine commands on the page's WebGPU device (`?layout=` forces its kernel layout), large arrays
// arriving and leaving in pieces (host-transfer.ts).
import { requestBrowserGpu, urlLayout } from '../gpu/device-browser.ts';
import { hostApi, type HostApi } from './engine-commands.ts';
import { errorMessage } from '../gpu/error-message.ts';
import { ParkedBytes } from './host-transfer.ts';

declare global {
  interface Window {
    stochcaHost?: {
      adapter: string;
      parking: ParkedBytes;
      /** Runs `api[name]` on `args` as sent by the Node half; its result as the Node half receives it. */
      call(name: keyof HostApi, args: unknown[]): Promise<unknown>;
    };
    stochcaHostError?: string;
  }
}

try {
  const gpu = await requestBrowserGpu({ layout: urlLayout() });
  const api = hostApi(gpu);
  const parking = new ParkedBytes();
  window.stochcaHost = {
    adapter: `${gpu.adapter.vendor} ${gpu.adapter.architecture} (Chromium)`.trim(),
    parking,
    call: async (name, args) =>
      parking.park(await (api[name] as (...a: unknown[]) => unknown)(...(await parking.unpark(args)))),
  };
} catch (e) {
  window.stochcaHostError = errorMessage(e);
}
