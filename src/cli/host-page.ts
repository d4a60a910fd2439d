// The page half of the Chromium engine host: window.stochcaHost runs the command line's
// engine commands on the page's WebGPU device.
import { requestBrowserGpu } from '../gpu/device-browser.ts';
import { gradCommand, inferCommand, TrainCommands, type GradArgs, type GradResult, type InferArgs } from './engine-commands.ts';

export interface PageHost {
  adapter: string;
  infer(a: InferArgs): Promise<Uint8Array>;
  grad(a: GradArgs): Promise<GradResult>;
  train: TrainCommands;
}

declare global {
  interface Window {
    stochcaHost?: PageHost;
    stochcaHostError?: string;
  }
}

try {
  const gpu = await requestBrowserGpu();
  window.stochcaHost = {
    adapter: `${gpu.adapter.vendor} ${gpu.adapter.architecture} (Chromium)`.trim(),
    infer: (a) => inferCommand(gpu, a),
    grad: (a) => gradCommand(gpu, a),
    train: new TrainCommands(gpu),
  };
} catch (e) {
  window.stochcaHostError = e instanceof Error ? e.message : String(e);
}
