// The engine's device in a page or a Worker: navigator.gpu.
import { NoWebGPUError } from './errors.ts';
import { Gpu } from './gpu.ts';
import { parseLayoutName, type LayoutName } from './layout.ts';
import { browserShaders } from './shader-source-browser.ts';

export const NO_WEBGPU_HELP =
  'Open this page in Chrome or Edge 113 or newer (desktop), or Safari 26. On Linux, start Chrome with ' +
  '--enable-unsafe-webgpu --enable-features=Vulkan, or turn on chrome://flags/#enable-unsafe-webgpu.';

/** `layout` forces the kernel layout (layout.ts); by default the adapter decides. */
export async function requestBrowserGpu(options: { layout?: LayoutName } = {}): Promise<Gpu> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new NoWebGPUError(`This browser does not offer WebGPU. ${NO_WEBGPU_HELP}`);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new NoWebGPUError(
      `WebGPU is present but found no usable GPU adapter (it may be blocklisted). ${NO_WEBGPU_HELP}`,
    );
  }
  return Gpu.fromAdapter(adapter, browserShaders, options);
}

/** The layout a page's `?layout=gpu|cpu` forces: Node callers pass STOCHCA_LAYOUT on this way. */
export function urlLayout(): LayoutName | undefined {
  return parseLayoutName(new URLSearchParams(location.search).get('layout'), '?layout=');
}
