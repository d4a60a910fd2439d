// The predictions gallery's filter and order.
import { describe, expect, it } from 'vitest';
import { ALL, cellFilter, galleryItems } from '../../src/app/runs/gallery.ts';
import type { Prediction } from '../../src/train/records.ts';

const p = (label: number, predicted: number, confidence: number): Prediction => ({
  label,
  predicted,
  confidence,
  path: `${label}-${predicted}-${confidence}.png`,
});
const predictions = [p(0, 0, 0.9), p(0, 1, 0.6), p(1, 1, 0.7), p(1, 0, 0.95), p(2, 1, 0.6), p(2, 2, 0.5), p(0, 1, 0.8)];

describe('gallery', () => {
  it('shows everything, most confident first, ties in the split’s order', () => {
    expect(galleryItems(predictions, ALL)).toEqual([3, 0, 6, 2, 1, 4, 5]);
    expect(galleryItems(predictions, { ...ALL, order: 'unsure' })).toEqual([5, 1, 4, 2, 6, 0, 3]);
  });

  it('filters right and wrong predictions, and a true class', () => {
    expect(galleryItems(predictions, { ...ALL, outcome: 'wrong' })).toEqual([3, 6, 1, 4]);
    expect(galleryItems(predictions, { ...ALL, outcome: 'right' })).toEqual([0, 2, 5]);
    expect(galleryItems(predictions, { ...ALL, outcome: 'wrong', label: 0 })).toEqual([6, 1]);
  });

  it('gives a confusion-matrix cell exactly its images, as many as the cell counts', () => {
    const confusion = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    for (const x of predictions) confusion[x.label][x.predicted]++;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) expect(galleryItems(predictions, cellFilter(i, j))).toHaveLength(confusion[i][j]);
    expect(galleryItems(predictions, cellFilter(0, 1))).toEqual([6, 1]);
  });
});
