// Export and share: the selected run's model, final or at its best validation accuracy (safetensors, ONNX), every run's curves (CSV, JSON),
// the experiment (JSON) or the experiment for PyTorch (a zip, torch-bundle.ts), and a link that carries the experiment and, optionally, the results.
import { useState } from 'react';
import { experimentErrors, experimentJson } from '../../train/settings.ts';
import { downsample, experimentToHash, MAX_CURVE_POINTS, type SharedResults } from '../share-link.ts';
import { curvesCsv, curvesJson, download, exportModel, type WhichModel } from '../runs/exports.ts';
import { summarize, type RunRecord } from '../runs/run-record.ts';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store.ts';
import { ownRuns, selectedRun } from '../store/selectors.ts';
import { errorMessage } from '../../gpu/error-message.ts';

function resultsOf(runs: RunRecord[]): SharedResults | undefined {
  const done = runs.filter((r) => r.status !== 'shared' && r.train.length > 0);
  if (done.length === 0) return undefined;
  return {
    runs: done.map((r) => {
      const s = summarize(r);
      return {
        label: r.label,
        method: r.settings.method,
        p: r.settings.p,
        seed: r.settings.seed,
        summary: {
          bestValAccuracy: s.bestValAccuracy ?? 0,
          bestStep: s.bestStep ?? 0,
          finalAccuracy: s.finalAccuracy ?? 0,
          seconds: s.seconds,
        },
        curves: {
          train: downsample(
            r.train.map((p) => [p.step, p.loss, p.accuracy] as [number, number, number]),
            MAX_CURVE_POINTS,
          ),
          val: downsample(
            r.val.map((p) => [p.step, p.loss, p.accuracy] as [number, number, number]),
            MAX_CURVE_POINTS,
          ),
        },
      };
    }),
  };
}

export function SharePanel() {
  const experiment = useStore((s) => s.experiment);
  // The selected run as the model buttons need it: the same while its curves grow between evaluations.
  const selected = useStore(
    useShallow((s) => {
      const r = selectedRun(s);
      return r && r.status !== 'shared'
        ? { id: r.id, label: r.label, checkpointStep: r.checkpointStep, val: r.val }
        : undefined;
    }),
  );
  const hasOwn = useStore((s) => ownRuns(s).length > 0);
  const hasCurves = useStore((s) => ownRuns(s).some((r) => r.train.length > 0));
  const notify = useStore((s) => s.notify);
  const [link, setLink] = useState('');
  const [which, setWhich] = useState<WhichModel>('final');
  // The best step depends on the evaluations alone.
  const bestStep = selected ? summarize({ train: [], val: selected.val }).bestStep : undefined;
  const valid = Object.keys(experimentErrors(experiment)).length === 0;
  const loaded = useStore((s) => s.model.status === 'ready' && s.data.status === 'ready');
  // The runs' curves as they are at the click.
  const own = () => ownRuns(useStore.getState());

  const share = (withResults: boolean) => {
    try {
      const url = `${location.origin}${location.pathname}${experimentToHash(experiment, withResults ? resultsOf(useStore.getState().runs) : undefined)}`;
      setLink(url);
      void navigator.clipboard?.writeText(url).catch(() => undefined);
    } catch (e) {
      notify(`Cannot make a link: ${errorMessage(e)}`);
    }
  };
  const model = (format: 'safetensors' | 'onnx') =>
    selected && exportModel(selected, format, which).catch((e: unknown) => notify(`Export failed: ${errorMessage(e)}`));

  return (
    <section aria-label="Export and share" className="panel" data-testid="share">
      <h2>Export and share</h2>
      <div className="row">
        <select
          value={which}
          onChange={(e) => setWhich(e.target.value as WhichModel)}
          aria-label="Which model to export"
          data-testid="export-which"
        >
          <option value="final">final model</option>
          <option value="best" disabled={bestStep === undefined}>
            model at best validation{bestStep !== undefined ? ` (step ${bestStep})` : ''}
          </option>
        </select>
        <button
          type="button"
          disabled={!selected?.checkpointStep}
          onClick={() => void model('safetensors')}
          data-testid="export-safetensors"
        >
          Model (.safetensors)
        </button>
        <button
          type="button"
          disabled={!selected?.checkpointStep}
          onClick={() => void model('onnx')}
          data-testid="export-onnx"
        >
          Model (ONNX)
        </button>
        <button
          type="button"
          disabled={!hasOwn}
          onClick={() => download('curves.csv', curvesCsv(own()), 'text/csv')}
          data-testid="export-csv"
        >
          Curves (CSV)
        </button>
        <button
          type="button"
          disabled={!hasOwn}
          onClick={() => download('curves.json', curvesJson(own()), 'application/json')}
          data-testid="export-json"
        >
          Curves (JSON)
        </button>
        <button
          type="button"
          onClick={() => download('experiment.json', experimentJson(experiment), 'application/json')}
          data-testid="export-experiment"
        >
          Experiment (JSON)
        </button>
        <button
          type="button"
          disabled={!valid || !loaded}
          title="The experiment, its split, its starting model and a PyTorch script that runs it under torchrun, as a zip"
          // Its own chunk, loaded on the first click: the exporter loads the model as the engine does.
          onClick={() =>
            void import('./torch-bundle.ts')
              .then((m) => m.exportForTorch())
              .catch((e: unknown) => notify(`Export failed: ${errorMessage(e)}`))
          }
          data-testid="export-torch"
        >
          Export for PyTorch
        </button>
      </div>
      {selected && (
        <p className="hint">
          The model buttons export {selected.label}{' '}
          {which === 'best' && bestStep !== undefined
            ? `at its best validation accuracy (step ${bestStep})`
            : `at its last checkpoint (step ${selected.checkpointStep ?? '–'})`}
          .
        </p>
      )}
      <div className="row">
        <button type="button" disabled={!valid} onClick={() => share(false)} data-testid="share-link">
          Link to this experiment
        </button>
        <button type="button" disabled={!valid || !hasCurves} onClick={() => share(true)} data-testid="share-results">
          Link with results
        </button>
      </div>
      {link && (
        <input
          className="link"
          readOnly
          value={link}
          onFocus={(e) => e.target.select()}
          data-testid="link"
          aria-label="Share link"
        />
      )}
    </section>
  );
}
