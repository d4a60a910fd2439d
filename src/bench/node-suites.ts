// The kernel and training benchmarks in this Node process on a device of Dawn's: the suites the
// benchmark pages run (src/bench), TF.js's webgpu backend on the same device. gpu-report runs
// them here on a hardware adapter, so a GPU machine needs no browser.
import { createRequire } from 'node:module';
import type { Gpu } from '../gpu/gpu.ts';
import { kernelSuite } from './kernels.ts';
import type { BenchPage, CaseInfo } from './page.ts';
import { trainSuite } from './train.ts';
import type { OpenBenchPage } from './open-page.ts';

const SUITES = { kernels: kernelSuite, train: trainSuite };

let prepared: Promise<void> | undefined;

/** What TF.js expects of its host that a page has and Node has not. */
async function prepareTfjs(): Promise<void> {
  // Its webgpu backend refuses to start without navigator.gpu, though it uses the device it is given.
  const { create } = await import('webgpu');
  const host = globalThis as { navigator?: { gpu?: unknown } };
  if (!host.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
  if (!host.navigator!.gpu) Object.defineProperty(host.navigator, 'gpu', { value: create([]), configurable: true });
  // tfjs-core's Node build registers no gradient functions, and the ES modules that do cannot be
  // imported by Node as they are published; required, tsx (which runs `npm run bench`) compiles
  // them to CommonJS, and they register into tfjs-core's global registry, which its copies share.
  createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients');
}

/** The suite on `gpu`, as openBenchPage offers a page's. */
export async function openNodeSuite<R extends CaseInfo>(
  gpu: Gpu,
  suite: keyof typeof SUITES,
  query: URLSearchParams,
): Promise<OpenBenchPage<R>> {
  await (prepared ??= prepareTfjs());
  const bench = (await SUITES[suite](gpu, query)) as BenchPage<CaseInfo> as BenchPage<R>;
  return { adapter: bench.adapter, cases: bench.cases, run: (name) => bench.run(name), close: async () => undefined };
}
