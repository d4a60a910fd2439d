// New run records: the experiment's settings, each run with a colour no other run has (while the
// palette lasts), but for a Compare's runs of one method, which share theirs.
import type { Experiment, RunSettings } from '../../train/settings.ts';
import { methodLabel, PALETTE, runLabel, type RunRecord } from './run-record.ts';

/** The experiment less the model and dataset it names. */
export function settingsOf(e: Experiment): RunSettings {
  const { model: _m, data: _d, ...settings } = e;
  return settings;
}

/** The runs of a Compare: StochCA (at the p set, or 0.1) and fine-tuning, and the linear probe when it is
 *  the method set, on seed, seed + 1, … for the experiment's number of seeds; seed by seed, so a Compare
 *  stopped early leaves whole pairs. Each pair shares its seed, hence its split and images. */
export function compareSettings(e: Experiment): RunSettings[] {
  const s = settingsOf(e);
  const methods: RunSettings[] = [
    { ...s, method: 'stochca', p: s.method === 'stochca' && s.p > 0 ? s.p : 0.1 },
    { ...s, method: 'finetune' },
    ...(s.method === 'linear-probe' ? [s] : []),
  ];
  return Array.from({ length: s.seeds }, (_, i) => methods.map((m) => ({ ...m, seed: s.seed + i }))).flat();
}

/** Queued runs of `list`, coloured apart from the `existing` ones; `comparison`: the Compare they make,
 *  whose seeds of one method are drawn as one curve, in one colour. */
export function newRuns(
  existing: RunRecord[],
  e: Experiment,
  modelSha256: string,
  list: RunSettings[],
  comparison?: string,
): RunRecord[] {
  const used = new Set(existing.map((r) => r.colour));
  const methodColours = new Map<string, number>();
  const now = Date.now();
  return list.map((settings, i) => {
    const method = comparison ? methodLabel(settings) : undefined;
    const colour =
      (method === undefined ? undefined : methodColours.get(method)) ??
      [...PALETTE.keys()].find((c) => !used.has(c)) ??
      (existing.length + i) % PALETTE.length;
    used.add(colour);
    if (method !== undefined) methodColours.set(method, colour);
    return {
      id: crypto.randomUUID(),
      label: runLabel(settings),
      colour,
      model: e.model,
      modelSha256,
      data: e.data,
      settings,
      ...(comparison ? { comparison } : {}),
      status: 'queued',
      // A millisecond apart, so that runs read back from storage (oldest first) queue in this order.
      createdAt: now + i,
      train: [],
      val: [],
    };
  });
}
