// The data benchmark's measurement, the same in Node and in the page: images per second
// decoded, augmented and batched from the built-in MNIST pack, first pass and from the cache.
import { Batcher, type Batch, type DecodeEntry } from '../data/batcher.ts';
import { selectImages, type FileTree } from '../data/entries.ts';
import { imageFolder } from '../data/layout.ts';
import type { CaseInfo } from './page.ts';

export interface DataResult extends CaseInfo {
  where: 'node' | 'chromium';
  /** 'first pass' (every image decoded) or 'cached' (decoded images reused). */
  pass: string;
  images: number;
  image_size: number;
  batch: number;
  seconds: number;
  images_per_s: number;
}

export const DATA_SIZE = 224;
export const DATA_BATCH = 32;

/** Times one pass over the pack's training images, then a second one served from the cache. */
export async function measureDataPasses(
  where: DataResult['where'],
  tree: FileTree,
  decode: DecodeEntry,
): Promise<DataResult[]> {
  const samples = imageFolder(selectImages(tree)).train;
  const batcher = new Batcher({
    samples,
    decode,
    imageSize: DATA_SIZE,
    batchSize: DATA_BATCH,
    seed: 0,
    augment: {},
    cacheBytes: 2 ** 30,
  });
  const results: DataResult[] = [];
  const iterator = (batcher as AsyncIterable<Batch>)[Symbol.asyncIterator]();
  for (const pass of ['first pass', 'cached']) {
    const started = performance.now();
    let images = 0;
    while (images < samples.length) images += (await iterator.next()).value.count;
    const seconds = (performance.now() - started) / 1000;
    results.push({
      name: `${where} ${pass}`,
      shape: `MNIST PNG 28 px → ${DATA_SIZE} px, crop + flip`,
      where,
      pass,
      images,
      image_size: DATA_SIZE,
      batch: DATA_BATCH,
      seconds,
      images_per_s: images / seconds,
    });
  }
  await iterator.return?.();
  return results;
}

export function dataTable(cases: CaseInfo[]) {
  const w = Math.max(4, ...cases.map((c) => c.name.length));
  const line = (cells: string[]) => [cells[0].padEnd(w), ...cells.slice(1).map((c) => c.padStart(10))].join('  ');
  return {
    header: [
      'images decoded, augmented (random-resized crop + flip) and batched, uint8 RGBA at 224 px',
      '',
      line(['case', 'images', 'seconds', 'images/s']),
    ],
    row: (r: DataResult) => line([r.name, String(r.images), r.seconds.toFixed(1), r.images_per_s.toFixed(0)]),
  };
}
