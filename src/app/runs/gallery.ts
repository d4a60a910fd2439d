// Which of a run's validation predictions the gallery shows, and in what order.
import type { Prediction } from '../../train/records.ts';

export interface GalleryFilter {
  outcome: 'all' | 'right' | 'wrong';
  /** Only this true class. */
  label?: number;
  /** Only this predicted class (a confusion-matrix cell gives both). */
  predicted?: number;
  /** 'confident': highest confidence first; 'unsure': lowest first. */
  order: 'confident' | 'unsure';
}

export const ALL: GalleryFilter = { outcome: 'all', order: 'confident' };

/** The filter of the confusion matrix's cell [label][predicted]. */
export const cellFilter = (label: number, predicted: number): GalleryFilter => ({
  outcome: 'all',
  label,
  predicted,
  order: 'confident',
});

/** Indices into `predictions` that pass the filter, sorted by confidence (ties keep the split's order). */
export function galleryItems(predictions: readonly Prediction[], f: GalleryFilter): number[] {
  const keep = (p: Prediction) =>
    (f.outcome === 'all' || (f.outcome === 'right') === (p.predicted === p.label)) &&
    (f.label === undefined || p.label === f.label) &&
    (f.predicted === undefined || p.predicted === f.predicted);
  const sign = f.order === 'confident' ? -1 : 1;
  return predictions
    .map((_, i) => i)
    .filter((i) => keep(predictions[i]))
    .sort((a, b) => sign * (predictions[a].confidence - predictions[b].confidence) || a - b);
}
