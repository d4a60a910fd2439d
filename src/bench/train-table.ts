// The training benchmark as an aligned table, printed one row per case as it finishes.
import type { AdapterFields, CaseInfo, TrainResult } from './page.ts';
import { adapterName, caseTable, num, type Column } from './table.ts';

const ratio = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)}x`);

const COLUMNS: Column<TrainResult>[] = [
  { title: 'batch', cell: (r) => String(r.batch) },
  { title: 'steps', cell: (r) => String(r.steps) },
  { title: 'cross', cell: (r) => String(r.cross_blocks) },
  { title: 'img/s', cell: (r) => num(r.images_per_s) },
  { title: 'GFLOP/s', cell: (r) => num(r.gflops) },
  { title: 'tfjs img/s', cell: (r) => num(r.tfjs_images_per_s) },
  { title: 'tfjs GFLOP/s', cell: (r) => num(r.tfjs_gflops) },
  { title: 'ratio', cell: (r) => ratio(r.ratio) },
  { title: 'cost', cell: (r) => ratio(r.cost_vs_finetune) },
  { title: 'tfjs cost', cell: (r) => ratio(r.tfjs_cost_vs_finetune) },
  { title: 'planned MiB', cell: (r) => num(r.planned_bytes / 2 ** 20) },
  { title: 'loss Δ', cell: (r) => (Math.abs(r.loss - r.tfjs_loss) / Math.abs(r.tfjs_loss)).toExponential(0) },
];

export function trainTable(adapter: AdapterFields, cases: CaseInfo[]) {
  return caseTable(cases, COLUMNS, 5, [
    `adapter (vendor / architecture / description): ${adapterName(adapter)} (kernel layout: ${adapter.layout})`,
    'one step = teacher forward up to the deepest cross-attending block + student forward + backward + AdamW;',
    "linear-probe: the forward, then the head's gradients and AdamW alone (TF.js: the head's variables alone);",
    'img/s: batch / wall-clock per step, each step run to completion, the engines alternating step by step (same masks);',
    'cross: cross-attending blocks summed over the timed steps;',
    'GFLOP/s: matmul and attention FLOPs only; ratio = img/s / tfjs img/s (above 1: the engine is faster than TensorFlow.js webgpu);',
    "cost: time per step / the same model's finetune; planned: plan.bytes.total; loss Δ: relative difference of the first step's losses",
  ]);
}
