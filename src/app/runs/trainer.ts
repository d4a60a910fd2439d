// The page's side of the training worker: starts queued runs one after another, each on the model
// and dataset it was queued with (or, resumed after a reload, on the ones loaded now when they are the
// ones it names), and folds the worker's messages into the store, where the runs' status lives. While
// a run waits in this tab's queue or trains, this tab holds its Web Lock, so no other tab queues or
// resumes it too. Step records are gathered and applied a few times a second, so the main thread
// renders, not the stream. One Trainer is made when the page starts (main.tsx) and reaches the panels
// through TrainerContext.
import type { DatasetSource } from '../../data/dataset-source.ts';
import type { EvalPoint, TrainPoint } from '../../train/records.ts';
import type { RunSettings } from '../../train/settings.ts';
import type { AttentionMaps, AttentionModel, FromWorker, ToWorker } from '../../worker/protocol.ts';
import { describeData, describeModel, sameData } from '../sources/refs.ts';
import type { AppState, AppStore, ModelState } from '../store.ts';
import { activeRun, runById } from '../store/selectors.ts';
import { compareSettings, newRuns, settingsOf } from './new-runs.ts';
import { runLock } from './persist.ts';
import type { RunRecord } from './run-record.ts';
import { errorMessage } from '../../gpu/error-message.ts';
import { bestEvaluation } from '../../train/best.ts';

/** What a run trains on: the starting model's bytes and the dataset. */
export interface RunInputs {
  model: ArrayBuffer;
  data: DatasetSource;
}

/** The worker as the trainer uses it (a test gives its own). */
export type TrainingWorker = Pick<Worker, 'postMessage' | 'onmessage' | 'onerror'>;

const FLUSH_MS = 500;

const startWorker = (): TrainingWorker =>
  new Worker(new URL('../../worker/train-worker.ts', import.meta.url), { type: 'module' });

/** Holds `id`'s Web Lock until the returned function is called; undefined when another tab holds it. */
function lockRun(id: string): Promise<(() => void) | undefined> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return Promise.resolve(() => undefined);
  return new Promise((granted) => {
    void locks.request(runLock(id), { ifAvailable: true }, (lock) => {
      if (!lock) return granted(undefined);
      return new Promise<void>((release) => granted(release));
    });
  });
}

export class Trainer {
  private worker?: TrainingWorker;
  /** The Web Locks of runs this tab queues or trains, each the function that releases it (undefined:
   *  another tab holds it). */
  private readonly locks = new Map<string, Promise<(() => void) | undefined>>();
  /** The inputs of runs queued or trained in this tab. */
  private readonly inputs = new Map<string, RunInputs>();
  /** Curve points and changes of runs, applied to the store every FLUSH_MS. */
  private pending = new Map<string, { train: TrainPoint[]; val: EvalPoint[]; patch: Partial<RunRecord> }>();
  private flushTimer?: ReturnType<typeof setTimeout>;
  /** Attention requests sent to the worker and not answered yet, by request id. */
  private readonly asked = new Map<number, { resolve(maps: AttentionMaps[]): void; reject(e: Error): void }>();
  private nextRequest = 0;
  /** Starts one after another: a start ends once its run is in progress, and the next then waits. */
  private starts = Promise.resolve();

  constructor(
    private readonly store: AppStore,
    private readonly makeWorker: () => TrainingWorker = startWorker,
  ) {
    // Every queued run, restored ones included, is this tab's from the moment it is queued.
    store.subscribe((s, prev) => {
      if (s.queue !== prev.queue) for (const id of s.queue) void this.lock(id);
    });
  }

  /** The store's state now (its actions never change). */
  private get state(): AppState {
    return this.store.getState();
  }

  /** Train: a run of the experiment as set. */
  train(): void {
    this.queue([settingsOf(this.state.experiment)]);
  }

  /** StochCA and fine-tuning (and the linear probe when it is the method set) on each of the experiment's
   *  seeds, as one comparison (compareSettings). */
  compare(): void {
    this.queue(compareSettings(this.state.experiment), crypto.randomUUID());
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    const active = activeRun(this.state);
    if (!active) return;
    this.send({ type: 'resume' });
    this.state.patchRun(active.id, { status: 'running' });
  }

