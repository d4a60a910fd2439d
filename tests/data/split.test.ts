// The stratified validation split and the per-class training fraction: counts, reproducibility
// for a seed, independence from the order the files arrived in.
import { describe, expect, it } from 'vitest';
import { selectImages } from '../../src/data/entries.ts';
import { imageFolder, type Sample } from '../../src/data/layout.ts';
import {
  classCounts,
  keptCount,
  sampleFraction,
  splitDataset,
  stratifiedSplit,
  valCount,
} from '../../src/data/split.ts';
import { rng } from '../helpers/random.ts';
import { classFolders, memoryTree, type Files } from './fixtures.ts';

const img = new Uint8Array([1]);
const sizes = { a: 100, b: 25, c: 2, d: 1 };
const files: Files = classFolders(sizes, img);
const folder = imageFolder(selectImages(memoryTree(files)));
const paths = (s: Sample[]) => s.map((x) => x.entry.path);

/** The same files listed in another order. */
function shuffledFolder(seed: number) {
  const r = rng(seed);
  const order = Object.entries(files)
    .map((kv) => [r(), kv] as const)
    .sort((x, y) => x[0] - y[0])
    .map(([, kv]) => kv);
  return imageFolder(selectImages(memoryTree(Object.fromEntries(order))));
}

describe('stratifiedSplit', () => {
  it('draws round(f·n) per class, at least 1, and leaves at least 1 in train', () => {
    const { train, val } = stratifiedSplit(folder.train, 0.1, 7);
    expect(classCounts(val, 4)).toEqual([10, 3, 1, 0]);
    expect(classCounts(train, 4)).toEqual([90, 22, 1, 1]);
    expect(new Set([...paths(train), ...paths(val)]).size).toBe(128);
  });

  it('gives the same split for the same seed and another for another seed', () => {
    const one = stratifiedSplit(folder.train, 0.1, 7);
    expect(paths(stratifiedSplit(folder.train, 0.1, 7).val)).toEqual(paths(one.val));
    expect(paths(stratifiedSplit(folder.train, 0.1, 8).val)).not.toEqual(paths(one.val));
  });

  it('does not depend on the order the files arrived in', () => {
    const other = shuffledFolder(3);
    expect(paths(other.train)).toEqual(paths(folder.train));
    expect(paths(stratifiedSplit(other.train, 0.2, 11).val)).toEqual(paths(stratifiedSplit(folder.train, 0.2, 11).val));
    expect(paths(stratifiedSplit([...folder.train].reverse(), 0.2, 11).val)).toEqual(
      paths(stratifiedSplit(folder.train, 0.2, 11).val),
    );
  });

  it('draws nothing at fraction 0 and refuses fractions outside [0, 1)', () => {
    expect(stratifiedSplit(folder.train, 0, 1).val).toEqual([]);
    expect(() => stratifiedSplit(folder.train, 1, 1)).toThrow(RangeError);
    expect(() => stratifiedSplit(folder.train, -0.1, 1)).toThrow('the validation fraction must be in [0, 1), got -0.1');
  });

  it('counts per class', () => {
    expect([0, 1, 2, 3, 10, 19].map((n) => valCount(n, 0.1))).toEqual([0, 0, 1, 1, 1, 2]);
    expect(valCount(4, 0.9)).toBe(3);
  });
});

describe('sampleFraction', () => {
  const classSizes = { a: 40, b: 7, c: 1, d: 30 };
  const data = imageFolder(selectImages(memoryTree(classFolders(classSizes, img)))).train;

  it.each([
    [0.15, [6, 1, 1, 5]],
    [0.3, [12, 2, 1, 9]],
    [0.5, [20, 4, 1, 15]],
    [1, [40, 7, 1, 30]],
  ])('keeps round(%s·n), at least 1, per class', (fraction, counts) => {
    expect(classCounts(sampleFraction(data, fraction, 5), 4)).toEqual(counts);
  });

  it('keeps the same images for the same seed, nested across fractions, others for another seed', () => {
    const small = paths(sampleFraction(data, 0.15, 5));
    expect(paths(sampleFraction(data, 0.15, 5))).toEqual(small);
    expect(paths(sampleFraction(data, 0.15, 6))).not.toEqual(small);
    const half = new Set(paths(sampleFraction(data, 0.5, 5)));
    expect(small.every((p) => half.has(p))).toBe(true);
  });

  it('refuses fractions outside (0, 1]', () => {
    expect(() => sampleFraction(data, 0, 1)).toThrow('the training fraction must be in (0, 1], got 0');
    expect(() => sampleFraction(data, 1.5, 1)).toThrow(RangeError);
    expect(keptCount(0, 0.5)).toBe(0);
  });
});

describe('splitDataset', () => {
  it('draws val when there is no val/ folder, then keeps the fraction of train', () => {
    const a = splitDataset(folder, { seed: 42, valFraction: 0.1, trainFraction: 0.3 });
    expect(a.valDrawn).toBe(true);
    expect(classCounts(a.val, 4)).toEqual([10, 3, 1, 0]);
    expect(classCounts(a.train, 4)).toEqual([27, 7, 1, 1]);
    expect(a.train.some((s) => paths(a.val).includes(s.entry.path))).toBe(false);
    // Another run with the same seed (StochCA after fine-tuning, say), files listed in another order.
    const b = splitDataset(shuffledFolder(9), { seed: 42, valFraction: 0.1, trainFraction: 0.3 });
    expect(paths(b.train)).toEqual(paths(a.train));
    expect(paths(b.val)).toEqual(paths(a.val));
  });

  it('uses the val/ folder when there is one, and draws none at valFraction 0', () => {
    const withVal = imageFolder(
      selectImages(
        memoryTree({ ...classFolders({ x: 4, y: 4 }, img, 'train/'), ...classFolders({ x: 1, y: 1 }, img, 'val/') }),
      ),
    );
    const s = splitDataset(withVal, { seed: 1, valFraction: 0.5, trainFraction: 1 });
    expect(s.valDrawn).toBe(false);
    expect(paths(s.val)).toEqual(['val/x/0.png', 'val/y/0.png']);
    expect(s.train.length).toBe(8);
    const none = splitDataset(folder, { seed: 1, valFraction: 0, trainFraction: 1 });
    expect([none.valDrawn, none.val.length, none.train.length]).toEqual([false, 0, 128]);
  });
});
