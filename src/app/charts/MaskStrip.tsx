// Under the loss curve: for each visible run, which blocks cross-attended to the teacher at each
// step (one row per block, steps left to right, drawn up to the last step trained), and each block's
// share of steps so far against p. The masks come from mask-strip.ts, as the run drew them.
import { memo, useEffect, useMemo, useRef } from 'react';
import { effectiveP } from '../../train/settings.ts';
import { PALETTE, type RunRecord } from '../runs/run-record.ts';
import { crossCounts, maskTable, stripCells } from './mask-strip.ts';

/** Columns of the strip at most: a run of more steps shares a column among several. */
const MAX_COLUMNS = 600;
const ROW_PX = 8;

const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

function RunMask({ run, depth }: { run: RunRecord; depth: number }) {
  const { seed, steps, method, p: given } = run.settings;
  const table = useMemo(() => maskTable({ seed, steps, method, p: given }, depth), [seed, steps, method, given, depth]);
  const upTo = run.train.at(-1)?.step ?? 0;
  const p = effectiveP(run.settings);
  const columns = Math.min(steps, MAX_COLUMNS);
  const colour = PALETTE[run.colour % PALETTE.length];
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const cells = stripCells(table, depth, steps, upTo, columns);
    const image = ctx.createImageData(columns, depth * ROW_PX);
    const [r, g, b] = hex(colour);
    for (let i = 0; i < depth; i++) {
      for (let k = 0; k < columns; k++) {
        const v = cells[i * columns + k];
        // Not trained yet: light grey; otherwise white to the run's colour by the share crossing.
        const rgb = v < 0 ? [243, 244, 246] : [255 + v * (r - 255), 255 + v * (g - 255), 255 + v * (b - 255)];
        for (let y = i * ROW_PX; y < (i + 1) * ROW_PX - 1; y++) image.data.set([...rgb, 255], (y * columns + k) * 4);
        image.data.set([255, 255, 255, 255], (((i + 1) * ROW_PX - 1) * columns + k) * 4); // row gap
      }
    }
    ctx.putImageData(image, 0, 0);
  }, [table, depth, steps, upTo, columns, colour]);
  if (p === 0) {
    return (
      <p className="hint" data-testid="mask-strip" data-run={run.label}>
        <span style={{ color: colour }}>{run.label}</span>: p = 0, no block cross-attends.
      </p>
    );
  }
  const counts = crossCounts(table, depth, upTo);
  return (
    <figure className="mask-strip" data-testid="mask-strip" data-run={run.label}>
      <figcaption>
        <span style={{ color: colour }}>{run.label}</span>: blocks cross-attending to the teacher, steps 1–{upTo} of{' '}
        {steps}
      </figcaption>
      <div className="mask-rows">
        <canvas
          ref={ref}
          width={columns}
          height={depth * ROW_PX}
          style={{ height: depth * ROW_PX * 2 }}
          role="img"
          aria-label={`masks of ${run.label}, one row per block`}
        />
        <ol className="mask-shares">
          {counts.map((n, i) => (
            <li
              key={i}
              style={{ height: ROW_PX * 2 }}
              data-testid="mask-share"
              data-block={i}
              data-crossed={n}
              data-steps={upTo}
            >
              block {i + 1}: {upTo ? `${((100 * n) / upTo).toFixed(0)} %` : '–'}{' '}
              <small>
                ({n}/{upTo}, p = {p})
              </small>
            </li>
          ))}
        </ol>
      </div>
    </figure>
  );
}

/** The strips of the runs shown on the charts whose model is known (its depth). */
export const MaskStrip = memo(function MaskStrip({ runs }: { runs: RunRecord[] }) {
  const known = runs.filter((r) => r.info);
  if (known.length === 0) return null;
  return (
    <div className="mask-strips" data-testid="mask-strips">
      {known.map((r) => (
        <RunMask key={r.id} run={r} depth={r.info!.config.depth} />
      ))}
    </div>
  );
});
