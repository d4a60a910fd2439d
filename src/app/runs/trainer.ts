// The page's side of the training worker: starts queued runs one after another, each on the model
// and dataset it was queued with (or, resumed after a reload, on the ones loaded now when they are the
// ones it names), and folds the worker's messages into the store. While a run trains, this tab holds
// its Web Lock, so no other tab resumes it too. Step records are gathered and applied a few times a
// second, so the main thread renders, not the stream.
import type { DatasetSource } from '../../data/dataset-source.ts';
import type { EvalPoint, TrainPoint } from '../../train/records.ts';
import type { AttentionMaps, AttentionModel, FromWorker, ToWorker } from '../../worker/protocol.ts';
import { describeData, describeModel, sameData } from '../sources/refs.ts';
import { useStore } from '../store.ts';
import { runLock, saveRuns } from './persist.ts';
import type { RunRecord } from './run-record.ts';

/** What a run trains on: the starting model's bytes and the dataset. */
export interface RunInputs {
  model: ArrayBuffer;
  data: DatasetSource;
}

const budgetBytes = () => {
  const mib = useStore.getState().memoryBudgetMiB;
  return mib === undefined ? undefined : mib * 2 ** 20;
};

const FLUSH_MS = 500;

let worker: Worker | undefined;
let active: string | undefined;
/** Releases the active run's Web Lock. */
let unlock: (() => void) | undefined;
/** The inputs of runs queued or trained in this tab. */
const inputs = new Map<string, RunInputs>();
let pending = new Map<string, { train: TrainPoint[]; val: EvalPoint[]; patch: Partial<RunRecord> }>();
let flushTimer: ReturnType<typeof setTimeout> | undefined;
/** Attention requests sent to the worker and not answered yet, by request id. */
const asked = new Map<number, { resolve(maps: AttentionMaps[]): void; reject(e: Error): void }>();
let nextRequest = 0;

function theWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('../../worker/train-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
    worker.onerror = (e) => {
      const id = active;
      useStore.getState().notify(`The training worker failed: ${e.message || 'unknown error'}`);
      worker = undefined;
      for (const a of asked.values()) a.reject(new Error('the training worker failed'));
      asked.clear();
      if (id)
        finish(id, { status: 'failed', error: { kind: 'other', message: e.message || 'the training worker failed' } });
    };
  }
  return worker;
}

const send = (m: ToWorker) => theWorker().postMessage(m);

function bucket(id: string) {
  let b = pending.get(id);
  if (!b) pending.set(id, (b = { train: [], val: [], patch: {} }));
  flushTimer ??= setTimeout(flush, FLUSH_MS);
  return b;
}

function flush(): void {
  flushTimer = undefined;
  const store = useStore.getState();
  for (const [id, b] of pending) store.appendPoints(id, b.train, b.val, b.patch);
  pending = new Map();
}

function finish(id: string, patch: Partial<RunRecord>): void {
  flush();
  useStore.getState().patchRun(id, { ...patch, decode: undefined });
  if (active === id) {
    active = undefined;
    unlock?.();
    unlock = undefined;
  }
  void saveRuns([id]);
  void startNext();
}

function onMessage(m: FromWorker): void {
  const store = useStore.getState();
  switch (m.type) {
    case 'info':
      store.patchRun(m.runId, { info: m.info });
      break;
    case 'decode':
      bucket(m.runId).patch.decode = {
        decoded: m.decoded,
        total: m.total,
        ratePerSec: m.ratePerSec,
        secondsLeft: m.secondsLeft,
      };
      break;
    case 'step':
      bucket(m.runId).train.push(m.point);
      break;
    case 'eval':
      bucket(m.runId).val.push(m.point);
      break;
    case 'checkpoint':
      flush();
      store.patchRun(m.runId, { checkpointStep: m.step });
      void saveRuns([m.runId]);
      break;
    case 'paused':
      store.patchRun(m.runId, { status: 'paused' });
      break;
    case 'warning':
      store.patchRun(m.runId, { warning: m.message });
      break;
    case 'error':
      if (m.runId) store.patchRun(m.runId, { error: { kind: m.kind, message: m.message } });
      else store.notify(m.message);
      break;
    case 'done': {
      const run = store.runs.find((r) => r.id === m.runId);
      const status = m.reason === 'failed' || run?.error ? 'failed' : m.reason;
      const info =
        run?.info && m.skipped?.length ? { ...run.info, leftOut: [...run.info.leftOut, ...m.skipped] } : run?.info;
      finish(m.runId, {
        status,
        confusion: m.confusion,
        predictions: m.predictions,
        info,
        ...(m.test ? { test: m.test } : {}),
      });
      break;
    }
    case 'attention': {
      const a = asked.get(m.requestId);
      asked.delete(m.requestId);
      if ('error' in m) a?.reject(new Error(m.error));
      else a?.resolve(m.maps);
      break;
    }
  }
}

