// The training worker: owns the WebGPU device and the engine, so the page's main thread only
// renders. One run at a time; messages in and out are defined in protocol.ts.
import { requestBrowserGpu } from '../gpu/device-browser.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { RunControl } from '../train/run-control.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { classify, runTraining } from './train-run.ts';

let gpu: Gpu | undefined;
let control: RunControl | undefined;

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

/** The device, created anew after a loss. */
async function device(): Promise<Gpu> {
  if (!gpu || gpu.lost) gpu = await requestBrowserGpu();
  return gpu;
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === 'pause') control?.pause();
  else if (msg.type === 'resume') {
    control?.resume();
  } else if (msg.type === 'stop') control?.stop();
  else if (msg.type === 'start') {
    control?.stop();
    const mine = (control = new RunControl());
    try {
      await runTraining(await device(), msg, mine, post);
    } catch (e) {
      post({ type: 'error', runId: msg.runId, ...classify(e) });
      post({ type: 'done', runId: msg.runId, reason: 'failed' });
    } finally {
      if (control === mine) control = undefined;
    }
  }
};
