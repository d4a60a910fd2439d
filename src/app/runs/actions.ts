// What the Train and Compare buttons do: turn the experiment into run records and queue them.
import { experimentErrors, type Experiment, type RunSettings } from '../../train/settings.ts';
import { useStore } from '../store.ts';
import { savePersisted } from './persist.ts';
import { PALETTE, runLabel, type RunRecord } from './run-record.ts';
import { startNext } from './trainer.ts';

function settingsOf(e: Experiment): RunSettings {
  const { model: _m, data: _d, ...settings } = e;
  return settings;
}

/** New runs, each with a colour no other run has (while the palette lasts). */
function newRuns(e: Experiment, list: RunSettings[]): RunRecord[] {
  const { runs } = useStore.getState();
  const used = new Set(runs.map((r) => r.colour));
  return list.map((settings, i) => {
    const colour = [...PALETTE.keys()].find((c) => !used.has(c)) ?? (runs.length + i) % PALETTE.length;
    used.add(colour);
    return {
      id: crypto.randomUUID(), label: runLabel(settings), colour, model: e.model, data: e.data, settings,
      status: 'queued', createdAt: Date.now(), train: [], val: [],
    };
  });
}

/** Why the experiment cannot run now, in words; undefined when it can. */
export function cannotRun(): string | undefined {
  const { experiment, errors, model, data } = useStore.getState();
  const bad = { ...experimentErrors(experiment), ...errors };
  const first = Object.values(bad)[0];
  if (first) return first;
  if (model.status !== 'ready') return 'load a model first';
  if (data.status !== 'ready') return 'load a dataset first';
  return undefined;
}

function queue(runs: RunRecord[]): void {
  useStore.getState().addRuns(runs, true);
  void savePersisted();
  startNext();
}

export function train(): void {
  const e = useStore.getState().experiment;
  queue(newRuns(e, [settingsOf(e)]));
}

/** StochCA and fine-tuning with the same seed, split and images (the split depends only on the seed). */
export function compare(): void {
  const e = useStore.getState().experiment;
  const s = settingsOf(e);
  queue(newRuns(e, [{ ...s, method: 'stochca', p: s.method === 'stochca' && s.p > 0 ? s.p : 0.1 }, { ...s, method: 'finetune' }]));
}
