// The page's state (zustand): the experiment being edited, the model and dataset it names, and
// the runs with their curves. Components read slices of it; the trainer and the panels write it.
import { create } from 'zustand';
import type { CheckpointConfig } from '../checkpoint/checkpoint-config.ts';
import type { LeftOut } from '../data/entries.ts';
import type { DatasetSource } from '../data/dataset-source.ts';
import type { DownloadProgress } from '../data/download.ts';
import type { EvalPoint, TrainPoint } from '../train/records.ts';
import {
  defaultExperiment,
  validateField,
  type DataRef,
  type Experiment,
  type ExperimentKey,
  type ModelRef,
} from '../train/settings.ts';
import { ALL, type GalleryFilter } from './runs/gallery.ts';
import type { RunRecord } from './runs/run-record.ts';

export interface ModelState {
  status: 'none' | 'loading' | 'ready' | 'error';
  ref: ModelRef;
  name: string;
  bytes?: ArrayBuffer;
  /** SHA-256 of `bytes`, hashed once when the model is loaded: what a run records as its model. */
  sha256?: string;
  config?: CheckpointConfig;
  parameters?: number;
  classNames?: string[];
  /** What the load changed or left out, in words (a pooler left unused, no head in the file). */
  changes?: string[];
  /** While a URL is being fetched (the panel shows it with a Cancel). */
  download?: DownloadProgress;
  message?: string;
}

export interface DataState {
  status: 'none' | 'loading' | 'ready' | 'error';
  ref: DataRef;
  name: string;
  source?: DatasetSource;
  classes: string[];
  /** Images per class in the train/ (or only) folder, then val/ and test/. */
  perClass: number[];
  counts: { train: number; val: number; test: number };
  leftOut: LeftOut[];
  problems: string[];
  /** One decoded image per class (PNG data URLs). */
  thumbnails: string[];
  /** Scan progress, in words. */
  progress?: string;
  /** While a URL is being fetched (the panel shows it with a Cancel). */
  download?: DownloadProgress;
  message?: string;
}

export type XAxis = 'step' | 'epoch' | 'time';

export interface ChartView {
  x: XAxis;
  logLoss: boolean;
  /** Weight of the exponential moving average, 0 (none) to 0.99. */
  smoothing: number;
  hidden: string[];
}

/** The image of the attention panel: a validation image of a run (its index in the run's
 *  predictions), or one dropped on the panel, at the models' input size. */
export type InspectedImage = { runId: string; index: number } | { name: string; pixels: Uint8Array; size: number };

interface State {
  experiment: Experiment;
  /** Text of each field as typed, and its message when it does not hold. */
  drafts: Partial<Record<ExperimentKey, string>>;
  errors: Partial<Record<ExperimentKey, string>>;
  notices: string[];
  model: ModelState;
  data: DataState;
  runs: RunRecord[];
  /** Ids of runs waiting for the worker, in order. */
  queue: string[];
  selected?: string;
  view: ChartView;
  /** The predictions gallery's filter and order (for the selected run). */
  gallery: GalleryFilter;
  /** The attention panel's image; undefined: the selected run's first pictured validation image. */
  inspected?: InspectedImage;
  /** Whether the browser keeps this page's storage under pressure (asked once; undefined until answered). */
  storagePersisted?: boolean;
  /** GPU memory a run may plan, in MiB; undefined: what the adapter's buffer limits allow. A batch that
   *  does not fit runs in micro-batches (planner.ts chooseMicroBatch). */
  memoryBudgetMiB?: number;

  setField(key: ExperimentKey, raw: string): void;
  setExperiment(e: Experiment): void;
  notify(message: string): void;
  dismiss(i: number): void;
  setModel(m: Partial<ModelState>): void;
  setData(d: Partial<DataState>): void;
  addRuns(runs: RunRecord[], queue: boolean): void;
  patchRun(id: string, patch: Partial<RunRecord>): void;
  /** New curve points of a run, and other changes to it, in one update. */
  appendPoints(id: string, train: TrainPoint[], val: EvalPoint[], patch?: Partial<RunRecord>): void;
  removeRun(id: string): void;
  setRuns(runs: RunRecord[]): void;
  dequeue(): string | undefined;
  select(id?: string): void;
  setView(v: Partial<ChartView>): void;
  setGallery(f: GalleryFilter): void;
  inspect(image: InspectedImage): void;
}

const emptyData = (ref: DataRef, name: string): DataState => ({
  status: 'none',
  ref,
  name,
  classes: [],
  perClass: [],
  counts: { train: 0, val: 0, test: 0 },
  leftOut: [],
  problems: [],
  thumbnails: [],
});

const initial = defaultExperiment();

export const useStore = create<State>()((set, get) => ({
  experiment: initial,
  drafts: {},
  errors: {},
  notices: [],
  model: { status: 'none', ref: initial.model, name: '' },
  data: emptyData(initial.data, ''),
  runs: [],
  queue: [],
  view: { x: 'step', logLoss: false, smoothing: 0.6, hidden: [] },
  gallery: ALL,

  setField(key, raw) {
    const { experiment, drafts, errors } = get();
    const r = validateField(key, raw, experiment);
    const nextErrors = { ...errors };
    if ('error' in r) {
      nextErrors[key] = r.error;
      set({ drafts: { ...drafts, [key]: raw }, errors: nextErrors });
      return;
    }
    delete nextErrors[key];
    const { [key]: _, ...rest } = drafts;
    set({ experiment: { ...experiment, [key]: r.value }, drafts: rest, errors: nextErrors });
  },
  setExperiment: (experiment) => set({ experiment, drafts: {}, errors: {} }),
  notify: (message) => set({ notices: [...get().notices, message] }),
  dismiss: (i) => set({ notices: get().notices.filter((_, k) => k !== i) }),
  setModel: (m) => set({ model: { ...get().model, ...m } }),
  setData: (d) =>
    set({
      data: d.ref && d.ref !== get().data.ref ? { ...emptyData(d.ref, d.name ?? ''), ...d } : { ...get().data, ...d },
    }),
  addRuns: (runs, queue) =>
    set({
      runs: [...get().runs, ...runs],
      queue: queue ? [...get().queue, ...runs.map((r) => r.id)] : get().queue,
      selected: runs[0]?.id ?? get().selected,
    }),
  patchRun: (id, patch) => set({ runs: get().runs.map((r) => (r.id === id ? { ...r, ...patch } : r)) }),
  appendPoints: (id, train, val, patch = {}) =>
    set({
      runs: get().runs.map((r) =>
        r.id === id ? { ...r, ...patch, train: [...r.train, ...train], val: [...r.val, ...val] } : r,
      ),
    }),
  removeRun: (id) => set({ runs: get().runs.filter((r) => r.id !== id), queue: get().queue.filter((q) => q !== id) }),
  setRuns: (runs) => set({ runs }),
  dequeue() {
    const [next, ...rest] = get().queue;
    set({ queue: rest });
    return next;
  },
  select: (selected) => set({ selected }),
  setView: (v) => set({ view: { ...get().view, ...v } }),
  setGallery: (gallery) => set({ gallery }),
  inspect: (inspected) => set({ inspected }),
}));
