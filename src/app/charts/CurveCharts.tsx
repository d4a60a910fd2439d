// Live curves of every visible run: training loss and accuracy per step (smoothed, the raw line
// faint behind), validation loss and accuracy per evaluation, and the learning rate, as wide as the
// page allows; under the loss, each run's StochCA masks (MaskStrip). The x-axis is the step, the
// epoch or the wall time; the loss may be drawn on a log scale.
import { memo, useDeferredValue, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Area, CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunRecord } from '../runs/run-record.ts';
import { PALETTE } from '../runs/run-record.ts';
import { useStore, type ChartView, type XAxis as Axis } from '../store.ts';
import { downsample as thin } from '../share-link.ts';
import { Choice } from '../Choice.tsx';
import { MaskStrip } from './MaskStrip.tsx';
import { curveGroups, meanBand, type CurvePoint } from './seed-bands.ts';
import { smooth } from './smoothing.ts';

const X_AXES = [
  ['step', 'step'],
  ['epoch', 'epoch'],
  ['time', 'wall time (s)'],
] as const satisfies readonly (readonly [Axis, string])[];

const MAX_POINTS = 200;

/** An axis number in 3 significant digits; small ones as 7.5e-4, which fits the axis where 0.00075 does not. */
const tick = (v: number): string => (v !== 0 && Math.abs(v) < 0.01 ? v.toExponential(1) : String(+v.toPrecision(3)));

type Row = { x: number } & Record<string, number | [number, number]>;

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
  /** A band of mean ± std over a comparison's seeds: each point's y is [low, high]. */
  band?: boolean;
  /** Its name in the tooltip. */
  name: string;
  points: { x: number; y: number | [number, number] }[];
}

const metricOf = (metric: 'loss' | 'accuracy' | 'lr', p: { loss: number; accuracy: number; lr?: number }) =>
  metric === 'accuracy' ? 100 * p.accuracy : metric === 'lr' ? (p.lr ?? NaN) : p.loss;

/** A run's training curve at full resolution, smoothed with `smoothing` (never the learning rate). */
function trainCurve(run: RunRecord, x: Axis, smoothing: number, metric: 'loss' | 'accuracy' | 'lr'): CurvePoint[] {
  const ys = smooth(
    run.train.map((p) => metricOf(metric, p)),
    metric === 'lr' ? 0 : smoothing,
  );
  return run.train.map((p, i) => ({ step: p.step, x: xOf(run, x, p.step, p.seconds), y: ys[i] }));
}

const valCurve = (run: RunRecord, x: Axis, metric: 'loss' | 'accuracy'): CurvePoint[] =>
  run.val.map((p) => ({ step: p.step, x: xOf(run, x, p.step), y: metricOf(metric, p) }));

/** The runs of one method of a comparison over several seeds: the mean line of each curve, in a band. */
function seedSeries(
  runs: RunRecord[],
  x: Axis,
  smoothing: number,
  metric: 'loss' | 'accuracy' | 'lr',
  colour: string,
): Series[] {
  const key = `${runs[0].id}:seeds`;
  // A band is drawn within what the metric can be: mean ± std of accuracies near 100 % would pass it.
  const [floor, ceiling] = metric === 'accuracy' ? [0, 100] : [0, Infinity];
  const both = (kind: 'train' | 'val', curves: CurvePoint[][], max: number): Series[] => {
    const mean = thin(meanBand(curves), max);
    const what = kind === 'train' ? 'training' : 'validation';
    return [
      {
        key: `${key}:${kind}-band`,
        colour,
        band: true,
        name: `${what}: mean ± std over the seeds`,
        points: mean.map((p) => ({ x: p.x, y: [Math.max(floor, p.low), Math.min(ceiling, p.high)] })),
      },
      {
        key: `${key}:${kind}`,
        colour,
        dashed: kind === 'val',
        name: `${what}: mean over the seeds`,
        points: mean.map((p) => ({ x: p.x, y: p.y })),
      },
    ];
  };
  const train = runs.map((r) => trainCurve(r, x, smoothing, metric));
  // The seeds share their schedule: one line.
  if (metric === 'lr')
    return [
      {
        key: `${key}:lr`,
        colour,
        name: 'learning rate',
        points: thin(meanBand(train), MAX_POINTS).map((p) => ({ x: p.x, y: p.y })),
      },
    ];
  return [
    ...both('train', train, MAX_POINTS),
    ...both(
      'val',
      runs.map((r) => valCurve(r, x, metric)),
      MAX_POINTS,
    ),
  ];
}

