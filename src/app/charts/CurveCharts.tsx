// Live curves of every visible run: training loss and accuracy per step (smoothed, the raw line
// faint behind), validation loss and accuracy per evaluation, and the learning rate, as wide as the
// page allows; under the loss, each run's StochCA masks (MaskStrip). The x-axis is the step, the
// epoch or the wall time; the loss may be drawn on a log scale.
import { memo, useDeferredValue, useEffect, useMemo, useState, type ReactNode } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunRecord } from '../runs/run-record.ts';
import { PALETTE } from '../runs/run-record.ts';
import { useStore, type ChartView, type XAxis as Axis } from '../store.ts';
import { downsample as thin } from '../share-link.ts';
import { Choice } from '../Choice.tsx';
import { MaskStrip } from './MaskStrip.tsx';
import { smooth } from './smoothing.ts';

const X_AXES = [
  ['step', 'step'],
  ['epoch', 'epoch'],
  ['time', 'wall time (s)'],
] as const satisfies readonly (readonly [Axis, string])[];

const MAX_POINTS = 200;

/** An axis number in 3 significant digits; small ones as 7.5e-4, which fits the axis where 0.00075 does not. */
const tick = (v: number): string => (v !== 0 && Math.abs(v) < 0.01 ? v.toExponential(1) : String(+v.toPrecision(3)));

type Row = { x: number } & Record<string, number>;

/** x of a step: the step itself, epochs (images seen / training images) or seconds. */
function xOf(run: RunRecord, x: Axis, step: number, seconds?: number): number {
  if (x === 'step') return step;
  if (x === 'time') return seconds ?? run.train.find((p) => p.step === step)?.seconds ?? 0;
  return (step * run.settings.batch) / Math.max(1, run.info?.counts.train ?? 1);
}

