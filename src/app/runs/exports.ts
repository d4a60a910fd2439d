// Files a person can take away: a run's fine-tuned model (safetensors with the names it was loaded
// with, or ONNX), the curves of every run (CSV, JSON) and the experiment (JSON).
import { loadModelFile } from '../../checkpoint/model-file.ts';
import { exportOnnx } from '../../checkpoint/onnx-export.ts';
import { loadCheckpointModel } from '../../worker/checkpoint-store.ts';
import type { Experiment } from '../experiment.ts';
import { summarize, type RunRecord } from './run-record.ts';

export function download(name: string, data: BlobPart, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const fileStem = (r: RunRecord) => r.label.replace(/[^\w.=-]+/g, '-').replace(/-+/g, '-');

async function checkpoint(r: RunRecord): Promise<Uint8Array> {
  const bytes = await loadCheckpointModel(r.id);
  if (!bytes) throw new Error(`${r.label} has no saved checkpoint yet (one is written at each evaluation)`);
  return bytes;
}

export async function exportModel(r: RunRecord, format: 'safetensors' | 'onnx'): Promise<void> {
  const bytes = await checkpoint(r);
  if (format === 'safetensors') return download(`${fileStem(r)}.safetensors`, bytes as Uint8Array<ArrayBuffer>);
  const model = loadModelFile(bytes);
  const weights = Object.fromEntries([...model.weights].map(([k, t]) => [k, t.data as Float32Array]));
  download(`${fileStem(r)}.onnx`, exportOnnx(model.config, weights) as Uint8Array<ArrayBuffer>);
}

export function curvesCsv(runs: RunRecord[]): string {
  const rows = ['run,method,p,seed,split,step,seconds,loss,accuracy,lr'];
  for (const r of runs) {
    const head = `"${r.label.replace(/"/g, '""')}",${r.settings.method},${r.settings.p},${r.settings.seed}`;
    for (const t of r.train) rows.push(`${head},train,${t.step},${t.seconds},${t.loss},${t.accuracy},${t.lr}`);
    for (const v of r.val) rows.push(`${head},val,${v.step},,${v.loss},${v.accuracy},`);
  }
  return `${rows.join('\n')}\n`;
}

export function curvesJson(runs: RunRecord[]): string {
  return JSON.stringify(
    runs.map((r) => ({ label: r.label, model: r.model, data: r.data, settings: r.settings, summary: summarize(r), train: r.train, val: r.val, confusion: r.confusion })),
    null,
    1,
  );
}

export const experimentJson = (e: Experiment) => JSON.stringify(e, null, 2);
