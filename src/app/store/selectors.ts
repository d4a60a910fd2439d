// What the panels and the trainer derive from the state, in one place.
import { experimentErrors } from '../../train/settings.ts';
import type { RunRecord } from '../runs/run-record.ts';
import type { AppState } from '../store.ts';

type Runs = Pick<AppState, 'runs'>;

/** A run the worker has (training or paused): at most one at a time. */
export const inProgress = (r: RunRecord) => r.status === 'running' || r.status === 'paused';

/** The run in progress, if any. */
export const activeRun = (s: Runs): RunRecord | undefined => s.runs.find(inProgress);

export const runById = (s: Runs, id: string | undefined): RunRecord | undefined =>
  id === undefined ? undefined : s.runs.find((r) => r.id === id);

/** The run selected in the table. */
export const selectedRun = (s: Pick<AppState, 'runs' | 'selected'>): RunRecord | undefined => runById(s, s.selected);

/** Whether a run is in progress or waiting for the worker. */
export const busy = (s: Runs): boolean => s.runs.some((r) => inProgress(r) || r.status === 'queued');

/** Runs of this page (not a link's), the ones that can be exported. */
export const ownRuns = (s: Runs): RunRecord[] => s.runs.filter((r) => r.status !== 'shared');

/** Why the experiment cannot run now, in words; undefined when it can. */
export function cannotRun(s: Pick<AppState, 'experiment' | 'errors' | 'model' | 'data'>): string | undefined {
  const first = Object.values({ ...experimentErrors(s.experiment), ...s.errors })[0];
  if (first) return first;
  if (s.model.status !== 'ready') return 'load a model first';
  if (s.data.status !== 'ready') return 'load a dataset first';
  return undefined;
}
