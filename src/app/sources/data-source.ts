// The dataset of the experiment: a built-in pack, a dropped or picked folder or zip, or a zip
// fetched from a URL when the person asks. Scanning lists the classes, counts the images, decodes
// one thumbnail per class and keeps what was left out and why; the worker later opens the same
// source with the same code (src/data/dataset-source.ts).
import {
  blobEntry,
  droppedEntries,
  treeFromEntries,
  treeFromFileList,
  type DropEntry,
  type DropFileEntry,
} from '../../data/browser-sources.ts';
import { sourceOfTree, treeOfSource, type DatasetSource } from '../../data/dataset-source.ts';
import { BrowserDecoder } from '../../data/decode-browser.ts';
import { selectImages } from '../../data/entries.ts';
import { imageFolder } from '../../data/layout.ts';
import { classCounts } from '../../data/split.ts';
import { fetchZip } from '../../data/url-source.ts';
import type { DataRef } from '../../train/settings.ts';
import { PACK_INDEX, type PackInfo } from '../../train/builtins.ts';
import { useStore, type ScannedData } from '../store.ts';
import { datasetHash } from '../../data/content-hash.ts';
import { idleSeconds } from './downloads.ts';
import { guarded } from './guarded.ts';

/** Datasets up to this size are hashed by content for share links; larger ones by their listing. */
const THUMB = 48;

let packs: Promise<PackInfo[]> | undefined;

export function packIndex(): Promise<PackInfo[]> {
  packs ??= fetch(`${import.meta.env.BASE_URL}${PACK_INDEX}`).then((r) => {
    if (!r.ok) throw new Error(`cannot load the list of built-in datasets (HTTP ${r.status})`);
    return r.json() as Promise<PackInfo[]>;
  });
  return packs;
}

/** A decoded [S, S] RGBA image as a PNG data URL. */
export function rgbaToDataUrl(pixels: Uint8Array, size: number): string {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pixels), size, size), 0, 0);
  return canvas.toDataURL('image/png');
}

async function scan(ref: DataRef, name: string, source: DatasetSource): Promise<ScannedData> {
  const files = selectImages(await treeOfSource(source));
  const folder = imageFolder(files);
  const decoder = new BrowserDecoder({ workers: 1 });
  try {
    const firsts = folder.classes.map(
      (_, c) => folder.train.find((s) => s.label === c) ?? folder.val.find((s) => s.label === c),
    );
    const thumbnail = async (s: (typeof firsts)[number]) =>
      s ? rgbaToDataUrl(await decoder.decode(s.entry, THUMB), THUMB) : '';
    const thumbnails = await Promise.all(firsts.map((s) => thumbnail(s).catch(() => '')));
    return {
      ref,
      name,
      source,
      classes: folder.classes,
      perClass: classCounts(folder.train.length ? folder.train : folder.val, folder.classes.length),
      counts: { train: folder.train.length, val: folder.val.length, test: folder.test.length },
      leftOut: folder.leftOut,
      problems: folder.problems,
      thumbnails,
    };
  } finally {
    decoder.close();
  }
}

/** Loads a dataset to its scan (guarded.ts). */
function loadData(ref: DataRef, name: string, load: (signal: AbortSignal) => Promise<ScannedData>): Promise<void> {
  const store = useStore.getState();
  return guarded(
    'data',
    name,
    { loading: () => store.dataLoading(ref, name), ready: store.dataReady, failed: store.dataFailed },
    load,
  );
}

export function loadPack(id: string): Promise<void> {
  const ref: DataRef = { kind: 'pack', id };
  return loadData(ref, id, async () => {
    const pack = (await packIndex()).find((p) => p.id === id);
    if (!pack) throw new Error(`there is no built-in dataset '${id}'`);
    const response = await fetch(`${import.meta.env.BASE_URL}packs/${pack.file}`);
    if (!response.ok) throw new Error(`cannot load ${pack.file} (HTTP ${response.status})`);
    return scan(ref, pack.name, { kind: 'zip', name: pack.file, blob: await response.blob() });
  });
}

async function localRef(name: string, source: DatasetSource): Promise<DataRef> {
  const hashed = await datasetHash(
    source.kind === 'zip'
      ? { kind: 'zip', file: blobEntry(name, source.blob) }
      : { kind: 'folder', files: source.files.map((f) => blobEntry(f.path, f.file)) },
  );
  return { kind: 'local', name, ...hashed };
}

async function loadLocal(name: string, makeSource: () => Promise<DatasetSource>): Promise<void> {
  const pendingRef: DataRef = { kind: 'local', name, size: 0, count: 0, sha256: '' };
  await loadData(pendingRef, name, async () => {
    const source = await makeSource();
    useStore.getState().setData({ progress: 'checking the files…' });
    return scan(await localRef(name, source), name, source);
  });
}

const isZip = (name: string) => name.toLowerCase().endsWith('.zip');

/** A drop's entries, taken synchronously in the drop handler (Chrome empties the DataTransfer after). */
export function loadDropped(data: DataTransfer): Promise<void> {
  const entries: DropEntry[] = droppedEntries(data);
  const name = entries.length === 1 ? entries[0].name : `${entries.length} items`;
  return loadLocal(name, async () => {
    const [only] = entries;
    if (entries.length === 1 && only?.isFile && isZip(only.name)) {
      const file = await new Promise<File>((resolve, reject) => (only as DropFileEntry).file(resolve, reject));
      return { kind: 'zip', name: file.name, blob: file };
    }
    return sourceOfTree(name, await treeFromEntries(entries));
  });
}

/** The files of a folder or zip picker. */
export function loadPicked(list: File[]): Promise<void> {
  const top = list[0]?.webkitRelativePath.split('/')[0];
  const name = top || list[0]?.name || 'picked files';
  return loadLocal(name, async () => {
    if (list.length === 1 && !list[0].webkitRelativePath && isZip(list[0].name))
      return { kind: 'zip', name, blob: list[0] };
    return sourceOfTree(name, await treeFromFileList(list));
  });
}

/** Fetched only when the person presses the button. */
export function loadDataUrl(url: string): Promise<void> {
  const ref: DataRef = { kind: 'url', url };
  return loadData(ref, url, async (signal) => {
    const { blob, name } = await fetchZip(url, {
      signal,
      idleSeconds,
      onProgress: (download) => useStore.getState().setData({ download }),
    });
    useStore.getState().setData({ download: undefined });
    return scan(ref, name, { kind: 'zip', name, blob });
  });
}
