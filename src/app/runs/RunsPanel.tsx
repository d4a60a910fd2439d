// The runs: the progress bar of the one in progress (RunProgress, above the curves), and a table
// comparing all of them (best validation accuracy and its step, final accuracy, test accuracy, time),
// with their status and errors; under it, each Compare summed up over its seeds (Comparisons).
import { useShallow } from 'zustand/react/shallow';
import { deleteCheckpoint } from '../../train/opfs-store.ts';
import { useStore } from '../store.ts';
import { activeRun, inProgress, runById } from '../store/selectors.ts';
import { Comparisons } from './Comparisons.tsx';
import { ImportRun } from './ImportRun.tsx';
import { advice, PALETTE, summarize, type RunRecord } from './run-record.ts';
import { useTrainer } from './trainer-context.ts';

const pct = (v?: number) => (v === undefined ? '–' : `${(100 * v).toFixed(1)} %`);

function Progress({ run }: { run: RunRecord }) {
  const last = run.train.at(-1);
  const step = last?.step ?? 0;
  const left =
    last && last.imagesPerSec > 0 ? ((run.settings.steps - step) * run.settings.batch) / last.imagesPerSec : undefined;
  return (
    <div className="progress" data-testid="progress">
      <progress max={run.settings.steps} value={step} />
      <span>
        {run.label}: step <span data-testid="progress-step">{step}</span> / {run.settings.steps}
        {last && (
          <>
            {' '}
            · {last.imagesPerSec.toFixed(1)} images/s{left !== undefined && <> · {Math.ceil(left)} s left</>}
          </>
        )}
        {run.status === 'paused' && ' · paused'}
      </span>
      {run.decode && run.decode.decoded < run.decode.total && (
        <span className="hint" data-testid="decode-progress">
          {' '}
          · first decode: {run.decode.decoded} / {run.decode.total} images, {run.decode.ratePerSec.toFixed(0)}/s,{' '}
          {Math.ceil(run.decode.secondsLeft)} s left
        </span>
      )}
    </div>
  );
}

/** The run in progress, if any: shown above the curves. */
export function RunProgress() {
  const active = useStore(activeRun);
  return active ? <Progress run={active} /> : null;
}

/** One run's row: it renders again when that run changes, not when another one does. */
function RunRow({ id, anyActive }: { id: string; anyActive: boolean }) {
  const r = useStore((s) => runById(s, id));
  const isSelected = useStore((s) => s.selected === id);
  const select = useStore((s) => s.select);
  const removeRun = useStore((s) => s.removeRun);
  const trainer = useTrainer();
  if (!r) return null;
  const s = summarize(r);
  const resumable =
    !r.external &&
    r.checkpointStep !== undefined &&
    r.checkpointStep < r.settings.steps &&
    !anyActive &&
    ['stopped', 'failed', 'interrupted'].includes(r.status);
  const remove = () => {
    removeRun(r.id);
    void deleteCheckpoint(r.id);
  };
  return (
    <tr
      className={isSelected ? 'selected' : undefined}
      onClick={() => select(r.id)}
      data-testid="run-row"
      tabIndex={0}
      aria-selected={isSelected}
      onKeyDown={(e) => e.key === 'Enter' && e.target === e.currentTarget && select(r.id)}
    >
      <td>
        <span className="swatch" style={{ background: PALETTE[r.colour % PALETTE.length] }} /> {r.label}
      </td>
      <td data-testid="run-status">
        {r.status === 'elsewhere' ? 'training in another tab' : r.status}
        {r.external && (
          <div className="hint" data-testid="run-external">
            external: PyTorch on {r.external.host} ({r.external.device}
            {r.external.processes > 1 ? `, ${r.external.processes} processes` : ''})
          </div>
        )}
        {r.warning && (
          <div className="warning" role="status" data-testid="run-warning">
            {r.warning}
          </div>
        )}
        {r.error && (
          <div className="error" role="alert">
            {r.error.message.replace(/\.$/, '')}. {advice(r.error.kind)}
          </div>
        )}
      </td>
      <td data-testid="run-images">{r.info ? `${r.info.counts.train} / ${r.info.counts.val}` : '–'}</td>
      <td data-testid="run-best">{pct(s.bestValAccuracy)}</td>
      <td>{s.bestStep ?? '–'}</td>
      <td>{pct(s.finalAccuracy)}</td>
      <td data-testid="run-test">
        {r.test?.final ? `${pct(r.test.atBest?.accuracy)} / ${pct(r.test.final.accuracy)}` : '–'}
      </td>
      <td>{s.seconds.toFixed(0)} s</td>
      <td>
        {resumable && (
          <button
            type="button"
            onClick={(e) => (e.stopPropagation(), trainer.resumeFromCheckpoint(r))}
            data-testid="resume-checkpoint"
          >
            Resume from step {r.checkpointStep}
          </button>
        )}
        {!inProgress(r) && r.status !== 'elsewhere' && (
          <button type="button" onClick={(e) => (e.stopPropagation(), remove())} aria-label={`Delete ${r.label}`}>
            ✕
          </button>
        )}
      </td>
    </tr>
  );
}

export function RunsPanel() {
  const ids = useStore(useShallow((s) => s.runs.map((r) => r.id)));
  const anyActive = useStore((s) => activeRun(s) !== undefined);
  if (ids.length === 0) {
    return (
      <section aria-label="Runs" className="panel" data-testid="runs-none">
        <h2>Runs</h2>
        <ImportRun />
      </section>
    );
  }
  return (
    <section aria-label="Runs" className="panel" data-testid="runs">
      <h2>Runs</h2>
      <table className="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Status</th>
            <th>Images (train / val)</th>
            <th>Best validation</th>
            <th>at step</th>
            <th>Final validation</th>
            <th title="Scored once the run finished: the best-validation weights, then the final ones">
              Test (best val / final)
            </th>
            <th>Time</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {ids.map((id) => (
            <RunRow key={id} id={id} anyActive={anyActive} />
          ))}
        </tbody>
      </table>
      <Comparisons />
      <ImportRun />
    </section>
  );
}
