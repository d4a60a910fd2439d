// The model and the dataset loaded now (sources/model-source.ts and data-source.ts load them): each
// none, loading (with a download's progress), ready or failed with a message.
import type { StateCreator } from 'zustand';
import type { CheckpointConfig } from '../../checkpoint/checkpoint-config.ts';
import type { DatasetSource } from '../../data/dataset-source.ts';
import type { DownloadProgress } from '../../data/download.ts';
import type { LeftOut } from '../../data/entries.ts';
import { defaultExperiment, type DataRef, type ModelRef } from '../../train/settings.ts';
import type { AppState } from '../store.ts';

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

/** A model as a load ends with it. */
export type LoadedModel = Pick<
  ModelState,
  'ref' | 'name' | 'bytes' | 'sha256' | 'config' | 'parameters' | 'classNames' | 'changes'
>;

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

/** A dataset as its scan ends with it. */
export type ScannedData = Omit<DataState, 'status' | 'progress' | 'download' | 'message'>;

export interface SourcesSlice {
  model: ModelState;
  data: DataState;

  /** A change of the model's state (a download's progress, or a model not loaded that a link names). */
  setModel(m: Partial<ModelState>): void;
  modelLoading(ref: ModelRef, name: string): void;
  modelReady(m: LoadedModel): void;
  modelFailed(message: string): void;
  /** A change of the dataset's state; another `ref` starts from an empty dataset. */
  setData(d: Partial<DataState>): void;
  dataLoading(ref: DataRef, name: string): void;
  dataReady(d: ScannedData): void;
  dataFailed(message: string): void;
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

export const sourcesSlice: StateCreator<AppState, [], [], SourcesSlice> = (set, get) => {
  const { model, data } = defaultExperiment();
  const setModel = (m: Partial<ModelState>) => set({ model: { ...get().model, ...m } });
  const setData = (d: Partial<DataState>) =>
    set({
      data: d.ref && d.ref !== get().data.ref ? { ...emptyData(d.ref, d.name ?? ''), ...d } : { ...get().data, ...d },
    });
  return {
    model: { status: 'none', ref: model, name: '' },
    data: emptyData(data, ''),

    setModel,
    modelLoading: (ref, name) => setModel({ status: 'loading', ref, name, download: undefined, message: undefined }),
    modelReady: (m) => setModel({ status: 'ready', ...m, download: undefined, message: undefined }),
    modelFailed: (message) =>
      setModel({
        status: 'error',
        bytes: undefined,
        sha256: undefined,
        config: undefined,
        download: undefined,
        message,
      }),
    setData,
    dataLoading: (ref, name) =>
      setData({
        status: 'loading',
        ref,
        name,
        progress: 'reading the file list…',
        download: undefined,
        message: undefined,
      }),
    dataReady: (d) => setData({ status: 'ready', ...d, progress: undefined, download: undefined, message: undefined }),
    dataFailed: (message) =>
      setData({
        status: 'error',
        source: undefined,
        classes: [],
        progress: undefined,
        download: undefined,
        message,
      }),
  };
};
