// The training worker: owns the WebGPU device and the engine, so the page's main thread only
// renders. One job on the device at a time (a run, or the attention maps of an image), in the order
// asked; messages in and out are defined in protocol.ts.
import { requestBrowserGpu } from '../gpu/device-browser.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { RunControl } from '../train/run-control.ts';
import { attentionMaps } from './attention-maps.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { classify, runTraining } from './train-run.ts';
import { errorMessage } from '../gpu/error-message.ts';

let gpu: Gpu | undefined;
let control: RunControl | undefined;
/** The device's jobs, one after another. */
let jobs: Promise<void> = Promise.resolve();

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

/** The device, created anew after a loss. */
async function device(): Promise<Gpu> {
  if (!gpu || gpu.lost) gpu = await requestBrowserGpu();
  return gpu;
}

const exclusive = (job: () => Promise<void>) => (jobs = jobs.then(job));

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === 'pause') control?.pause();
  else if (msg.type === 'resume') {
    control?.resume();
  } else if (msg.type === 'stop') control?.stop();
  else if (msg.type === 'start') {
    control?.stop();
    const mine = (control = new RunControl());
    void exclusive(async () => {
      try {
        await runTraining(await device(), msg, mine, post);
      } catch (e) {
        post({ type: 'error', runId: msg.runId, ...classify(e) });
        post({ type: 'done', runId: msg.runId, reason: 'failed' });
      } finally {
        if (control === mine) control = undefined;
      }
    });
  } else if (msg.type === 'attention') {
    void exclusive(async () => {
      try {
        post({
          type: 'attention',
          requestId: msg.requestId,
          maps: await attentionMaps(await device(), msg.pixels, msg.models),
        });
      } catch (e) {
        post({ type: 'attention', requestId: msg.requestId, error: errorMessage(e) });
      }
    });
  }
};
