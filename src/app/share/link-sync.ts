// The URL hash and the page: a link opened restores its experiment (every value checked, notices
// for what was not used), loads a built-in model and dataset it names, asks for local files and
// URLs instead of fetching them, and shows the results it carries. Afterwards the hash follows the
// fields as they change.
import type { DataRef, Experiment, ModelRef } from '../../train/settings.ts';
import { experimentErrors } from '../../train/settings.ts';
import { experimentFromHash, experimentToHash, type SharedResults } from '../share-link.ts';
import { PALETTE, type RunRecord } from '../runs/run-record.ts';
import { loadPack } from '../sources/data-source.ts';
import { loadBuiltinModel } from '../sources/model-source.ts';
import { describeData, describeModel } from '../sources/refs.ts';
import { useStore } from '../store.ts';

/** What a link's model that is not loaded from the link asks the person to do. */
const MODEL_ASK: Record<Exclude<ModelRef['kind'], 'builtin'>, string> = {
  url: 'press Fetch in the model panel to download it',
  hub: "press its button in the model panel's zoo to load it",
  file: 'drop the same file in the model panel',
};

/** Runs shown from a link's results: curves and summary only, nothing to resume or export. */
function sharedRuns(results: SharedResults, e: Experiment): RunRecord[] {
  const { model: _m, data: _d, ...settings } = e;
  return results.runs.map((s, i) => ({
    id: `shared-${i}`,
    label: `${s.label} (shared)`,
    colour: (i + 5) % PALETTE.length,
    model: e.model,
    data: e.data,
    settings: { ...settings, method: s.method, p: s.p, seed: s.seed },
    status: 'shared',
    createdAt: 0,
    train: s.curves.train.map(([step, loss, accuracy]) => ({
      step,
      loss,
      accuracy,
      lr: NaN,
      mask: '',
      epoch: 0,
      imagesPerSec: 0,
      seconds: (s.summary.seconds * step) / Math.max(1, s.curves.train.at(-1)?.[0] ?? 1),
    })),
    val: s.curves.val.map(([step, loss, accuracy]) => ({ step, loss, accuracy, count: 0 })),
  }));
}

/** Restores the experiment in the hash (or the defaults) and loads what it names that may be loaded. */
export function openFromHash(hash: string): void {
  const store = useStore.getState();
  const opened = experimentFromHash(hash);
  const e = opened.experiment;
  store.setExperiment(e);
  const notices = opened.notices.map((n) => `Link: ${n}`);
  if (e.model.kind !== 'builtin')
    notices.push(`This experiment uses ${describeModel(e.model)}: ${MODEL_ASK[e.model.kind]}.`);
  if (e.data.kind !== 'pack')
    notices.push(
      `This experiment uses ${describeData(e.data)}: ${e.data.kind === 'url' ? 'press Fetch in the dataset panel to download it' : 'drop the same files in the dataset panel'}.`,
    );
  // All in one update: each update of the store renders the page again.
  store.notify(...notices);
  if (opened.results) store.addShared(sharedRuns(opened.results, e));

  if (e.model.kind === 'builtin') void loadBuiltinModel(e.model.id);
  else store.setModel({ status: 'none', ref: e.model, name: '', message: undefined });
  if (e.data.kind === 'pack') void loadPack(e.data.id);
  else store.setData({ status: 'none', ref: e.data, name: '' });
}

/** A reference to a local model file or dataset, which a link names by its SHA-256. */
const localRef = (r: ModelRef | DataRef) => (r.kind === 'file' || r.kind === 'local' ? r : undefined);

/** Keeps experiment.model/data equal to what is loaded, warns when the first file loaded after a
 *  link is not the one the link named, and mirrors the experiment into the hash. */
export function syncHash(): () => void {
  const opened = useStore.getState().experiment;
  // What the link asked for, until the first model (dataset) is loaded.
  const wanted = { model: localRef(opened.model)?.sha256, data: localRef(opened.data)?.sha256 };
  const what = { model: 'file', data: 'dataset' } as const;
  return useStore.subscribe((s, prev) => {
    for (const key of ['model', 'data'] as const) {
      if (s[key].status !== 'ready' || prev[key].status === 'ready') continue;
      const { ref } = s[key];
      const loaded = localRef(ref);
      if (wanted[key] && loaded && wanted[key] !== loaded.sha256) {
        s.notify(
          `'${loaded.name}' is not the ${what[key]} the link was made with (its SHA-256 differs): results may differ.`,
        );
      }
      wanted[key] = undefined;
      s.adoptSources({ [key]: ref });
    }
    if (s.experiment !== prev.experiment && Object.keys(experimentErrors(s.experiment)).length === 0) {
      history.replaceState(null, '', experimentToHash(s.experiment));
    }
  });
}