/** `smoothing`: of the training lines (the learning rate is never smoothed). `all`: every run, shown or
 *  not, which tells a comparison's number of seeds. */
function series(
  runs: RunRecord[],
  all: RunRecord[],
  x: Axis,
  smoothing: number,
  metric: 'loss' | 'accuracy' | 'lr',
): Series[] {
  const out: Series[] = [];
  for (const group of curveGroups(runs, all)) {
    const run = group[0];
    const colour = PALETTE[run.colour % PALETTE.length];
    if (group.length > 1) {
      out.push(...seedSeries(group, x, smoothing, metric, colour));
      continue;
    }
    const train = thin(run.train, MAX_POINTS * 4);
    const xs = train.map((p) => xOf(run, x, p.step, p.seconds));
    const raw = train.map((p) => metricOf(metric, p));
    if (metric === 'lr') {
      out.push({
        key: `${run.id}:lr`,
        colour,
        name: 'learning rate',
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
        name: 'raw',
        points: thin(
          xs.map((px, i) => ({ x: px, y: raw[i] })),
          MAX_POINTS,
        ),
      });
    out.push({
      key: `${run.id}:train`,
      colour,
      name: 'training',
      points: thin(
        xs.map((px, i) => ({ x: px, y: sm[i] })),
        MAX_POINTS,
      ),
    });
    out.push({
      key: `${run.id}:val`,
      colour,
      dashed: true,
      name: 'validation',
      points: valCurve(run, x, metric).map((p) => ({ x: p.x, y: p.y })),
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
      if (log && !((Array.isArray(p.y) ? p.y[0] : p.y) > 0)) continue;
      let row = byX.get(p.x);
      if (!row) byX.set(p.x, (row = { x: p.x } as Row));
      row[s.key] = p.y;
    }
  }
  return [...byX.values()].sort((a, b) => a.x - b.x);
}

/** A tooltip's value: a line's in 4 significant digits, a band's as its two ends. */
function tooltipValue(v: unknown): string {
  const p = (n: unknown) => (typeof n === 'number' ? n.toPrecision(4) : String(n));
  return Array.isArray(v) ? `${p(v[0])} – ${p(v[1])}` : p(v);
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
        <ComposedChart margin={{ top: 5, right: 10, bottom: 5, left: 0 }} data={rows(data, log === true)}>
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
          <Tooltip formatter={(v) => tooltipValue(v)} labelFormatter={(v) => `x = ${v}`} />
          {data.map((s) =>
            s.band ? (
              <Area
                key={s.key}
                dataKey={s.key}
                name={s.name}
                stroke="none"
                fill={s.colour}
                fillOpacity={0.15}
                connectNulls
                isAnimationActive={false}
                activeDot={false}
                className="seed-band"
              />
            ) : (
              <Line
                key={s.key}
                dataKey={s.key}
                name={s.name}
                stroke={s.colour}
                strokeOpacity={s.faint ? 0.25 : 1}
                strokeDasharray={s.dashed ? '5 3' : undefined}
                dot={s.dashed ? { r: 3 } : false}
                connectNulls
                isAnimationActive={false}
                className={s.key.endsWith(':val') ? 'val-line' : undefined}
              />
            ),
          )}
        </ComposedChart>
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
  const loss = useMemo(() => series(visible, runs, x, smoothing, 'loss'), [visible, runs, x, smoothing]);
  const accuracy = useMemo(() => series(visible, runs, x, smoothing, 'accuracy'), [visible, runs, x, smoothing]);
  const lr = useMemo(() => series(visible, runs, x, 0, 'lr'), [visible, runs, x]);
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
  const overSeeds = useMemo(() => curveGroups(runs).some((g) => g.length > 1), [runs]);
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
        {overSeeds && (
          <span className="hint" data-testid="band-hint">
            · a Compare over several seeds: each method&apos;s mean, in a band of mean ± std over the seeds that reached
            the step
          </span>
        )}
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