/** The best validation evaluation up to `step`, as the driver tracks it (the first of equals). */
function bestBefore(val: EvalPoint[], step: number): EvalPoint | undefined {
  return val
    .filter((p) => p.step <= step)
    .reduce<EvalPoint | undefined>((a, e) => (!a || e.accuracy > a.accuracy ? e : a), undefined);
}

/** The bytes of the model a run starts from: the ones it was queued with in this tab, or the model
 *  loaded now when it is the one the run names. */
export function startingModel(run: RunRecord): ArrayBuffer | undefined {
  const kept = inputs.get(run.id);
  if (kept) return kept.model;
  const { model } = useStore.getState();
  const same =
    model.status === 'ready' &&
    (run.modelSha256 ? model.sha256 === run.modelSha256 : JSON.stringify(model.ref) === JSON.stringify(run.model));
  return same ? model.bytes : undefined;
}

/** The inputs a run names: the ones it was queued with in this tab, or the model and dataset loaded
 *  now when they are the ones it names; otherwise what to load, in words. */
function inputsOf(run: RunRecord): RunInputs | string {
  const kept = inputs.get(run.id);
  if (kept) return kept;
  const { data } = useStore.getState();
  const model = startingModel(run);
  if (model && data.status === 'ready' && data.source && sameData(data.ref, run.data))
    return { model, data: data.source };
  return `${run.label} trains on ${describeModel(run.model)} and ${describeData(run.data)}: load ${model ? 'that dataset' : 'that model'} first, then resume it.`;
}

/** Holds the run's Web Lock until `unlock` is called; false when another tab holds it. */
function lockRun(id: string): Promise<boolean> {
  if (!navigator.locks) return Promise.resolve(true);
  return new Promise((granted) => {
    void navigator.locks.request(runLock(id), { ifAvailable: true }, (lock) => {
      granted(lock !== null);
      return lock ? new Promise<void>((release) => (unlock = release)) : undefined;
    });
  });
}

/** Queues runs with what they train on, and starts the first when the worker is free. */
export function queueRuns(ids: string[], with_: RunInputs): void {
  for (const id of ids) inputs.set(id, with_);
  void startNext();
}

/** Starts the next queued run when the worker is free. */
async function startNext(resumeFrom?: RunRecord): Promise<void> {
  if (active) return;
  const store = useStore.getState();
  const id = resumeFrom?.id ?? store.dequeue();
  if (!id) return;
  const run = store.runs.find((r) => r.id === id);
  if (!run) return startNext();
  active = id;
  const given = inputsOf(run);
  if (typeof given === 'string' || !(await lockRun(id))) {
    active = undefined;
    const message = typeof given === 'string' ? given : `${run.label} is training in another tab of this browser.`;
    if (resumeFrom) store.notify(message);
    else {
      store.patchRun(id, { status: 'failed', error: { kind: 'other', message } });
      void saveRuns([id]);
    }
    return startNext();
  }
  inputs.set(id, given);
  store.patchRun(id, { status: 'running', error: undefined, warning: undefined });
  if (resumeFrom?.checkpointStep !== undefined) {
    const keep = resumeFrom.checkpointStep;
    store.patchRun(id, {
      train: run.train.filter((p) => p.step <= keep),
      val: run.val.filter((p) => p.step <= keep),
      confusion: undefined,
      predictions: undefined,
      test: undefined,
    });
  }
  send({
    type: 'start',
    runId: id,
    model: given.model,
    data: given.data,
    settings: run.settings,
    memoryBudget: budgetBytes(),
    resume:
      resumeFrom?.checkpointStep === undefined
        ? undefined
        : {
            step: resumeFrom.checkpointStep,
            best: bestBefore(resumeFrom.val, resumeFrom.checkpointStep),
            seconds: resumeFrom.train.find((p) => p.step === resumeFrom.checkpointStep)?.seconds ?? 0,
          },
  });
}

export const activeRun = () => active;

/** The class token's attention maps of one image (RGBA [S, S, 4]) in each model, computed by the
 *  worker once its run in progress, if any, has ended. */
export function requestAttention(pixels: Uint8Array, models: AttentionModel[]): Promise<AttentionMaps[]> {
  const requestId = nextRequest++;
  return new Promise((resolve, reject) => {
    asked.set(requestId, { resolve, reject });
    send({ type: 'attention', requestId, pixels, models });
  });
}

export function pause(): void {
  send({ type: 'pause' });
}

export function resume(): void {
  if (active) {
    send({ type: 'resume' });
    useStore.getState().patchRun(active, { status: 'running' });
  }
}

export function stop(): void {
  send({ type: 'stop' });
  const { runs, queue } = useStore.getState();
  useStore.getState().setRuns(runs.map((r) => (r.status === 'queued' ? { ...r, status: 'stopped' } : r)));
  useStore.setState({ queue: [] });
  void saveRuns(queue);
}

/** Continues a stopped, failed or interrupted run from its last checkpoint; the curves after it are dropped. */
export function resumeFromCheckpoint(run: RunRecord): void {
  if (active || run.checkpointStep === undefined) return;
  void startNext(run);
}
