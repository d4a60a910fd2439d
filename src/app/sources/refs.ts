// A model or dataset reference (src/train/settings.ts) in words, and whether the one loaded now is the
// one a link or a run names.
import type { DataRef, ModelRef } from '../../train/settings.ts';

export const describeModel = (r: ModelRef): string =>
  r.kind === 'file'
    ? `the model file '${r.name}' (${r.size.toLocaleString('en')} bytes, SHA-256 ${r.sha256.slice(0, 12)}…)`
    : r.kind === 'url'
      ? r.url
      : r.kind === 'hub'
        ? `the zoo model '${r.repo}'`
        : `the built-in model '${r.id}'`;

export const describeData = (r: DataRef): string =>
  r.kind === 'local'
    ? `the dataset '${r.name}' (${r.size.toLocaleString('en')} bytes, SHA-256 ${r.sha256.slice(0, 12)}…)`
    : r.kind === 'url'
      ? r.url
      : `the built-in dataset '${r.id}'`;

/** The same dataset: the same pack, the same address, or local files with the same content hash. */
export function sameData(a: DataRef, b: DataRef): boolean {
  if (a.kind === 'pack' && b.kind === 'pack') return a.id === b.id;
  if (a.kind === 'url' && b.kind === 'url') return a.url === b.url;
  if (a.kind === 'local' && b.kind === 'local') return a.sha256 === b.sha256;
  return false;
}