  /** Stops the run in progress and every queued one. */
  stop(): void {
    this.send({ type: 'stop' });
    const queued = this.state.queue;
    this.state.stopQueued();
    for (const id of queued) this.unlock(id);
  }

  /** Continues a stopped, failed or interrupted run from its last checkpoint; the curves after it are dropped. */
  resumeFromCheckpoint(run: RunRecord): void {
    if (activeRun(this.state) || run.checkpointStep === undefined) return;
    this.startNext(run);
  }

  /** The bytes of the model a run starts from: the ones it was queued with in this tab, or `model`
   *  (the one loaded now) when it is the one the run names. */
  startingModel(
    run: Pick<RunRecord, 'id' | 'model' | 'modelSha256'>,
    model: Pick<ModelState, 'status' | 'ref' | 'sha256' | 'bytes'> = this.state.model,
  ): ArrayBuffer | undefined {
    const kept = this.inputs.get(run.id);
    if (kept) return kept.model;
    const same =
      model.status === 'ready' &&
      (run.modelSha256 ? model.sha256 === run.modelSha256 : JSON.stringify(model.ref) === JSON.stringify(run.model));
    return same ? model.bytes : undefined;
  }

  /** The class token's attention maps of one image (RGBA [S, S, 4]) in each model, computed by the
   *  worker once its run in progress, if any, has ended. */
  requestAttention(pixels: Uint8Array, models: AttentionModel[]): Promise<AttentionMaps[]> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.asked.set(requestId, { resolve, reject });
      this.send({ type: 'attention', requestId, pixels, models });
    });
  }

  /** Queues runs of the experiment on the model and dataset loaded now: they keep those, whatever the
   *  panels load while they wait. The same runs still waiting are not queued again (a double click). */
  private queue(settings: RunSettings[], comparison?: string): void {
    const { experiment, model, data, runs, queueRuns } = this.state;
    if (!model.bytes || !model.sha256 || !data.source) return;
    const created = newRuns(runs, experiment, model.sha256, settings, comparison);
    if (!queueRuns(created)) return;
    for (const r of created) this.inputs.set(r.id, { model: model.bytes, data: data.source });
    this.startNext();
  }

  private theWorker(): TrainingWorker {
    if (!this.worker) {
      const worker = this.makeWorker();
      worker.onmessage = (e: MessageEvent<FromWorker>) => this.onMessage(e.data);
      worker.onerror = (e) => this.onWorkerError(e.message || 'unknown error');
      this.worker = worker;
    }
    return this.worker;
  }

  private send(m: ToWorker): void {
    this.theWorker().postMessage(m);
  }

  private onWorkerError(message: string): void {
    const id = activeRun(this.state)?.id;
    this.state.notify(`The training worker failed: ${message}`);
    this.worker = undefined;
    for (const a of this.asked.values()) a.reject(new Error('the training worker failed'));
    this.asked.clear();
    if (id) this.finish(id, { status: 'failed', error: { kind: 'other', message } });
  }

  private bucket(id: string) {
    let b = this.pending.get(id);
    if (!b) this.pending.set(id, (b = { train: [], val: [], patch: {} }));
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
    return b;
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const { appendPoints } = this.state;
    for (const [id, b] of this.pending) appendPoints(id, b.train, b.val, b.patch);
    this.pending = new Map();
  }

  private finish(id: string, patch: Partial<RunRecord>): void {
    this.flush();
    this.state.patchRun(id, { ...patch, decode: undefined });
    this.unlock(id);
    this.startNext();
  }

  private onMessage(m: FromWorker): void {
    const store = this.state;
    switch (m.type) {
      case 'info':
        store.patchRun(m.runId, { info: m.info });
        break;
      case 'decode':
        this.bucket(m.runId).patch.decode = {
          decoded: m.decoded,
          total: m.total,
          ratePerSec: m.ratePerSec,
          secondsLeft: m.secondsLeft,
        };
        break;
      case 'step':
        this.bucket(m.runId).train.push(m.point);
        break;
      case 'eval':
        this.bucket(m.runId).val.push(m.point);
        break;
      case 'checkpoint':
        this.flush();
        store.patchRun(m.runId, { checkpointStep: m.step });
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
        const run = runById(store, m.runId);
        const status = m.reason === 'failed' || run?.error ? 'failed' : m.reason;
        const info =
          run?.info && m.skipped?.length ? { ...run.info, leftOut: [...run.info.leftOut, ...m.skipped] } : run?.info;
        this.finish(m.runId, {
          status,
          confusion: m.confusion,
          predictions: m.predictions,
          info,
          ...(m.test ? { test: m.test } : {}),
        });
        break;
      }
      case 'attention': {
        const a = this.asked.get(m.requestId);
        this.asked.delete(m.requestId);
        if ('error' in m) a?.reject(new Error(m.error));
        else a?.resolve(m.maps);
        break;
      }
    }
  }

  /** The inputs a run names: the ones it was queued with in this tab, or the model and dataset loaded
   *  now when they are the ones it names; otherwise what to load, in words. */
  private inputsOf(run: RunRecord): RunInputs | string {
    const kept = this.inputs.get(run.id);
    if (kept) return kept;
    const { data } = this.state;
    const model = this.startingModel(run);
    if (model && data.status === 'ready' && data.source && sameData(data.ref, run.data))
      return { model, data: data.source };
    const then = run.status === 'queued' ? 'it starts before the next run started' : 'resume it';
    return `${run.label} trains on ${describeModel(run.model)} and ${describeData(run.data)}: load ${model ? 'that dataset' : 'that model'} first, then ${then}.`;
  }

  /** Starts the next queued run (or `resumeFrom`) when no run is in progress, after any start before it. */
  private startNext(resumeFrom?: RunRecord): void {
    this.starts = this.starts
      .then(() => this.start(resumeFrom))
      .catch((e: unknown) => this.state.notify(`A run could not start: ${errorMessage(e)}`));
  }

  private async start(resumeFrom?: RunRecord): Promise<void> {
    if (activeRun(this.state)) return;
    const id = resumeFrom?.id ?? this.state.queue[0];
    if (!id) return;
    const run = runById(this.state, id);
    const given = run && this.inputsOf(run);
    // Without its model and dataset a run does not start, and the runs queued after it wait too.
    if (typeof given === 'string') return this.state.notify(given);
    if (!resumeFrom) this.state.dequeue();
    if (!run || !given) return this.start();
    if (!(await this.lock(id))) {
      this.unlock(id);
      // Another tab queued or trains it (both restored it after a reload): it is that tab's.
      if (resumeFrom) this.state.notify(`${run.label} is training in another tab of this browser.`);
      else this.state.patchRun(id, { status: 'elsewhere' });
      return this.start();
    }
    this.inputs.set(id, given);
    const keep = resumeFrom?.checkpointStep;
    this.state.patchRun(id, {
      status: 'running',
      error: undefined,
      warning: undefined,
      ...(keep === undefined
        ? {}
        : {
            train: run.train.filter((p) => p.step <= keep),
            val: run.val.filter((p) => p.step <= keep),
            confusion: undefined,
            predictions: undefined,
            test: undefined,
          }),
    });
    this.send({
      type: 'start',
      runId: id,
      model: given.model,
      data: given.data,
      settings: run.settings,
      memoryBudget: this.budgetBytes(),
      resume:
        keep === undefined
          ? undefined
          : {
              step: keep,
              best: bestEvaluation(run.val, keep),
              seconds: run.train.find((p) => p.step === keep)?.seconds ?? 0,
            },
    });
  }

  /** Whether this tab holds `id`'s Web Lock, asked for once. */
  private async lock(id: string): Promise<boolean> {
    if (!this.locks.has(id)) this.locks.set(id, lockRun(id));
    return !!(await this.locks.get(id));
  }

  private unlock(id: string): void {
    void this.locks.get(id)?.then((release) => release?.());
    this.locks.delete(id);
  }

  private budgetBytes(): number | undefined {
    const mib = this.state.memoryBudgetMiB;
    return mib === undefined ? undefined : mib * 2 ** 20;
  }
}
