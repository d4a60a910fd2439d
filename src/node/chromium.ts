// Headless Chromium with WebGPU, for the browser tests and benchmarks. On a
// machine without a GPU driver, WebGPU runs on SwiftShader (Vulkan on the CPU).
// Playwright gives every launch a fresh, empty profile.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserServer } from 'playwright-core';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

export const INSTALL_CHROMIUM =
  'Chromium is needed for the browser tests and benchmarks. On Debian/Ubuntu: sudo apt-get install chromium ' +
  '(or set CHROMIUM_PATH to a Chrome or Chromium binary).';

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? CANDIDATES.find((p) => existsSync(p));
  if (!path || !existsSync(path)) throw new Error(INSTALL_CHROMIUM);
  return path;
}

/**
 * Flags for headless WebGPU; `software` forces SwiftShader even where a GPU exists. A GPU in a
 * headless browser renders to no window, so Vulkan surfaces are not asked for.
 * On SwiftShader most of a pipeline's compile time goes to zero-filling workgroup memory (the first
 * training step of a small ViT, which compiles its 20 pipelines: 6.1 s with it, 2.2 s without), so
 * it is turned off there. The kernels write workgroup memory before they read it, so their results
 * do not depend on the fill.
 */
export function chromiumArgs(software = process.env.STOCHCA_ADAPTER !== 'hardware'): string[] {
  return [
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    ...(software
      ? ['--use-webgpu-adapter=swiftshader', '--enable-dawn-features=disable_workgroup_init']
      : ['--use-angle=vulkan', '--disable-vulkan-surface']),
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
}

/** `handleSIGINT: false` leaves Ctrl-C to the caller: by default Playwright closes the browser on it. */
export function launchChromium(args = chromiumArgs(), options: { handleSIGINT?: boolean } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args, headless: true, ...options });
}

/** A browser other processes can connect to (one per test run). */
export function launchChromiumServer(): Promise<BrowserServer> {
  return chromium.launchServer({ executablePath: chromiumPath(), args: chromiumArgs(), headless: true });
}
