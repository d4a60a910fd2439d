// The benchmarks' aligned tables, printed one row per case as it finishes: the kernel benchmark's here
// (the training benchmark's in train-table.ts), each a case and shape column, then its own columns.
import type { AdapterFields, CaseInfo, KernelResult } from './page.ts';

/** Three significant digits, without exponents. */
export function num(x: number | null): string {
  if (x === null) return '-';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

export interface Column<R> {
  title: string;
  cell: (r: R) => string;
}

/** The adapter's vendor, architecture and description, '(none)' for what it leaves empty. */
export const adapterName = (a: AdapterFields) =>
  [a.vendor, a.architecture, a.description].map((s) => s || '(none)').join(' / ');

/** A table's header (its notes, a blank line, the column titles) and rows: the case's name and shape
 *  left-aligned, then each column right-aligned to its title and at least `width` characters. */
export function caseTable<R extends CaseInfo>(cases: CaseInfo[], columns: Column<R>[], width: number, notes: string[]) {
  const nameWidth = Math.max(4, ...cases.map((c) => c.name.length));
  const shapeWidth = Math.max(5, ...cases.map((c) => c.shape.length));
  const line = (name: string, shape: string, cells: string[]) =>
    [
      name.padEnd(nameWidth),
      shape.padEnd(shapeWidth),
      ...cells.map((s, i) => s.padStart(Math.max(width, columns[i].title.length))),
    ]
      .join('  ')
      .trimEnd();
  return {
    header: [
      ...notes,
      '',
      line(
        'case',
        'shape',
        columns.map((c) => c.title),
      ),
    ],
    row: (r: R) =>
      line(
        r.name,
        r.shape,
        columns.map((c) => c.cell(r)),
      ),
  };
}

const COLUMNS: Column<KernelResult>[] = [
  { title: 'reps', cell: (r) => String(r.reps) },
  { title: 'ms', cell: (r) => num(r.ms) },
  { title: 'gpu ms', cell: (r) => num(r.gpu_ms) },
  { title: 'GFLOP/s', cell: (r) => num(r.gflops) },
  { title: 'tfjs reps', cell: (r) => String(r.tfjs_reps) },
  { title: 'tfjs ms', cell: (r) => num(r.tfjs_ms) },
  { title: 'tfjs GFLOP/s', cell: (r) => num(r.tfjs_gflops) },
  { title: 'ratio', cell: (r) => `${r.ratio.toFixed(2)}x` },
];

export function kernelTable(adapter: AdapterFields, cases: CaseInfo[]) {
  return caseTable(cases, COLUMNS, 8, [
    `adapter (vendor / architecture / description): ${adapterName(adapter)} (GPU timestamps: ${adapter.timestamps ? 'yes' : 'no'}; kernel layout: ${adapter.layout})`,
    'ms: wall-clock per repetition; ratio = tfjs ms / ms (above 1: the engine is faster than TensorFlow.js webgpu)',
  ]);
}
