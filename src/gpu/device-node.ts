// The engine's device in Node, through the `webgpu` package (Dawn, the WebGPU
// implementation inside Chrome). Without a hardware adapter it falls back to
// SwiftShader's Vulkan driver, which Debian's chromium package ships.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { NoWebGPUError } from './errors.ts';
import { Gpu } from './gpu.ts';
import { parseLayoutName, type LayoutName } from './layout.ts';
import { nodeShaders } from './shader-source-node.ts';
import { namesDrivers, probeDrivers, useOnlyDrivers, vulkanDriverFiles, type ProbedAdapter } from './vulkan-drivers.ts';

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

/** Dawn's creation flags for SwiftShader: its Vulkan driver only. */
const VULKAN = ['backend=vulkan'];

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
  if (choice !== 'swiftshader') {
    const drivers = await nodeDrivers(choice);
    if (!drivers || drivers.usable.length) {
      if (drivers) useOnlyDrivers(drivers.usable);
      const adapter = await webgpu.create([]).requestAdapter({ powerPreference: 'high-performance' });
      if (adapter && !(choice === 'hardware' && isSoftware(adapter.info, adapter.info.isFallbackAdapter))) {
        return Gpu.fromAdapter(adapter, nodeShaders, { layout });
      }
    }
  }
  if (choice === 'hardware') {
    const why = (await skippedNodeDrivers('hardware')).map((s) => `${s.driver}: ${s.reason}`).join('; ');
    throw new NoWebGPUError(`No hardware WebGPU adapter was found by Dawn${why ? ` (skipped: ${why})` : ''}.`);
  }
  if (process.platform === 'linux' && !hasVulkanLoader()) {
    throw new NoWebGPUError(
      'No GPU adapter, and the Vulkan loader (libvulkan.so.1) is missing. On Debian/Ubuntu: ' +
        'sudo apt-get install libvulkan1 chromium (chromium ships the SwiftShader CPU driver).',
    );
  }
  const env = loaderEnv();
  const icd = namesDrivers(env) ? vulkanDriverFiles(env).join(':') : SWIFTSHADER_ICDS.find((f) => existsSync(f));
  if (!icd) {
    throw new NoWebGPUError(
      'No GPU adapter, and no SwiftShader Vulkan driver to fall back on. On Debian/Ubuntu: ' +
        'sudo apt-get install chromium libvulkan1; or set VK_ICD_FILENAMES to a Vulkan driver .json file.',
    );
  }
  if (process.platform === 'linux') {
    // Tried in children first, so that Dawn in this process never meets a driver it refuses out loud.
    const probed = await probeDrivers(icd.split(':'), VULKAN, webgpuUrl(), env);
    const usable = probed.filter((d) => d.adapter);
    if (!usable.length) {
      const why = probed.map((d) => (probed.length > 1 ? `${d.driver}: ${d.reason}` : d.reason)).join('; ');
      throw new NoWebGPUError(`Dawn found no adapter with the Vulkan driver ${icd}: ${why}.`);
    }
    useOnlyDrivers(usable.map((d) => d.icd));
  } else {
    process.env.VK_ICD_FILENAMES = icd;
  }
  const adapter = await webgpu.create(VULKAN).requestAdapter();
  if (!adapter) throw new NoWebGPUError(`Dawn found no adapter with the Vulkan driver ${icd}.`);
  return Gpu.fromAdapter(adapter, nodeShaders, { layout });
}

/** A Vulkan driver Dawn for Node left out, and why, in short words. */
export interface SkippedDriver {
  driver: string;
  icd: string;
  reason: string;
}

/**
 * The Vulkan drivers Dawn for Node leaves out when it looks for an adapter for `choice` (for
 * 'hardware', a driver that runs on the CPU too). Linux only: elsewhere Dawn looks by itself.
 */
export async function skippedNodeDrivers(choice: Exclude<NodeAdapterChoice, 'swiftshader'>): Promise<SkippedDriver[]> {
  return (await nodeDrivers(choice))?.skipped ?? [];
}

/** The installed drivers, each tried in a child (vulkan-drivers.ts); undefined off Linux. */
async function nodeDrivers(
  choice: NodeAdapterChoice,
): Promise<{ usable: string[]; skipped: SkippedDriver[] } | undefined> {
  if (process.platform !== 'linux') return undefined;
  const env = loaderEnv();
  const probed = await probeDrivers(vulkanDriverFiles(env), [], webgpuUrl(), env);
  const wanted = (a: ProbedAdapter | null) => a !== null && !(choice === 'hardware' && isSoftware(a, a.fallback));
  return {
    usable: probed.filter((d) => wanted(d.adapter)).map((d) => d.icd),
    skipped: probed
      .filter((d) => !wanted(d.adapter))
      .map(({ driver, icd, adapter, reason }) => ({
        driver,
        icd,
        reason: adapter ? `${adapter.architecture || adapter.description} runs on the CPU; a GPU is wanted` : reason!,
      })),
  };
}

let startEnv: NodeJS.ProcessEnv | undefined;

/** The environment before this module first pointed the Vulkan loader at the drivers that work. */
function loaderEnv(): NodeJS.ProcessEnv {
  startEnv ??= { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() };
  return startEnv;
}

const webgpuUrl = () => pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;

/** SwiftShader (by name) or any fallback adapter: WebGPU on the CPU. */
function isSoftware(info: Pick<GPUAdapterInfo, 'architecture' | 'description'>, fallback = false): boolean {
  return fallback || /swiftshader/i.test(`${info.architecture} ${info.description}`);
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
