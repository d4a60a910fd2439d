// The selected run's confusion matrix on the validation split after it ends, per-class accuracy
// beside it; a cell opens the predictions gallery filtered to it.
import { visibleText } from '../../data/visible-text.ts';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store.ts';
import { selectedRun } from '../store/selectors.ts';
import { cellFilter } from './gallery.ts';

export function ConfusionMatrix() {
  const { label, confusion, info, pictured } = useStore(
    useShallow((s) => {
      const r = selectedRun(s);
      return { label: r?.label, confusion: r?.confusion, info: r?.info, pictured: !!r?.predictions?.length };
    }),
  );
  const setGallery = useStore((s) => s.setGallery);
  if (!confusion || !info) return null;
  const classes = info.classes.map(visibleText);
  const m = confusion;
  const max = Math.max(1, ...m.flat());
  const open = (i: number, j: number) => {
    setGallery(cellFilter(i, j));
    document.querySelector('[data-testid=gallery]')?.scrollIntoView({ block: 'nearest' });
  };
  return (
    <section aria-label="Confusion matrix" className="panel" data-testid="confusion">
      <h2>Confusion matrix: {label}</h2>
      <p className="hint">
        rows: true class, columns: predicted; validation images. A cell opens its images in the gallery.
      </p>
      <table className="confusion">
        <thead>
          <tr>
            <th />
            {classes.map((c, j) => (
              <th key={j}>
                <bdi>{c}</bdi>
              </th>
            ))}
            <th>accuracy</th>
          </tr>
        </thead>
        <tbody>
          {m.map((row, i) => {
            const total = row.reduce((a, b) => a + b, 0);
            return (
              <tr key={i}>
                <th>
                  <bdi>{classes[i]}</bdi>
                </th>
                {row.map((v, j) => (
                  <td
                    key={j}
                    style={{ background: `rgba(${i === j ? '31,119,180' : '214,39,40'},${v / max})` }}
                    data-testid={`cell-${i}-${j}`}
                  >
                    {pictured ? (
                      <button
                        type="button"
                        className="cell"
                        onClick={() => open(i, j)}
                        aria-label={`${classes[i]} predicted as ${classes[j]}: ${v} images`}
                      >
                        {v}
                      </button>
                    ) : (
                      v
                    )}
                  </td>
                ))}
                <td>{total ? `${((100 * row[i]) / total).toFixed(1)} %` : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
