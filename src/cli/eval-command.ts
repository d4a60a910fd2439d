// `stochca eval`: a checkpoint on a whole image folder or zip, at the checkpoint's own input
// size and normalisation: top-1 accuracy, per-class accuracy and the confusion matrix.
import { Batcher } from '../data/batcher.ts';
import { cacheSizeFor } from '../data/augment.ts';
import { nodeDecoder } from '../data/decode-node.ts';
import { DatasetError, selectImages } from '../data/entries.ts';
import { openDataPath } from '../data/folder-source.ts';
import { isDataUrl, urlTree } from '../data/url-source.ts';
import { imageFolder } from '../data/layout.ts';
import { evaluateSplit } from '../train/evaluate.ts';
import type { EngineHost } from './engine-host.ts';
import type { ModelArgs } from '../train/engine-api.ts';

export interface EvalReport {
  accuracy: number;
  count: number;
  /** The model's classes, in its output order. */
  classes: string[];
  perClass: { name: string; accuracy: number | null; count: number }[];
  /** confusion[true][predicted], over the model's classes. */
  confusion: number[][];
  skipped: { path: string; reason: string }[];
}

/** Which images of a folder with train/, val/ and test/ folders are evaluated; 'all' for a plain folder. */
export type EvalSplit = 'all' | 'train' | 'val' | 'test';

export async function evalCommand(
  host: EngineHost,
  o: ModelArgs & { data: string; batch: number; split: EvalSplit },
): Promise<EvalReport> {
  const info = await host.call('evalStart', {
    model: o.model,
    config: o.config,
    heads: o.heads,
    normalization: o.normalization,
    batch: o.batch,
  });
  const folder = imageFolder(selectImages(await (isDataUrl(o.data) ? urlTree(o.data) : openDataPath(o.data))));
  const C = info.config.numClasses;
  const classes = info.classNames ?? folder.classes;
  // Data classes map to the model's outputs by name when the checkpoint names them, else by order.
  const toModel = folder.classes.map((name) => classes.indexOf(name));
  const unknown = folder.classes.filter((_, i) => toModel[i] < 0);
  if (unknown.length || (!info.classNames && folder.classes.length !== C)) {
    throw new DatasetError(
      info.classNames
        ? `the data has classes the model does not know: ${unknown.map((n) => `'${n}'`).join(', ')}`
        : `the data has ${folder.classes.length} classes and the model ${C} outputs (and no class names to match them by)`,
    );
  }
  if (o.split !== 'all' && !folder.splitFolders)
    throw new DatasetError(`--split ${o.split} needs train/, val/ or test/ folders in the data`);
  const chosen = o.split === 'all' ? [...folder.train, ...folder.val, ...folder.test] : folder[o.split];
  if (chosen.length === 0) throw new DatasetError(`the data has no ${o.split} images`);
  const samples = chosen.map((s) => ({ ...s, label: toModel[s.label] }));
  const S = info.config.imageSize;
  const batcher = new Batcher({
    samples,
    decode: nodeDecoder(cacheSizeFor(S)),
    imageSize: S,
    batchSize: o.batch,
    seed: 0,
    augment: 'eval',
    cacheBytes: 0,
  });
  const { accuracy, count, confusion } = await evaluateSplit(host, 'evalLogits', batcher, C);
  return {
    accuracy,
    count,
    classes: classes.slice(0, C),
    perClass: confusion.map((row, i) => {
      const n = row.reduce((a, b) => a + b, 0);
      return { name: classes[i] ?? String(i), accuracy: n ? row[i] / n : null, count: n };
    }),
    confusion,
    skipped: [...folder.leftOut, ...batcher.skipped],
  };
}

/** The report as a person reads it (what was left out goes to stderr: leftOutLine). */
export function formatReport(r: EvalReport): string {
  const lines = [`top-1 accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.count} images`, '', 'per class:'];
  for (const c of r.perClass)
    lines.push(
      `  ${c.name.padEnd(16)} ${c.accuracy === null ? '   -  ' : `${(100 * c.accuracy).toFixed(1).padStart(5)}%`}  (${c.count})`,
    );
  lines.push('', 'confusion (rows: true class, columns: predicted):');
  for (const row of r.confusion) lines.push(`  ${row.map((v) => String(v).padStart(5)).join('')}`);
  return lines.join('\n');
}
