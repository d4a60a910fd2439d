// New run records: the experiment's settings, each run with a colour no other run has (while the
// palette lasts).
import type { Experiment, RunSettings } from '../../train/settings.ts';
import { PALETTE, runLabel, type RunRecord } from './run-record.ts';

/** The experiment less the model and dataset it names. */
export function settingsOf(e: Experiment): RunSettings {
  const { model: _m, data: _d, ...settings } = e;
  return settings;
}

/** Queued runs of `list`, coloured apart from the `existing` ones. */
export function newRuns(existing: RunRecord[], e: Experiment, modelSha256: string, list: RunSettings[]): RunRecord[] {
  const used = new Set(existing.map((r) => r.colour));
  const now = Date.now();
  return list.map((settings, i) => {
    const colour = [...PALETTE.keys()].find((c) => !used.has(c)) ?? (existing.length + i) % PALETTE.length;
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
      // A millisecond apart, so that runs read back from storage (oldest first) queue in this order.
      createdAt: now + i,
      train: [],
      val: [],
    };
  });
}
