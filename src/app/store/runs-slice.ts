// The runs: their records with their curves, the queue of runs waiting for the worker, and the run
// selected in the table. The trainer (runs/trainer.ts) and the panels change them through these
// actions; persistence (runs/persist.ts) follows them.
import type { StateCreator } from 'zustand';
import type { EvalPoint, TrainPoint } from '../../train/records.ts';
import type { RunRecord } from '../runs/run-record.ts';
import { sameData } from '../sources/refs.ts';
import type { AppState } from '../store.ts';
import { inProgress } from './selectors.ts';

export interface RunsSlice {
  runs: RunRecord[];
  /** Ids of runs waiting for the worker, in order. */
  queue: string[];
  selected?: string;

  /** New runs of this tab, selected, and queued for the worker when `queue` is set. */
  addRuns(runs: RunRecord[], queue: boolean): void;
  /** New runs queued and selected, unless each is the same as a run still queued or in progress (a
   *  second click of Train or Compare before the first one's runs are done); whether they were. */
  queueRuns(runs: RunRecord[]): boolean;
  /** Runs kept in this browser (oldest first), after the ones already shown; the queued ones wait in
   *  the queue again, in their order, after this tab's. */
  restoreRuns(kept: RunRecord[]): void;
  /** The runs a link carries, before the others. */
  addShared(runs: RunRecord[]): void;
  /** A run as another tab saved it (undefined: deleted there), in place of this tab's copy. */
  putStored(id: string, run: RunRecord | undefined): void;
  patchRun(id: string, patch: Partial<RunRecord>): void;
  /** New curve points of a run, and other changes to it, in one update. */
  appendPoints(id: string, train: TrainPoint[], val: EvalPoint[], patch?: Partial<RunRecord>): void;
  removeRun(id: string): void;
  /** The next queued run's id, taken off the queue. */
  dequeue(): string | undefined;
  /** Every queued run stopped, the queue emptied. */
  stopQueued(): void;
  select(id?: string): void;
}

/** The same run: the same settings on the same model and dataset. */
const sameRun = (a: RunRecord, b: RunRecord) =>
  a.modelSha256 === b.modelSha256 &&
  sameData(a.data, b.data) &&
  JSON.stringify(a.settings) === JSON.stringify(b.settings);

export const runsSlice: StateCreator<AppState, [], [], RunsSlice> = (set, get) => {
  const update = (id: string, f: (r: RunRecord) => RunRecord) =>
    set({ runs: get().runs.map((r) => (r.id === id ? f(r) : r)) });
  return {
    runs: [],
    queue: [],

    addRuns: (runs, queue) =>
      set({
        runs: [...get().runs, ...runs],
        queue: queue ? [...get().queue, ...runs.map((r) => r.id)] : get().queue,
        selected: runs[0]?.id ?? get().selected,
      }),
    queueRuns(runs) {
      const waiting = get().runs.filter((r) => r.status === 'queued' || inProgress(r));
      if (runs.every((r) => waiting.some((w) => sameRun(w, r)))) return false;
      get().addRuns(runs, true);
      return true;
    },
    restoreRuns: (kept) =>
      set({
        runs: [...get().runs, ...kept],
        queue: [...get().queue, ...kept.filter((r) => r.status === 'queued').map((r) => r.id)],
      }),
    addShared: (runs) => set({ runs: [...runs, ...get().runs] }),
    putStored(id, run) {
      const { runs } = get();
      if (!run) set({ runs: runs.filter((r) => r.id !== id) });
      else if (runs.some((r) => r.id === id)) update(id, () => run);
      else set({ runs: [...runs, run] });
    },
    patchRun: (id, patch) => update(id, (r) => ({ ...r, ...patch })),
    appendPoints: (id, train, val, patch = {}) =>
      update(id, (r) => ({ ...r, ...patch, train: [...r.train, ...train], val: [...r.val, ...val] })),
    removeRun: (id) => set({ runs: get().runs.filter((r) => r.id !== id), queue: get().queue.filter((q) => q !== id) }),
    dequeue() {
      const [next, ...rest] = get().queue;
      set({ queue: rest });
      return next;
    },
    stopQueued: () =>
      set({
        runs: get().runs.map((r) => (r.status === 'queued' ? { ...r, status: 'stopped' } : r)),
        queue: [],
      }),
    select: (selected) => set({ selected }),
  };
};
