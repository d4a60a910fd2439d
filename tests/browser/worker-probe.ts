// Runs one product on the engine inside a dedicated Worker and posts the result.
import { requestBrowserGpu } from '../../src/gpu/device-browser.ts';
import { matmul } from '../../src/nn/ops/matmul.ts';

try {
  const gpu = await requestBrowserGpu();
  const a = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const b = gpu.upload(new Float32Array([1, 0, 0, 1, 1, 1]), [3, 2]);
  const c = gpu.tensor([2, 2]);
  matmul(gpu, a, b, c);
  postMessage({ adapter: gpu.adapter.description, c: Array.from(await gpu.read(c)) });
} catch (e) {
  postMessage({ error: String(e) });
}
