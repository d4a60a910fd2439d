// The Vulkan drivers Dawn for Node can make an adapter of, found without loading Dawn in this process.
// Dawn and the Vulkan loader write on the process's stderr about every driver they refuse (Mesa's
// lavapipe lacks a feature Dawn needs; the intel and radeon drivers find no device on other machines),
// and nothing in JavaScript stops a native library writing there. So each driver is tried in a child
// of its own whose stderr is kept, and this process then loads Dawn with only the drivers that worked.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

/** An adapter Dawn made of a driver, as the child saw it. */
export interface ProbedAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  fallback: boolean;
}

export interface DriverProbe {
  /** The driver's .json manifest. */
  icd: string;
  /** The driver, in words (driverName). */
  driver: string;
  /** Null when Dawn made no adapter of it; `reason` says why then. */
  adapter: ProbedAdapter | null;
  reason?: string;
}

/** How long a child may take to load Dawn and ask for an adapter. */
const PROBE_TIMEOUT_MS = 20_000;

// argv: the `webgpu` package's URL, then Dawn's creation flags as JSON. Prints the adapter (or null) as JSON.
const CHILD = `
const { create } = await import(process.argv[1]);
const adapter = await create(JSON.parse(process.argv[2])).requestAdapter({ powerPreference: 'high-performance' });
const i = adapter?.info;
const fallback = i?.isFallbackAdapter ?? adapter?.isFallbackAdapter ?? false;
console.log(JSON.stringify(i ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, fallback } : null));
process.exit(0);`;

const probes = new Map<string, Promise<DriverProbe>>();

/**
 * Tries each driver in a child (all at once) with Dawn created by `flags`; each driver is tried once
 * per process. `webgpu` is the URL of the `webgpu` package's entry; `env` the children's environment.
 */
export function probeDrivers(
  icds: string[],
  flags: string[],
  webgpu: string,
  env: NodeJS.ProcessEnv,
): Promise<DriverProbe[]> {
  return Promise.all(
    icds.map((icd) => {
      const key = `${flags.join(' ')}\n${icd}`;
      if (!probes.has(key)) probes.set(key, probeDriver(icd, flags, webgpu, env));
      return probes.get(key)!;
    }),
  );
}

function probeDriver(icd: string, flags: string[], webgpu: string, env: NodeJS.ProcessEnv): Promise<DriverProbe> {
  const { VK_ADD_DRIVER_FILES: _, ...rest } = env;
  const childEnv = { ...rest, VK_DRIVER_FILES: icd, VK_ICD_FILENAMES: icd };
  const driver = driverName(icd);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '--eval', CHILD, webgpu, JSON.stringify(flags)],
      { env: childEnv, timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const adapter = error ? null : lastLineAdapter(stdout);
        if (adapter) return resolve({ icd, driver, adapter });
        const ended =
          error &&
          (error.killed
            ? `no answer in ${PROBE_TIMEOUT_MS / 1000} s`
            : `Dawn stopped (${error.signal ?? `exit code ${error.code}`})`);
        resolve({ icd, driver, adapter: null, reason: [ended, skipReason(stderr)].filter(Boolean).join(': ') });
      },
    );
  });
}

/** The adapter the child printed last, as JSON; null when it printed none or something else. */
function lastLineAdapter(stdout: string): ProbedAdapter | null {
  try {
    return JSON.parse(stdout.trim().split('\n').at(-1) || 'null') as ProbedAdapter | null;
  } catch {
    return null;
  }
}

/** Dawn's and the loader's messages, in short words. Known ones first; else the first message line. */
const REASONS: [RegExp, (m: RegExpExecArray) => string][] = [
  [/Vulkan (\S+) required/, (m) => `Dawn needs ${m[1]}`],
  [/Failed to detect any valid GPUs|vkEnumeratePhysicalDevices/, () => 'no device for this driver'],
  [/Failed to open JSON file/, () => "the Vulkan loader cannot read the driver's .json file"],
  [/Found no drivers/, () => 'the Vulkan loader found no driver in it'],
];

/** Why a child made no adapter, from what Dawn and the Vulkan loader wrote on its stderr. */
export function skipReason(stderr: string): string {
  for (const [pattern, words] of REASONS) {
    const m = pattern.exec(stderr);
    if (m) return words(m);
  }
  // Dawn's messages: "Warning: …" or "Error: Loader Message: …", then " - While …" and "    at …" lines.
  const first = stderr.split('\n').find((l) => /^\S/.test(l));
  if (!first) return 'Dawn made no adapter of it, and said nothing';
  return first.replace(/^(?:Warning|Error): (?:Loader Message: )?/, '').trim();
}

/** Drivers whose manifest name says little. */
const DRIVER_NAMES: Record<string, string> = { lvp: 'lavapipe (Mesa llvmpipe)', vk_swiftshader: 'SwiftShader' };

/** A driver in words, from its manifest's name: lvp_icd.x86_64.json → lavapipe (Mesa llvmpipe), intel_icd.x86_64.json → intel. */
export function driverName(icd: string): string {
  const stem = basename(icd)
    .replace(/\.json$/, '')
    .replace(/\.(?:x86_64|i686|aarch64|armv7l?)$/, '')
    .replace(/_icd$/, '');
  return DRIVER_NAMES[stem] ?? stem;
}

const list = (v: string | undefined) => (v ?? '').split(':').filter(Boolean);

/** Whether `env` names the drivers (VK_DRIVER_FILES or VK_ICD_FILENAMES) rather than leaving the loader to search. */
export function namesDrivers(env: NodeJS.ProcessEnv): boolean {
  return list(env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES).length > 0;
}

/**
 * The driver manifests the Vulkan loader reads, in its order: VK_ADD_DRIVER_FILES's, then the files
 * or folders VK_DRIVER_FILES (or the older VK_ICD_FILENAMES) names, else the .json files of its
 * standard folders (the XDG config folders, /etc, the XDG data folders, each + vulkan/icd.d).
 */
export function vulkanDriverFiles(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || homedir();
  const named = list(env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES);
  const folders = [
    env.XDG_CONFIG_HOME || join(home, '.config'),
    ...list(env.XDG_CONFIG_DIRS || '/etc/xdg'),
    '/etc',
    env.XDG_DATA_HOME || join(home, '.local/share'),
    ...list(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share'),
  ].map((d) => join(d, 'vulkan/icd.d'));
  // A named file that does not exist stays in: its probe says the loader cannot read it.
  const files = [...list(env.VK_ADD_DRIVER_FILES), ...(named.length ? named : folders.filter(existsSync))].flatMap(
    (p) =>
      existsSync(p) && statSync(p).isDirectory()
        ? readdirSync(p)
            .filter((f) => f.endsWith('.json'))
            .sort()
            .map((f) => join(p, f))
        : [p],
  );
  return [...new Set(files)];
}

/** Points the Vulkan loader of this process at `icds` only (before Dawn is created). */
export function useOnlyDrivers(icds: string[]): void {
  process.env.VK_DRIVER_FILES = process.env.VK_ICD_FILENAMES = icds.join(':');
  delete process.env.VK_ADD_DRIVER_FILES;
}
