// The page's trainer (src/app/runs/trainer.ts) against a worker that records what it is sent and
// answers as the training worker does: runs start one at a time on what they were queued with, the
// worker's records reach the store in batches, a run's end starts the next, Stop stops the queue, a
// double Compare queues once, runs kept queued wait for the resumed run and for what they name, queued
// runs hold their Web Locks, a resume on another dataset is refused in words, and a failed worker fails
// its run.
import { describe, expect, it, vi } from 'vitest';
import { Trainer } from '../../src/app/runs/trainer.ts';
import { createAppStore } from '../../src/app/store.ts';
import { runLock } from '../../src/app/runs/persist.ts';
import { activeRun, runById } from '../../src/app/store/selectors.ts';
import { evalPoint, FakeWorker, loadSources, runInfo, runRecord, source, trainPoint } from '../helpers/run-records.ts';

/** A store with a model and a dataset loaded, its trainer and its worker; Compare on one seed unless told. */
function loaded(seeds = '1') {
  const store = createAppStore();
  loadSources(store);
  store.getState().setField('seeds', seeds);
  const worker = new FakeWorker();
  return { store, worker, trainer: new Trainer(store, () => worker) };
}

describe('the trainer', () => {
  it('starts the runs of a Compare one after the other, each on the model and data it was queued with', async () => {
    const { store, worker, trainer } = loaded();
    const bytes = store.getState().model.bytes;
    trainer.compare();
    const [a, b] = store.getState().runs;
    expect([a.settings.method, b.settings.method]).toEqual(['stochca', 'finetune']);
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(1));
    expect(worker.starts()[0]).toMatchObject({ runId: a.id, model: bytes, data: source, settings: a.settings });
    expect(store.getState().runs.map((r) => r.status)).toEqual(['running', 'queued']);

    // Another model loaded meanwhile: the queued run keeps the one it was queued with.
    store.getState().modelReady({ ref: { kind: 'builtin', id: 'other' }, name: 'o', bytes: new ArrayBuffer(4) });
    trainer.train();
    worker.answer({ type: 'done', runId: a.id, reason: 'finished' });
    expect(store.getState().runs[0].status).toBe('finished');
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(2));
    expect(worker.starts()[1]).toMatchObject({ runId: b.id, model: bytes });
    expect(activeRun(store.getState())?.id).toBe(b.id);
  });

  it('adds the linear probe as a third arm of a Compare when it is the method set, on the same seed', () => {
    const { store, trainer } = loaded();
    store.getState().setField('method', 'linear-probe');
    store.getState().setField('seed', '7');
    trainer.compare();
    const runs = store.getState().runs;
    expect(runs.map((r) => [r.settings.method, r.settings.seed])).toEqual([
      ['stochca', 7],
      ['finetune', 7],
      ['linear-probe', 7],
    ]);
    expect(runs.map((r) => r.label)).toEqual([
      'StochCA p=0.1 · seed 7',
      'fine-tuning · seed 7',
      'linear probe · seed 7',
    ]);
  });

  it('queues a Compare over 3 seeds seed by seed, one run per method per seed, as one comparison', async () => {
    const { store, worker, trainer } = loaded('3');
    store.getState().setField('seed', '41');
    trainer.compare();
    const runs = store.getState().runs;
    expect(runs.map((r) => [r.settings.method, r.settings.seed])).toEqual([
      ['stochca', 41],
      ['finetune', 41],
      ['stochca', 42],
      ['finetune', 42],
      ['stochca', 43],
      ['finetune', 43],
    ]);
    expect(store.getState().queue).toEqual(runs.map((r) => r.id));
    const [id] = new Set(runs.map((r) => r.comparison));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(runs.every((r) => r.comparison === id)).toBe(true);
    // One colour per method, the same on every seed.
    expect(runs.map((r) => r.colour)).toEqual([0, 1, 0, 1, 0, 1]);
    // A double click adds nothing; the queue then runs in that order.
    trainer.compare();
    expect(store.getState().runs).toHaveLength(6);
    for (const r of runs) {
      await vi.waitFor(() => expect(worker.starts().at(-1)?.runId).toBe(r.id));
      worker.answer({ type: 'done', runId: r.id, reason: 'finished' });
    }
    expect(store.getState().runs.map((r) => r.status)).toEqual(Array(6).fill('finished'));
    // Another Compare is another comparison.
    trainer.compare();
    expect(new Set(store.getState().runs.map((r) => r.comparison)).size).toBe(2);
  });

  it('queues one comparison for a double click on Compare', async () => {
    const { store, worker, trainer } = loaded();
    trainer.compare();
    trainer.compare();
    expect(store.getState().runs.map((r) => r.settings.method)).toEqual(['stochca', 'finetune']);
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(1));
    trainer.compare();
    expect(store.getState().runs).toHaveLength(2);
  });

  it('after a reload, runs kept queued wait for the resumed run, then start in order on what they name', async () => {
    const { store, worker, trainer } = loaded();
    const interrupted = runRecord({ status: 'interrupted', checkpointStep: 2, train: [trainPoint(1), trainPoint(2)] });
    const second = runRecord({ createdAt: interrupted.createdAt + 1 }, [interrupted]);
    const third = runRecord({ createdAt: interrupted.createdAt + 2, data: { kind: 'pack', id: 'fmnist' } }, [
      interrupted,
      second,
    ]);
    store.getState().restoreRuns([interrupted, second, third]);
    await new Promise((r) => setTimeout(r, 10));
    expect(worker.sent).toEqual([]);

    trainer.resumeFromCheckpoint(interrupted);
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(1));
    expect(worker.starts()[0]).toMatchObject({ runId: interrupted.id, resume: { step: 2 } });
    expect(store.getState().runs.map((r) => r.status)).toEqual(['running', 'queued', 'queued']);
    worker.answer({ type: 'done', runId: interrupted.id, reason: 'finished' });
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(2));
    expect(worker.starts()[1]).toMatchObject({ runId: second.id, data: source, resume: undefined });

    // The third names a dataset not loaded: it waits, queued, and says what to load.
    worker.answer({ type: 'done', runId: second.id, reason: 'finished' });
    await vi.waitFor(() => expect(store.getState().notices).toHaveLength(1));
    expect(store.getState().notices[0]).toMatch(/the built-in dataset 'fmnist': load that dataset first/);
    expect(store.getState().runs.map((r) => r.status)).toEqual(['finished', 'finished', 'queued']);
    expect(worker.starts()).toHaveLength(2);
    store.getState().dataReady({ ...store.getState().data, ref: { kind: 'pack', id: 'fmnist' }, source });
    trainer.train();
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(3));
    expect(worker.starts()[2].runId).toBe(third.id);
  });

  it('holds the Web Lock of each run it queues, and leaves a kept queued run another tab holds to that tab', async () => {
    // Web Locks of one origin, as the browser grants them with ifAvailable.
    const held = new Set<string>();
    const locks = {
      request(name: string, _: unknown, f: (lock: object | null) => Promise<void> | undefined) {
        if (held.has(name)) return Promise.resolve(f(null));
        held.add(name);
        return Promise.resolve(f({})).then(() => void held.delete(name));
      },
    };
    vi.stubGlobal('navigator', { locks });
    try {
      const { store, worker, trainer } = loaded();
      trainer.compare();
      const [a, b] = store.getState().runs;
      await vi.waitFor(() => expect(worker.starts()).toHaveLength(1));
      expect([...held]).toEqual([runLock(a.id), runLock(b.id)]);
      trainer.stop();
      await vi.waitFor(() => expect([...held]).toEqual([runLock(a.id)]));
      worker.answer({ type: 'done', runId: a.id, reason: 'stopped' });
      await vi.waitFor(() => expect([...held]).toEqual([]));

      const interrupted = runRecord({ status: 'interrupted', checkpointStep: 2 }, [a, b]);
      const theirs = runRecord({}, [a, b, interrupted]);
      held.add(runLock(theirs.id));
      store.getState().restoreRuns([interrupted, theirs]);
      trainer.resumeFromCheckpoint(interrupted);
      await vi.waitFor(() => expect(worker.starts()).toHaveLength(2));
      worker.answer({ type: 'done', runId: interrupted.id, reason: 'finished' });
      await vi.waitFor(() => expect(runById(store.getState(), theirs.id)?.status).toBe('elsewhere'));
      expect(worker.starts()).toHaveLength(2);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("applies the worker's steps in batches, and a checkpoint at once", async () => {
    const { store, worker, trainer } = loaded();
    trainer.train();
    const id = store.getState().runs[0].id;
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(1));
    worker.answer({ type: 'info', runId: id, info: runInfo() });
    for (const step of [1, 2, 3]) worker.answer({ type: 'step', runId: id, point: trainPoint(step) });
    expect(store.getState().runs[0].train).toEqual([]);
    await vi.waitFor(() => expect(store.getState().runs[0].train.map((p) => p.step)).toEqual([1, 2, 3]), {
      timeout: 1500,
    });
    worker.answer({ type: 'step', runId: id, point: trainPoint(4) });
    worker.answer({ type: 'eval', runId: id, point: evalPoint(4, 0.75) });
    worker.answer({ type: 'checkpoint', runId: id, step: 4 });
    expect(store.getState().runs[0]).toMatchObject({ checkpointStep: 4, val: [evalPoint(4, 0.75)] });
    expect(store.getState().runs[0].train).toHaveLength(4);
  });

  it('pauses, resumes, and stops the run in progress with every queued run', async () => {
    const { store, worker, trainer } = loaded();
    trainer.compare();
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(1));
    const [a] = store.getState().runs;
    trainer.pause();
    worker.answer({ type: 'paused', runId: a.id, step: 1 });
    expect(activeRun(store.getState())?.status).toBe('paused');
    trainer.resume();
    expect(activeRun(store.getState())?.status).toBe('running');
    trainer.stop();
    expect(worker.sent.map((m) => m.type)).toEqual(['start', 'pause', 'resume', 'stop']);
    expect(store.getState().runs.map((r) => r.status)).toEqual(['running', 'stopped']);
    worker.answer({ type: 'done', runId: a.id, reason: 'stopped' });
    await new Promise((r) => setTimeout(r, 10));
    expect(store.getState().runs.map((r) => r.status)).toEqual(['stopped', 'stopped']);
    expect(worker.starts()).toHaveLength(1);
  });

  it('resumes a run kept from before only on the dataset it names, and then from its checkpoint', async () => {
    const { store, worker, trainer } = loaded();
    const kept = runRecord({
      status: 'interrupted',
      data: { kind: 'pack', id: 'fmnist' },
      checkpointStep: 2,
      train: [trainPoint(1), trainPoint(2), trainPoint(3)],
      val: [evalPoint(2, 0.5), evalPoint(3, 0.6)],
    });
    store.getState().restoreRuns([kept]);
    trainer.resumeFromCheckpoint(kept);
    await vi.waitFor(() => expect(store.getState().notices).toHaveLength(1));
    expect(store.getState().notices[0]).toMatch(
      /the built-in dataset 'fmnist': load that dataset first, then resume it/,
    );
    expect(store.getState().runs[0].status).toBe('interrupted');
    expect(worker.sent).toEqual([]);

    store.getState().dataReady({ ...store.getState().data, ref: { kind: 'pack', id: 'fmnist' }, source });
    trainer.resumeFromCheckpoint(kept);
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(1));
    expect(worker.starts()[0].resume).toEqual({ step: 2, best: evalPoint(2, 0.5), seconds: trainPoint(2).seconds });
    expect(store.getState().runs[0]).toMatchObject({ status: 'running', val: [evalPoint(2, 0.5)] });
    expect(store.getState().runs[0].train.map((p) => p.step)).toEqual([1, 2]);
  });

  it('fails the run in progress and the attention requests when the worker fails', async () => {
    const { store, worker, trainer } = loaded();
    trainer.train();
    await vi.waitFor(() => expect(worker.starts()).toHaveLength(1));
    const asked = trainer.requestAttention(new Uint8Array(4), []);
    worker.onerror?.call(worker as unknown as Worker, { message: 'out of luck' } as ErrorEvent);
    await expect(asked).rejects.toThrow('the training worker failed');
    expect(store.getState().runs[0]).toMatchObject({
      status: 'failed',
      error: { kind: 'other', message: 'out of luck' },
    });
    expect(store.getState().notices).toEqual(['The training worker failed: out of luck']);
  });
});
