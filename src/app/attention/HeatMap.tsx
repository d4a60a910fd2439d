// One attention row as a heat map over the image (heat-map.ts), on a canvas.
import { useMemo } from 'react';
import { PixelCanvas } from '../PixelCanvas.tsx';
import { patchGrid } from './attention-views.ts';
import { heatPixels } from './heat-map.ts';

interface Props {
  /** The image, RGBA [size, size, 4]. */
  image: Uint8Array;
  size: number;
  /** An attention row over [class token, patches…]. */
  row: Float32Array;
  label: string;
}

export function HeatMap({ image, size, row, label }: Props) {
  const pixels = useMemo(() => {
    const { values, grid } = patchGrid(row);
    return heatPixels(image, size, values, grid);
  }, [image, size, row]);
  return <PixelCanvas pixels={pixels} size={size} label={label} testId="heat-map" />;
}
