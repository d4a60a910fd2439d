// An RGBA image [size, size, 4] on a canvas at its own resolution, scaled by CSS (pixels kept sharp):
// no PNG encoding, so a gallery of many images renders quickly.
import { useEffect, useRef } from 'react';

interface Props {
  pixels: Uint8Array | Uint8ClampedArray;
  size: number;
  /** Shown width and height in CSS pixels; without it, the stylesheet's. */
  shown?: number;
  label: string;
  testId?: string;
}

export function PixelCanvas({ pixels, size, shown, label, testId }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (canvas) canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pixels), size, size), 0, 0);
  }, [pixels, size]);
  return (
    <canvas
      ref={ref}
      width={size}
      height={size}
      style={shown === undefined ? undefined : { width: shown, height: shown }}
      className="pixels"
      role="img"
      aria-label={label}
      data-testid={testId}
    />
  );
}
