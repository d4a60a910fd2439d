// The folder walk of a drop on pathological synthetic entry trees, in Node (the walker needs only
// objects shaped like the entry API's, and File): a folder 16,000 levels deep, names too long, and a
// folder of ten million files all stop early with the reason. tests/e2e/data-sources.test.ts walks
// ordinary trees in the browser.
import { describe, expect, it } from 'vitest';
import {
  walkEntries,
  walkFolder,
  type DropDirectoryEntry,
  type DropEntry,
  type DropFileEntry,
} from '../../src/data/browser-sources.ts';
import { DatasetError, MAX_ENTRIES } from '../../src/data/entries.ts';
import { measured } from '../helpers/measure.ts';

const image = new File([new Uint8Array([1, 2, 3])], 'a.png');

// Entries hand over their File and their batches asynchronously, as Chrome's do.
const handOver: DropFileEntry['file'] = (ok) => setImmediate(() => ok(image));
const file = (name: string): DropFileEntry => ({ name, isFile: true, isDirectory: false, file: handOver });

/** A folder whose `count` children are made as they are read, 100 per batch as Chrome hands them
 *  over; `seen` counts the folders opened and the batches read. */
function folder(
  name: string,
  count: number,
  child: (i: number) => DropEntry,
  seen = { opened: 0, batches: 0 },
): DropDirectoryEntry {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader() {
      seen.opened++;
      let at = 0;
      return {
        readEntries(ok) {
          seen.batches++;
          const batch = Array.from({ length: Math.max(0, Math.min(100, count - at)) }, (_, i) => child(at + i));
          at += batch.length;
          setImmediate(() => ok(batch));
        },
      };
    },
  };
}

describe('the walk of a drop stops early on pathological trees', () => {
  it('a folder 16,000 levels deep is entered 64 levels down, no further', async () => {
    const seen = { opened: 0, batches: 0 };
    const chain = (level: number): DropEntry =>
      level === 16_000 ? file('x.png') : folder('d', 1, () => chain(level + 1), seen);
    const root = folder(
      'photos',
      3,
      (i) => [chain(1), folder('cats', 1, () => file('1.png')), folder('dogs', 1, () => file('1.png'))][i],
    );
    const { ms, mb, result: tree } = await measured(() => walkFolder(root));
    console.log(
      `a dropped folder 16,000 levels deep: walked in ${ms.toFixed(0)} ms, memory +${mb.toFixed(1)} MB, ${seen.opened} levels opened`,
    );
    expect(tree.files.map((f) => f.path).sort()).toEqual(['cats/1.png', 'dogs/1.png']);
    expect(tree.leftOut).toEqual([{ path: `${'d/'.repeat(65)}`, reason: 'more than 64 levels deep' }]);
    expect(seen.opened).toBe(64);
    expect(ms).toBeLessThan(2000);
    expect(mb).toBeLessThan(100);
  });

  it('a folder whose path would pass 4,096 characters is not entered', async () => {
    const long = 'y'.repeat(3000);
    const tree = await walkEntries([
      folder('photos', 1, () => folder(long, 1, () => folder(long, 1, () => file('a.png')))),
    ]);
    expect(tree.leftOut).toEqual([{ path: `photos/${long}/${long}/`, reason: 'path longer than 4,096 characters' }]);
    expect(tree.folders).toEqual(['photos', `photos/${long}`]);
  });

  it(`a folder of ten million files stops after ${MAX_ENTRIES.toLocaleString('en')}, with the reason`, async () => {
    const seen = { opened: 0, batches: 0 };
    const huge = folder('huge', 10_000_000, (i) => file(`${i}.png`), seen);
    const { ms, mb, result: error } = await measured(() => walkFolder(huge).catch((e: unknown) => e));
    console.log(
      `a dropped folder of 10,000,000 files: refused in ${ms.toFixed(0)} ms, memory +${mb.toFixed(1)} MB, ${seen.batches} batches read`,
    );
    expect(error).toEqual(
      new DatasetError(
        "'huge' holds more than 200,000 files and folders, the most one dataset may have (use a part of it)",
      ),
    );
    expect(seen.batches).toBeLessThanOrEqual(MAX_ENTRIES / 100 + 1);
    expect(ms).toBeLessThan(2000);
    expect(mb).toBeLessThan(100);
  });
});
