// What the Train and Compare buttons do: turn the experiment into run records and queue them.
import { experimentErrors, type Experiment, type RunSettings } from '../../train/settings.ts';
import { useStore } from '../store.ts';
import { saveRuns } from './persist.ts';
import { PALETTE, runLabel, type RunRecord } from './run-record.ts';
import { queueRuns } from './trainer.ts';

function settingsOf(e: Experiment): RunSettings {
  const { model: _m, data: _d, ...settings } = e;
  return settings;
}

/** New runs, each with a colour no other run has (while the palette lasts). */
export function newRuns(e: Experiment, modelSha256: string, list: RunSettings[]): RunRecord[] {
  const { runs } = useStore.getState();
  const used = new Set(runs.map((r) => r.colour));
  return list.map((settings, i) => {
    const colour = [...PALETTE.keys()].find((c) => !used.has(c)) ?? (runs.length + i) % PALETTE.length;
    used.add(colour);
    return {
      id: crypto.randomUUID(),
      label: runLabel(settings),
      colour,
      model: e.model,
      modelSha256,
      data: e.data,
      settings,
      status: 'queued',
      createdAt: Date.now(),
      train: [],
      val: [],
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

/** Queues runs of the experiment on the model and dataset loaded now: they keep those, whatever the
 *  panels load while they wait. */
function queue(settings: RunSettings[]): void {
  const { experiment: e, model, data } = useStore.getState();
  if (!model.bytes || !model.sha256 || !data.source) return;
  const inputs = { model: model.bytes, data: data.source };
  const runs = newRuns(e, model.sha256, settings);
  useStore.getState().addRuns(runs, true);
  void saveRuns(runs.map((r) => r.id));
  queueRuns(
    runs.map((r) => r.id),
    inputs,
  );
}

export function train(): void {
  queue([settingsOf(useStore.getState().experiment)]);
}

/** StochCA and fine-tuning with the same seed, split and images (the split depends only on the seed). */
export function compare(): void {
  const s = settingsOf(useStore.getState().experiment);
  queue([
    { ...s, method: 'stochca', p: s.method === 'stochca' && s.p > 0 ? s.p : 0.1 },
    { ...s, method: 'finetune' },
  ]);
}
