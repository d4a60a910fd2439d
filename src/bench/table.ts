// The kernel benchmark as an aligned table, printed one row per case as it finishes.
import type { AdapterFields, CaseInfo, KernelResult } from './page.ts';

/** Three significant digits, without exponents. */
export function num(x: number | null): string {
  if (x === null) return '-';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

const COLUMNS: { title: string; cell: (r: KernelResult) => string }[] = [
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
  const nameWidth = Math.max(4, ...cases.map((c) => c.name.length));
  const shapeWidth = Math.max(5, ...cases.map((c) => c.shape.length));
  const line = (name: string, shape: string, cells: string[]) =>
    [
      name.padEnd(nameWidth),
      shape.padEnd(shapeWidth),
      ...cells.map((s, i) => s.padStart(Math.max(8, COLUMNS[i].title.length))),
    ]
      .join('  ')
      .trimEnd();
  const title = [adapter.vendor, adapter.architecture, adapter.description].map((s) => s || '(none)').join(' / ');
  return {
    header: [
      `adapter (vendor / architecture / description): ${title} (GPU timestamps: ${adapter.timestamps ? 'yes' : 'no'}; kernel layout: ${adapter.layout})`,
      'ms: wall-clock per repetition; ratio = tfjs ms / ms (above 1: the engine is faster than TensorFlow.js webgpu)',
      '',
      line(
        'case',
        'shape',
        COLUMNS.map((c) => c.title),
      ),
    ],
    row: (r: KernelResult) =>
      line(
        r.name,
        r.shape,
        COLUMNS.map((c) => c.cell(r)),
      ),
  };
}
