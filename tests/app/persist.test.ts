// Runs kept in IndexedDB by a subscription of the store (src/app/runs/persist.ts), in Node on
// fake-indexeddb: the records read back as this tab sees them, every change of the runs written
// without a call (a run's growing curves at most once a second, anything else in the task after),
// a deleted run deleted, a link's runs never written, and two tabs (two stores on one database and
// one BroadcastChannel) taking in each other's runs without writing them back.
import 'fake-indexeddb/auto';
import { clear, get, set } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newRuns, settingsOf } from '../../src/app/runs/new-runs.ts';
import { KeptRuns, runLock } from '../../src/app/runs/persist.ts';
import type { RunRecord } from '../../src/app/runs/run-record.ts';
import { createAppStore, type AppStore } from '../../src/app/store.ts';
import { defaultExperiment } from '../../src/train/settings.ts';
import { evalPoint, runRecord, trainPoint } from '../helpers/run-records.ts';

const key = (id: string) => `stochca-run:${id}`;
const storedRun = (id: string) => get<RunRecord>(key(id));

let stops: (() => void)[] = [];
beforeEach(() => clear());
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

/** A tab: a store whose runs are kept, restored from the database as it is now. */
async function tab(): Promise<AppStore> {
  const store = createAppStore();
  const kept = new KeptRuns(store);
  await kept.restore();
  stops.push(kept.follow());
  return store;
}

