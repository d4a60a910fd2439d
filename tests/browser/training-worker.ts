// The page's training worker (src/worker/train-worker.ts) driven from a test: window.runInWorker posts
// one start message with the built-in model and a dataset zip and collects what the worker reports
// until the run is done (step and validation records, the end), in a worker of its own each time.
import type { RunSettings } from '../../src/train/settings.ts';
import type { FromWorker, ToWorker } from '../../src/worker/protocol.ts';

type Start = Extract<ToWorker, { type: 'start' }>;

export interface WorkerRun {
  steps: { step: number; loss: number; mask: string }[];
  evals: { step: number; accuracy: number; loss: number }[];
  done: { reason: string; test?: unknown };
  errors: string[];
  counts?: { train: number; val: number; test: number };
}

declare global {
  interface Window {
    /** `zip`: the dataset's bytes (base64). */
    runInWorker(o: {
      runId: string;
      settings: RunSettings;
      zip: string;
      resume?: Start['resume'];
      stopAfter?: number;
    }): Promise<WorkerRun>;
  }
}

const bytes = async (path: string) => {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r;
};

window.runInWorker = async (o) => {
  const model = await (await bytes('/models/vit-fmnist.safetensors')).arrayBuffer();
  const zip = new Blob([Uint8Array.from(atob(o.zip), (c) => c.charCodeAt(0))]);
  const worker = new Worker(new URL('../../src/worker/train-worker.ts', import.meta.url), { type: 'module' });
  const run: WorkerRun = { steps: [], evals: [], done: { reason: '' }, errors: [] };
  return new Promise<WorkerRun>((resolve) => {
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'info') run.counts = m.info.counts;
      else if (m.type === 'step') run.steps.push({ step: m.point.step, loss: m.point.loss, mask: m.point.mask });
      else if (m.type === 'eval')
        run.evals.push({ step: m.point.step, accuracy: m.point.accuracy, loss: m.point.loss });
      else if (m.type === 'error') run.errors.push(m.message);
      else if (m.type === 'done') {
        run.done = { reason: m.reason, test: m.test };
        worker.terminate();
        resolve(run);
      }
    };
    const start: Start = {
      type: 'start',
      runId: o.runId,
      model,
      data: { kind: 'zip', name: 'data.zip', blob: zip },
      settings: o.settings,
      resume: o.resume,
      stopAfter: o.stopAfter,
    };
    worker.postMessage(start);
  });
};
