// The engine's device in Node, through the `webgpu` package (Dawn, the WebGPU
// implementation inside Chrome). Without a hardware adapter it falls back to
// SwiftShader's Vulkan driver, which Debian's chromium package ships.
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { NoWebGPUError } from './errors.ts';
import { Gpu } from './gpu.ts';
import { parseLayoutName, type LayoutName } from './layout.ts';
import { nodeShaders } from './shader-source-node.ts';

const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

const VULKAN_LOADERS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];

export type NodeAdapterChoice = 'auto' | 'hardware' | 'swiftshader';

/** `STOCHCA_ADAPTER=swiftshader|hardware` overrides the automatic choice; `STOCHCA_LAYOUT=gpu|cpu` forces the kernel layout. */
export async function requestNodeGpu(choice: NodeAdapterChoice = envChoice(), layout = envLayout()): Promise<Gpu> {
  process.env.XDG_RUNTIME_DIR ??= tmpdir(); // silences the Vulkan loader's warning
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch {
    throw new NoWebGPUError("The 'webgpu' package (Dawn for Node) is missing: run `npm ci` in the project folder.");
  }
  Object.assign(globalThis, webgpu.globals); // GPUBufferUsage, GPUMapMode, ...
  if (choice !== 'swiftshader' && mayHaveHardwareDriver()) {
    const adapter = await webgpu.create([]).requestAdapter({ powerPreference: 'high-performance' });
    const software = adapter && /swiftshader/i.test(`${adapter.info.architecture} ${adapter.info.description}`);
    if (adapter && !(software && choice === 'hardware')) return Gpu.fromAdapter(adapter, nodeShaders, { layout });
  }
  if (choice === 'hardware') throw new NoWebGPUError('No hardware WebGPU adapter was found by Dawn.');
  if (process.platform === 'linux' && !hasVulkanLoader()) {
    throw new NoWebGPUError(
      'No GPU adapter, and the Vulkan loader (libvulkan.so.1) is missing. On Debian/Ubuntu: ' +
        'sudo apt-get install libvulkan1 chromium (chromium ships the SwiftShader CPU driver).',
    );
  }
  const icd = process.env.VK_ICD_FILENAMES ?? SWIFTSHADER_ICDS.find((f) => existsSync(f));
  if (!icd) {
    throw new NoWebGPUError(
      'No GPU adapter, and no SwiftShader Vulkan driver to fall back on. On Debian/Ubuntu: ' +
        'sudo apt-get install chromium libvulkan1; or set VK_ICD_FILENAMES to a Vulkan driver .json file.',
    );
  }
  process.env.VK_ICD_FILENAMES = icd;
  const adapter = await webgpu.create(['backend=vulkan']).requestAdapter();
  if (!adapter) throw new NoWebGPUError(`Dawn found no adapter with the Vulkan driver ${icd}.`);
  return Gpu.fromAdapter(adapter, nodeShaders, { layout });
}

/** Vulkan drivers register a .json file here; without one (Linux) there is no GPU to probe. */
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

function mayHaveHardwareDriver(): boolean {
  if (process.platform !== 'linux' || process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return true;
  return ICD_DIRS.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));
}

/** The kernel layout STOCHCA_LAYOUT=gpu|cpu forces, if any (pages get it as `?layout=`). */
export function envLayout(): LayoutName | undefined {
  return parseLayoutName(process.env.STOCHCA_LAYOUT, 'STOCHCA_LAYOUT');
}

function envChoice(): NodeAdapterChoice {
  const v = process.env.STOCHCA_ADAPTER;
  return v === 'swiftshader' || v === 'hardware' ? v : 'auto';
}

function hasVulkanLoader(): boolean {
  if (VULKAN_LOADERS.some((f) => existsSync(f))) return true;
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes('libvulkan.so.1');
  } catch {
    return false;
  }
}
