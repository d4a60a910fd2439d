// The selected run's confusion matrix on the validation split after it ends, per-class accuracy
// beside it; a cell opens the images misclassified that way.
import { useState } from 'react';
import { MAX_MISTAKES } from '../../train/records.ts';
import { rgbaToDataUrl } from '../sources/data-source.ts';
import { useStore } from '../store.ts';

export function ConfusionMatrix() {
  const run = useStore((s) => s.runs.find((r) => r.id === s.selected));
  const [cell, setCell] = useState<[number, number] | undefined>();
  if (!run?.confusion || !run.info) return null;
  const classes = run.info.classes;
  const m = run.confusion;
  const max = Math.max(1, ...m.flat());
  const size = run.info.config.imageSize;
  const mistakes = cell ? (run.mistakes ?? []).filter((x) => x.label === cell[0] && x.predicted === cell[1]) : [];
  return (
    <section aria-label="Confusion matrix" className="panel" data-testid="confusion">
      <h2>Confusion matrix: {run.label}</h2>
      <p className="hint">rows: true class, columns: predicted; validation images. Click a cell to see its images.</p>
      <table className="confusion">
        <thead>
          <tr>
            <th />
            {classes.map((c) => (
              <th key={c}>{c}</th>
            ))}
            <th>accuracy</th>
          </tr>
        </thead>
        <tbody>
          {m.map((row, i) => {
            const total = row.reduce((a, b) => a + b, 0);
            return (
              <tr key={classes[i]}>
                <th>{classes[i]}</th>
                {row.map((v, j) => (
                  <td
                    key={j}
                    style={{ background: `rgba(${i === j ? '31,119,180' : '214,39,40'},${v / max})` }}
                    onClick={() => setCell(i !== j && v > 0 ? [i, j] : undefined)}
                    className={i !== j && v > 0 ? 'clickable' : undefined}
                    data-testid={`cell-${i}-${j}`}
                  >
                    {v}
                  </td>
                ))}
                <td>{total ? `${((100 * row[i]) / total).toFixed(1)} %` : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {cell && (
        <div data-testid="mistakes">
          <h3>
            {classes[cell[0]]} taken for {classes[cell[1]]} ({mistakes.length}
            {run.mistakes && run.mistakes.length >= MAX_MISTAKES ? `, of the first ${MAX_MISTAKES} mistakes` : ''})
          </h3>
          <div className="thumbs">
            {mistakes.map((x) => (
              <img key={x.path} src={rgbaToDataUrl(x.pixels, size)} alt={x.path} title={x.path} width={56} height={56} />
            ))}
          </div>
        </div>
      )}
    </section>
  );
}
