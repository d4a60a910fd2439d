// An image dropped on the attention panel as the models take it: decoded off the main thread and
// cropped as validation images are (Resize(C) + CenterCrop(S), src/data/augment.ts).
import { cacheSizeFor, evalView, resample } from '../../data/augment.ts';
import { BrowserDecoder } from '../../data/decode-browser.ts';

/** RGBA [S, S, 4] of an image file, for models of input size S. */
export async function modelInput(file: Blob, S: number): Promise<Uint8Array> {
  const decoder = new BrowserDecoder({ workers: 1 });
  try {
    const C = cacheSizeFor(S);
    return resample(await decoder.decode(file, C), C, evalView(C, S), S);
  } finally {
    decoder.close();
  }
}
