// One training run inside the worker: the run driver (src/train/run.ts) on this worker's device,
// with the browser's decode workers, checkpoints in OPFS and progress posted to the page. Every
// failure is posted with its kind, and the run keeps what it has (curves, last checkpoint).
import { CheckpointError } from '../checkpoint/safetensors.ts';
import { treeOfSource } from '../data/dataset-source.ts';
import { BrowserDecoder } from '../data/decode-browser.ts';
import { DatasetError } from '../data/entries.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { DeviceLostError, GpuError } from '../gpu/errors.ts';
import { directEngine } from '../train/engine-api.ts';
import { loadCheckpointState, opfsRunFiles } from '../train/opfs-store.ts';
import type { RunControl } from '../train/run-control.ts';
import { DivergedError, runExperiment, type RunFiles } from '../train/run.ts';
import type { ErrorKind, FromWorker, ToWorker } from './protocol.ts';
import { errorMessage } from '../gpu/error-message.ts';

type Start = Extract<ToWorker, { type: 'start' }>;

/** What went wrong, for the person: the kind decides the advice the page shows. */
export function classify(e: unknown): { kind: ErrorKind; message: string } {
  const message = errorMessage(e);
  if (e instanceof DeviceLostError) return { kind: 'device-lost', message };
  if (e instanceof GpuError && e.kind === 'out-of-memory') return { kind: 'out-of-memory', message };
  if (e instanceof RangeError && /does not fit/.test(message)) return { kind: 'out-of-memory', message };
  if (e instanceof DivergedError) return { kind: 'nan', message };
  if (e instanceof DatasetError) return { kind: 'data', message };
  if (e instanceof CheckpointError) return { kind: 'model', message };
  return { kind: 'other', message };
}

const isQuota = (e: unknown) => e instanceof DOMException && e.name === 'QuotaExceededError';

/** A full storage quota costs the run its new checkpoints, not the run: it goes on and says so. */
function keepGoingWhenFull(files: RunFiles, warn: (message: string) => void): RunFiles {
  const full = (what: string, step: number) =>
    warn(
      `This browser's storage for the page is full: the ${what} at step ${step} was not saved, and the run goes on. ` +
        'Delete old runs or free disk space to keep its checkpoints.',
    );
  return {
    async saveCheckpoint(step, model, state) {
      try {
        return await files.saveCheckpoint(step, model, state);
      } catch (e) {
        if (!isQuota(e)) throw e;
        full('checkpoint', step);
        return false;
      }
    },
    async saveBest(step, model) {
      try {
        await files.saveBest(step, model);
      } catch (e) {
        if (!isQuota(e)) throw e;
        full('best-validation model', step);
      }
    },
    loadBest: files.loadBest,
  };
}

export async function runTraining(
  gpu: Gpu,
  msg: Start,
  control: RunControl,
  post: (m: FromWorker) => void,
): Promise<void> {
  const { runId } = msg;
  const decoder = new BrowserDecoder();
  try {
    let resume;
    if (msg.resume) {
      const saved = await loadCheckpointState(runId);
      if (saved.step !== msg.resume.step) {
        throw new Error(
          `the run's checkpoint holds step ${saved.step}, not step ${msg.resume.step}; it cannot be resumed from there`,
        );
      }
      resume = { ...msg.resume, state: saved.state };
    }
    const r = await runExperiment({
      engine: directEngine(gpu),
      model: { model: new Uint8Array(msg.model) },
      tree: await treeOfSource(msg.data),
      settings: msg.settings,
      decoder: (cacheSize) => (entry) => decoder.decode(entry, cacheSize),
      files: keepGoingWhenFull(opfsRunFiles(runId), (message) => post({ type: 'warning', runId, message })),
      control,
      resume,
      stopAfter: msg.stopAfter,
      memoryBudget: msg.memoryBudget,
      report: {
        info: (info) => post({ type: 'info', runId, info }),
        step: (point) => post({ type: 'step', runId, point }),
        eval: (point) => post({ type: 'eval', runId, point }),
        checkpoint: (step) => post({ type: 'checkpoint', runId, step }),
        decode: (d) => post({ type: 'decode', runId, ...d }),
        paused: (step) => post({ type: 'paused', runId, step }),
      },
    });
    post({
      type: 'done',
      runId,
      reason: r.reason,
      confusion: r.confusion,
      predictions: r.predictions,
      test: r.test,
      skipped: r.skipped,
    });
  } catch (e) {
    post({ type: 'error', runId, ...classify(e) });
    post({ type: 'done', runId, reason: 'failed' });
  } finally {
    decoder.close();
  }
}
