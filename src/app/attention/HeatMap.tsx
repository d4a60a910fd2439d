// One attention row as a heat map over the image (heat-map.ts), on a canvas; with register tokens, their
// share of the row beside it, as they are on no patch.
import { useMemo } from 'react';
import { PixelCanvas } from '../PixelCanvas.tsx';
import { patchGrid, registerShare } from './attention-views.ts';
import { heatPixels } from './heat-map.ts';

interface Props {
  /** The image, RGBA [size, size, 4]. */
  image: Uint8Array;
  size: number;
  /** An attention row over [class token, registers…, patches…]. */
  row: Float32Array;
  /** Register tokens between the class token and the patches (DINOv2 with registers), else 0. */
  registers: number;
  label: string;
}

export function HeatMap({ image, size, row, registers, label }: Props) {
  const pixels = useMemo(() => {
    const { values, grid } = patchGrid(row, registers);
    return heatPixels(image, size, values, grid);
  }, [image, size, row, registers]);
  const canvas = <PixelCanvas pixels={pixels} size={size} label={label} testId="heat-map" />;
  if (registers === 0) return canvas;
  return (
    <>
      {canvas}
      <small data-testid="register-share">registers: {(100 * registerShare(row, registers)).toFixed(1)} %</small>
    </>
  );
}
