// The experiment being edited: each field as typed, checked as it is typed, and the GPU memory budget
// a run may plan.
import type { StateCreator } from 'zustand';
import {
  defaultExperiment,
  validateField,
  type DataRef,
  type Experiment,
  type ExperimentKey,
  type ModelRef,
} from '../../train/settings.ts';
import type { AppState } from '../store.ts';

export interface SetupSlice {
  experiment: Experiment;
  /** Text of each field as typed, and its message when it does not hold. */
  drafts: Partial<Record<ExperimentKey, string>>;
  errors: Partial<Record<ExperimentKey, string>>;
  /** GPU memory a run may plan, in MiB; undefined: what the adapter's buffer limits allow. A batch that
   *  does not fit runs in micro-batches (planner.ts chooseMicroBatch). */
  memoryBudgetMiB?: number;

  setField(key: ExperimentKey, raw: string): void;
  setExperiment(e: Experiment): void;
  /** The model or dataset loaded now becomes the experiment's. */
  adoptSources(s: { model?: ModelRef; data?: DataRef }): void;
  setMemoryBudget(mib: number | undefined): void;
}

export const setupSlice: StateCreator<AppState, [], [], SetupSlice> = (set, get) => ({
  experiment: defaultExperiment(),
  drafts: {},
  errors: {},

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
  adoptSources: (s) => set({ experiment: { ...get().experiment, ...s } }),
  setMemoryBudget: (memoryBudgetMiB) => set({ memoryBudgetMiB }),
});
