// onnxruntime-web (wasm backend) in the page, to show an exported model runs in the browser.
import * as ort from 'onnxruntime-web/wasm';

// The dev server serves the runtime's .wasm files from node_modules; one thread needs no
// cross-origin isolation.
ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
ort.env.wasm.numThreads = 1;

/** Runs `model` on float32 `pixels` of shape `dims`; returns the `logits` output. */
export async function runOnnx(
  model: Uint8Array,
  pixels: Float32Array,
  dims: number[],
): Promise<{ data: number[]; dims: number[] }> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ pixels: new ort.Tensor('float32', pixels, dims) });
    return { data: Array.from(out.logits.data as Float32Array), dims: [...out.logits.dims] };
  } finally {
    await session.release();
  }
}
