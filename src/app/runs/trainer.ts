// The page's side of the training worker: starts queued runs one after another with the model
// and dataset in the store, and folds the worker's messages into the store. Step records are
// gathered and applied a few times a second, so the main thread renders, not the stream.
import type { EvalPoint, TrainPoint } from '../../train/records.ts';
import type { FromWorker, ToWorker } from '../../worker/protocol.ts';
import { useStore } from '../store.ts';
import { savePersisted } from './persist.ts';
import type { RunRecord } from './run-record.ts';

const FLUSH_MS = 500;

let worker: Worker | undefined;
let active: string | undefined;
let pending = new Map<string, { train: TrainPoint[]; val: EvalPoint[]; patch: Partial<RunRecord> }>();
let flushTimer: ReturnType<typeof setTimeout> | undefined;

function theWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('../../worker/train-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
    worker.onerror = (e) => {
      const id = active;
      useStore.getState().notify(`The training worker failed: ${e.message || 'unknown error'}`);
      worker = undefined;
      if (id) finish(id, { status: 'failed', error: { kind: 'other', message: e.message || 'the training worker failed' } });
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
  if (active === id) active = undefined;
  void savePersisted();
  startNext();
}

function onMessage(m: FromWorker): void {
  const store = useStore.getState();
  switch (m.type) {
    case 'info':
      store.patchRun(m.runId, { info: m.info });
      break;
    case 'decode':
      bucket(m.runId).patch.decode = { decoded: m.decoded, total: m.total, ratePerSec: m.ratePerSec, secondsLeft: m.secondsLeft };
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
      void savePersisted();
      break;
    case 'paused':
      store.patchRun(m.runId, { status: 'paused' });
      break;
    case 'error':
      if (m.runId) store.patchRun(m.runId, { error: { kind: m.kind, message: m.message } });
      else store.notify(m.message);
      break;
    case 'done': {
      const run = store.runs.find((r) => r.id === m.runId);
      const status = m.reason === 'failed' || run?.error ? 'failed' : m.reason;
      const info = run?.info && m.skipped?.length ? { ...run.info, leftOut: [...run.info.leftOut, ...m.skipped] } : run?.info;
      finish(m.runId, { status, confusion: m.confusion, mistakes: m.mistakes, info, ...(m.test ? { test: m.test } : {}) });
      break;
    }
  }
}

/** The best validation evaluation up to `step`, as the driver tracks it (the first of equals). */
function bestBefore(val: EvalPoint[], step: number): EvalPoint | undefined {
  return val.filter((p) => p.step <= step).reduce<EvalPoint | undefined>((a, e) => (!a || e.accuracy > a.accuracy ? e : a), undefined);
}

/** Starts the next queued run when the worker is free. */
export function startNext(resumeFrom?: RunRecord): void {
  if (active) return;
  const store = useStore.getState();
  const id = resumeFrom?.id ?? store.dequeue();
  if (!id) return;
  const run = store.runs.find((r) => r.id === id);
  const { model, data } = store;
  if (!run) return startNext();
  if (!model.bytes || !data.source) {
    store.patchRun(id, { status: 'failed', error: { kind: 'other', message: 'the model or the dataset is not loaded' } });
    return startNext();
  }
  active = id;
  store.patchRun(id, { status: 'running', error: undefined });
  send({
    type: 'start', runId: id, model: model.bytes, data: data.source, settings: run.settings,
    resume: resumeFrom?.checkpointStep === undefined ? undefined : {
      step: resumeFrom.checkpointStep,
      best: bestBefore(resumeFrom.val, resumeFrom.checkpointStep),
      seconds: resumeFrom.train.find((p) => p.step === resumeFrom.checkpointStep)?.seconds ?? 0,
    },
  });
}

export const activeRun = () => active;

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
  useStore.getState().setRuns(useStore.getState().runs.map((r) => (r.status === 'queued' ? { ...r, status: 'stopped' } : r)));
  useStore.setState({ queue: [] });
}

/** Continues a stopped, failed or interrupted run from its last checkpoint; the curves after it are dropped. */
export function resumeFromCheckpoint(run: RunRecord): void {
  if (active || run.checkpointStep === undefined) return;
  const keep = run.checkpointStep;
  useStore.getState().patchRun(run.id, {
    train: run.train.filter((p) => p.step <= keep), val: run.val.filter((p) => p.step <= keep), confusion: undefined, mistakes: undefined, test: undefined,
  });
  startNext({ ...run, checkpointStep: keep });
}