describe('restoring', () => {
  it('reads every run oldest first, a run that was training as interrupted, and moves the old single key', async () => {
    const running = runRecord({ status: 'running', createdAt: 2 });
    const finished = runRecord({ status: 'finished', createdAt: 3 });
    const legacy = runRecord({ status: 'stopped', createdAt: 1 });
    await set(key(running.id), running);
    await set(key(finished.id), finished);
    await set('stochca-runs-v1', [legacy]);
    const store = await tab();
    expect(store.getState().runs.map((r) => [r.id, r.status])).toEqual([
      [legacy.id, 'stopped'],
      [running.id, 'interrupted'],
      [finished.id, 'finished'],
    ]);
    expect(await storedRun(legacy.id)).toEqual(legacy);
    expect(await get('stochca-runs-v1')).toBeUndefined();
    // What was read is not written back: the record still says what the training tab wrote.
    store.getState().addRuns([runRecord()], false);
    await vi.waitFor(async () => expect(await storedRun(store.getState().runs[3].id)).toBeDefined());
    expect((await storedRun(running.id))?.status).toBe('running');
  });
  it('keeps queued runs queued, in the queue in the order they were made, behind the interrupted one', async () => {
    const e = defaultExperiment();
    const [first, second, third] = newRuns(
      [],
      e,
      'ab'.repeat(32),
      [1, 2, 3].map((seed) => ({ ...settingsOf(e), seed })),
    );
    await set(key(first.id), { ...first, status: 'running', checkpointStep: 10 });
    // Written in the reverse order, as the keys (random ids) may sort.
    await set(key(third.id), third);
    await set(key(second.id), second);
    const store = await tab();
    expect(store.getState().runs.map((r) => [r.id, r.status])).toEqual([
      [first.id, 'interrupted'],
      [second.id, 'queued'],
      [third.id, 'queued'],
    ]);
    expect(store.getState().queue).toEqual([second.id, third.id]);
  });

  it("shows a queued run whose lock another tab holds as that tab's, out of this tab's queue", async () => {
    const queued = runRecord();
    await set(key(queued.id), queued);
    vi.stubGlobal('navigator', { locks: { query: () => Promise.resolve({ held: [{ name: runLock(queued.id) }] }) } });
    try {
      const store = await tab();
      expect(store.getState().runs.map((r) => r.status)).toEqual(['elsewhere']);
      expect(store.getState().queue).toEqual([]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('writing', () => {
  it('writes a new run, a new status, a deletion at once, without the decode progress', async () => {
    const store = await tab();
    const run = runRecord();
    store.getState().addRuns([run], true);
    await vi.waitFor(async () => expect(await storedRun(run.id)).toEqual(run), { timeout: 500 });
    store.getState().patchRun(run.id, {
      status: 'running',
      decode: { decoded: 1, total: 2, ratePerSec: 1, secondsLeft: 1 },
    });
    await vi.waitFor(async () => expect((await storedRun(run.id))?.status).toBe('running'), { timeout: 500 });
    expect(await storedRun(run.id)).not.toHaveProperty('decode');
    store.getState().removeRun(run.id);
    await vi.waitFor(async () => expect(await storedRun(run.id)).toBeUndefined(), { timeout: 500 });
  });

  it("writes a run's growing curves at most once a second, and its checkpoint at once", async () => {
    const store = await tab();
    const run = runRecord({ status: 'running' });
    store.getState().addRuns([run], false);
    await vi.waitFor(async () => expect(await storedRun(run.id)).toBeDefined(), { timeout: 500 });
    const t0 = Date.now();
    store.getState().appendPoints(run.id, [trainPoint(1)], []);
    await new Promise((r) => setTimeout(r, 300));
    store.getState().appendPoints(run.id, [trainPoint(2)], []);
    expect((await storedRun(run.id))?.train).toEqual([]);
    await vi.waitFor(async () => expect((await storedRun(run.id))?.train).toHaveLength(2), { timeout: 2000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
    store.getState().appendPoints(run.id, [trainPoint(3)], [evalPoint(3, 0.5)], { checkpointStep: 3 });
    const t1 = Date.now();
    await vi.waitFor(async () => expect((await storedRun(run.id))?.checkpointStep).toBe(3), { timeout: 500 });
    expect(Date.now() - t1).toBeLessThan(500);
  });

  it("never writes a link's runs", async () => {
    const store = await tab();
    const shared = runRecord({ id: 'shared-0', status: 'shared' });
    const own = runRecord();
    store.getState().addShared([shared]);
    store.getState().addRuns([own], false);
    await vi.waitFor(async () => expect(await storedRun(own.id)).toBeDefined(), { timeout: 500 });
    expect(await storedRun(shared.id)).toBeUndefined();
  });
});

describe('two tabs', () => {
  it("each takes in the other's runs and deletions, and writes nothing back", async () => {
    const a = await tab();
    const b = await tab();
    const messages: string[][] = [];
    const listener = new BroadcastChannel('stochca-runs');
    listener.onmessage = (e: MessageEvent<string[]>) => messages.push(e.data);
    stops.push(() => listener.close());

    const run = runRecord({ status: 'finished' });
    a.getState().addRuns([run], false);
    await vi.waitFor(() => expect(b.getState().runs.map((r) => r.id)).toEqual([run.id]), { timeout: 1000 });
    expect(b.getState().runs[0]).toEqual(run);
    // Time for a write back and its message, had there been one.
    await new Promise((r) => setTimeout(r, 1200));
    expect(messages).toEqual([[run.id]]);

    b.getState().removeRun(run.id);
    await vi.waitFor(() => expect(a.getState().runs).toEqual([]), { timeout: 1000 });
    await new Promise((r) => setTimeout(r, 1200));
    expect(messages).toEqual([[run.id], [run.id]]);
  });

  it('leaves a run this tab trains to this tab, whatever another tab writes of it', async () => {
    const a = await tab();
    const run = runRecord({ status: 'running' });
    a.getState().addRuns([run], false);
    await vi.waitFor(async () => expect(await storedRun(run.id)).toBeDefined(), { timeout: 500 });
    await set(key(run.id), { ...run, label: 'from another tab' });
    const other = new BroadcastChannel('stochca-runs');
    other.postMessage([run.id]);
    other.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(a.getState().runs[0]).toBe(run);
  });
});
