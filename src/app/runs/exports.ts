// Files a person can take away: a run's fine-tuned model, final or at its best validation accuracy
// (safetensors with the names it was loaded with, or ONNX), the curves of every run (CSV, JSON) and
// the experiment (JSON, which `stochca train --experiment` reads).
import { loadModelFile } from '../../checkpoint/model-file.ts';
import { exportOnnx } from '../../checkpoint/onnx-export.ts';
import { loadRunModel } from '../../train/opfs-store.ts';
import { summarize, type RunRecord } from './run-record.ts';

export function download(name: string, data: BlobPart, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const fileStem = (r: Pick<RunRecord, 'label'>) => r.label.replace(/[^\w.=-]+/g, '-').replace(/-+/g, '-');

/** 'final': the model at the run's last checkpoint; 'best': at its best validation accuracy. */
export type WhichModel = 'final' | 'best';

async function savedModel(r: Pick<RunRecord, 'id' | 'label'>, which: WhichModel): Promise<Uint8Array> {
  const bytes = await loadRunModel(r.id, which);
  if (!bytes) {
    throw new Error(
      which === 'best'
        ? `${r.label} has no best-validation model yet (one is kept at each better validation accuracy)`
        : `${r.label} has no saved checkpoint yet (one is written at each evaluation)`,
    );
  }
  return bytes;
}

export async function exportModel(
  r: Pick<RunRecord, 'id' | 'label'>,
  format: 'safetensors' | 'onnx',
  which: WhichModel,
): Promise<void> {
  const bytes = await savedModel(r, which);
  const stem = which === 'best' ? `${fileStem(r)}-best` : fileStem(r);
  if (format === 'safetensors') return download(`${stem}.safetensors`, bytes as Uint8Array<ArrayBuffer>);
  const model = loadModelFile(bytes);
  const weights = Object.fromEntries([...model.weights].map(([k, t]) => [k, t.data as Float32Array]));
  download(`${stem}.onnx`, exportOnnx(model.config, weights) as Uint8Array<ArrayBuffer>);
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
    runs.map((r) => ({
      label: r.label,
      model: r.model,
      data: r.data,
      settings: r.settings,
      summary: summarize(r),
      counts: r.info?.counts,
      train: r.train,
      val: r.val,
      test: r.test,
      confusion: r.confusion,
    })),
    null,
    1,
  );
}