interface Series {
  key: string;
  colour: string;
  faint?: boolean;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

/** `smoothing`: of the training lines (the learning rate is never smoothed). */
function series(runs: RunRecord[], x: Axis, smoothing: number, metric: 'loss' | 'accuracy' | 'lr'): Series[] {
  const out: Series[] = [];
  for (const run of runs) {
    const colour = PALETTE[run.colour % PALETTE.length];
    const train = thin(run.train, MAX_POINTS * 4);
    const xs = train.map((p) => xOf(run, x, p.step, p.seconds));
    const raw = train.map((p) => (metric === 'accuracy' ? 100 * p.accuracy : p[metric]));
    if (metric === 'lr') {
      out.push({
        key: `${run.id}:lr`,
        colour,
        points: thin(
          xs.map((px, i) => ({ x: px, y: raw[i] })),
          MAX_POINTS,
        ),
      });
      continue;
    }
    const sm = smooth(raw, smoothing);
    if (smoothing > 0)
      out.push({
        key: `${run.id}:raw`,
        colour,
        faint: true,
        points: thin(
          xs.map((px, i) => ({ x: px, y: raw[i] })),
          MAX_POINTS,
        ),
      });
    out.push({
      key: `${run.id}:train`,
      colour,
      points: thin(
        xs.map((px, i) => ({ x: px, y: sm[i] })),
        MAX_POINTS,
      ),
    });
    out.push({
      key: `${run.id}:val`,
      colour,
      dashed: true,
      points: run.val.map((p) => ({ x: xOf(run, x, p.step), y: metric === 'accuracy' ? 100 * p.accuracy : p.loss })),
    });
  }
  return out;
}

/** `value`, passed on `delayMs` later: charts given different delays redraw in different frames
 *  (recharts redraws in an animation frame; three charts in one frame make one long task). */
function useStaggered<T>(value: T, delayMs: number): T {
  const [shown, setShown] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setShown(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return shown;
}

interface ChartProps {
  title: string;
  series: Series[];
  log?: boolean;
  unit?: string;
  testId: string;
  delayMs: number;
  height: number;
  /** Spans the width of the charts (the loss). */
  wide?: boolean;
  children?: ReactNode;
}

/** One row per x of any series, each series' y under its key (shared link results may repeat a run
 *  id, so keys are per run and kind, never per point): recharts then takes new points as one change of
 *  the chart's data instead of one per line, and re-renders once. */
function rows(series: Series[], log: boolean): Row[] {
  const byX = new Map<number, Row>();
  for (const s of series) {
    for (const p of s.points) {
      if (log && !(p.y > 0)) continue;
      let row = byX.get(p.x);
      if (!row) byX.set(p.x, (row = { x: p.x } as Row));
      row[s.key] = p.y;
    }
  }
  return [...byX.values()].sort((a, b) => a.x - b.x);
}

const Chart = memo(function Chart({
  title,
  series: fresh,
  log,
  unit,
  testId,
  delayMs,
  height,
  wide,
  children,
}: ChartProps) {
  const data = useStaggered(fresh, delayMs);
  return (
    <figure className={wide ? 'chart wide' : 'chart'} data-testid={testId}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={height}>
        <LineChart margin={{ top: 5, right: 10, bottom: 5, left: 0 }} data={rows(data, log === true)}>
          <CartesianGrid stroke="#eee" />
          <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} tickFormatter={tick} />
          <YAxis
            type="number"
            scale={log ? 'log' : 'auto'}
            domain={['auto', 'auto']}
            unit={unit}
            tickFormatter={tick}
            width={55}
          />
          <Tooltip
            formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))}
            labelFormatter={(v) => `x = ${v}`}
          />
          {data.map((s) => (
            <Line
              key={s.key}
              dataKey={s.key}
              name={s.key.endsWith(':val') ? 'validation' : s.key.endsWith(':raw') ? 'raw' : 'training'}
              stroke={s.colour}
              strokeOpacity={s.faint ? 0.25 : 1}
              strokeDasharray={s.dashed ? '5 3' : undefined}
              dot={s.dashed ? { r: 3 } : false}
              connectNulls
              isAnimationActive={false}
              className={s.key.endsWith(':val') ? 'val-line' : undefined}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      {children}
    </figure>
  );
});

/** The three charts, rendered from deferred state: React renders them in slices between frames,
 *  so new points never hold the main thread for long. Each chart's series are kept while what they are
 *  drawn from stays, so a change of one view setting redraws only the charts it concerns. */
const Charts = memo(function Charts({ runs, view }: { runs: RunRecord[]; view: ChartView }) {
  const { hidden, x, smoothing, logLoss } = view;
  const visible = useMemo(() => runs.filter((r) => !hidden.includes(r.id) && r.train.length > 0), [runs, hidden]);
  const loss = useMemo(() => series(visible, x, smoothing, 'loss'), [visible, x, smoothing]);
  const accuracy = useMemo(() => series(visible, x, smoothing, 'accuracy'), [visible, x, smoothing]);
  const lr = useMemo(() => series(visible, x, 0, 'lr'), [visible, x]);
  const masks = useMemo(() => <MaskStrip runs={visible} />, [visible]);
  return (
    <div className="charts">
      <Chart title="Loss" series={loss} log={logLoss} testId="chart-loss" delayMs={0} height={270} wide>
        {masks}
      </Chart>
      <Chart title="Accuracy (%)" series={accuracy} unit="%" testId="chart-accuracy" delayMs={120} height={150} />
      <Chart title="Learning rate" series={lr} testId="chart-lr" delayMs={240} height={150} />
    </div>
  );
});

export function CurveCharts() {
  // The one panel that draws every run's curves: it follows every change of them.
  const runs = useStore((s) => s.runs);
  const view = useStore((s) => s.view);
  const setView = useStore((s) => s.setView);
  const showRun = useStore((s) => s.showRun);
  const deferredRuns = useDeferredValue(runs);
  const deferredView = useDeferredValue(view);
  return (
    <section aria-label="Curves" className="panel curves" data-testid="charts">
      <h2>Curves</h2>
      <div className="row">
        <Choice label="x-axis" value={view.x} options={X_AXES} onChange={(x) => setView({ x })} testId="x-axis" />
        <label>
          smoothing{' '}
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={view.smoothing}
            onChange={(e) => setView({ smoothing: Number(e.target.value) })}
          />{' '}
          {view.smoothing.toFixed(2)}
        </label>
        <label>
          <input type="checkbox" checked={view.logLoss} onChange={(e) => setView({ logLoss: e.target.checked })} />{' '}
          log-scale loss
        </label>
        <span className="hint">solid: training (smoothed, raw line faint) · dashed with dots: validation</span>
      </div>
      <ul className="legend" data-testid="legend">
        {runs.map((r) => (
          <li key={r.id}>
            <label style={{ color: PALETTE[r.colour % PALETTE.length] }}>
              <input
                type="checkbox"
                checked={!view.hidden.includes(r.id)}
                onChange={(e) => showRun(r.id, e.target.checked)}
              />{' '}
              {r.label}
            </label>
          </li>
        ))}
      </ul>
      <Charts runs={deferredRuns} view={deferredView} />
    </section>
  );
}
