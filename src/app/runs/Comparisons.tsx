// Under the runs table: each Compare summed up over its seeds (comparison.ts): per method, the mean ± std
// of the best validation accuracy and of the test accuracy over the seeds that finished, and StochCA −
// fine-tuning paired by seed with its 95 % interval.
import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store.ts';
import { comparisons, differenceText, seedsText, spreadText } from './comparison.ts';
import { PALETTE } from './run-record.ts';

export function Comparisons() {
  // Only the runs of comparisons: a run trained alone changes nothing here.
  const runs = useStore(useShallow((s) => s.runs.filter((r) => r.comparison !== undefined)));
  const list = useMemo(() => comparisons(runs), [runs]);
  if (list.length === 0) return null;
  return (
    <table className="runs comparisons" aria-label="Comparisons over seeds">
      <thead>
        <tr>
          <th>Compare</th>
          <th>Seeds</th>
          <th>Best validation (mean ± std)</th>
          <th title="The best-validation weights, scored once each run finished">Test (mean ± std)</th>
        </tr>
      </thead>
      {list.map((c) => {
        const hasTest = c.arms.some((a) => a.test.size > 0);
        const seeds = c.seeds.length > 1 ? `seeds ${c.seeds[0]}–${c.seeds.at(-1)}` : `seed ${c.seeds[0]}`;
        return (
          <tbody key={c.id} data-testid="comparison">
            {c.arms.map((a) => (
              <tr key={a.label} data-testid="comparison-arm">
                <td>
                  <span className="swatch" style={{ background: PALETTE[a.colour % PALETTE.length] }} /> {a.label}
                  {' · '}
                  {seeds}
                </td>
                <td data-testid="arm-seeds">{seedsText(a.best.size, a.seeds)}</td>
                <td data-testid="arm-best">{spreadText(a.best.values())}</td>
                <td data-testid="arm-test">{hasTest ? spreadText(a.test.values()) : '–'}</td>
              </tr>
            ))}
            {c.difference && (
              <tr>
                <td colSpan={4} data-testid="comparison-difference">
                  StochCA − fine-tuning, paired by seed (95 % interval): best validation{' '}
                  {differenceText(c.difference.best)}
                  {hasTest && c.difference.test && <>; test {differenceText(c.difference.test)}</>}
                </td>
              </tr>
            )}
          </tbody>
        );
      })}
    </table>
  );
}
