// npm run bench -- gpu-report: the kernel and training benchmarks of ViT-Ti/S/B/16 at 224 px on
// this machine's GPU, against TF.js webgpu on the same device, with each kernel's share of the
// GPU time of a training step. With a hardware adapter the suites run in this Node process on
// Dawn (node-suites.ts), so a GPU machine needs no browser. Without one the report stops in one
// line, unless --allow-software runs it on SwiftShader with a tiny model, in headless Chromium
// like the other suites (Dawn for Node on SwiftShader crashes on long kernels, see docs/engine.md).
// STOCHCA_HOST=node|chromium forces where the suites run.
import type { Browser } from 'playwright-core';
import { NoWebGPUError } from '../gpu/errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { requestNodeGpu } from '../gpu/device-node.ts';
import type { AdapterFields, CaseInfo, KernelResult, TrainResult } from './page.ts';
import { kernelShares, shareTables, type KernelShares } from './share-table.ts';
import { adapterName, kernelTable } from './table.ts';
import { trainTable } from './train-table.ts';
import type { TrainOverrides } from './train-models.ts';
import { chromiumArgs, launchChromium } from '../node/chromium.ts';
import type { DevServer } from '../node/dev-server.ts';
import { openBenchPage, pageQuery, startBenchServer, type OpenBenchPage } from './open-page.ts';
import { openNodeSuite } from './node-suites.ts';

export const GPU_REPORT_MODELS = ['vit-ti16-224', 'vit-s16-224', 'vit-b16-224'];
export const SOFTWARE_REPORT_MODELS = ['vit-tiny-16px'];

export interface ReportOptions {
  json: boolean;
  models?: string[];
  overrides: TrainOverrides;
  /** Run on SwiftShader when there is no hardware adapter. */
  allowSoftware: boolean;
}

type SuiteName = 'kernels' | 'train';

/** Where the suites run: Dawn in this process, or pages of a headless Chromium. */
interface Host {
  /** In words, for the report. */
  text: string;
  open<R extends CaseInfo>(suite: SuiteName, query: URLSearchParams): Promise<OpenBenchPage<R>>;
  close(): Promise<void>;
}

function nodeHost(gpu: Gpu, text: string): Host {
  return { text, open: (suite, query) => openNodeSuite(gpu, suite, query), close: async () => gpu.destroy() };
}

async function chromiumHost(software: boolean, text: string): Promise<Host> {
  let server: DevServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.close();
  };
  try {
    server = await startBenchServer();
    // Unquantised timestamps: Chrome rounds them to 100 µs otherwise, longer than many kernels on a GPU.
    browser = await launchChromium([...chromiumArgs(software), '--enable-webgpu-developer-features']);
    const { url } = server;
    return { text, open: (suite, query) => openBenchPage(browser!, `${url}/bench/${suite}.html?${query}`), close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The host for this machine: undefined (and why) when it has no hardware adapter and software is not allowed. */
async function chooseHost(allowSoftware: boolean): Promise<{ host?: Host; software: boolean; missing?: string }> {
  const forced = process.env.STOCHCA_HOST;
  let gpu: Gpu | undefined;
  try {
    gpu = await requestNodeGpu('hardware');
  } catch (e) {
    if (!(e instanceof NoWebGPUError)) throw e;
    if (!allowSoftware) return { software: true, missing: e.message };
    if (forced === 'node') {
      return {
        host: nodeHost(
          await requestNodeGpu('swiftshader'),
          `Dawn in Node on SwiftShader (STOCHCA_HOST=node; ${e.message})`,
        ),
        software: true,
      };
    }
    return {
      host: await chromiumHost(true, `headless Chromium on SwiftShader (--allow-software; ${e.message})`),
      software: true,
    };
  }
  if (forced === 'chromium') {
    gpu.destroy();
    return {
      host: await chromiumHost(false, 'headless Chromium on the hardware adapter (STOCHCA_HOST=chromium)'),
      software: false,
    };
  }
  return { host: nodeHost(gpu, 'Dawn in Node on the hardware adapter'), software: false };
}

const adapterText = (a: AdapterFields) =>
  `${adapterName(a)} (fallback adapter: ${a.fallback ? 'yes' : 'no'}; ` +
  `GPU timestamps: ${a.timestamps ? 'yes' : 'no'}; kernel layout: ${a.layout})`;

/** Prints the report; returns the exit code. */
export async function gpuReport(o: ReportOptions): Promise<number> {
  const { host, software, missing } = await chooseHost(o.allowSoftware);
  if (!host) {
    console.error(
      `bench gpu-report: no hardware GPU: ${missing} (--allow-software runs the report on SwiftShader with a tiny model)`,
    );
    return 1;
  }
  const models = o.models ?? (software ? SOFTWARE_REPORT_MODELS : GPU_REPORT_MODELS);
  const query = pageQuery(models, o.overrides);
  const out = (text: string[], json: object[]) => {
    if (o.json) for (const j of json) console.log(JSON.stringify(j));
    else for (const line of text) console.log(line);
  };
  try {
    const kernels = await host.open<KernelResult>('kernels', query);
    const { adapter } = kernels;
    if (!software && adapter.fallback) throw new Error(`${host.text}, but the device is on ${adapterText(adapter)}`);
    out(
      [
        `GPU report: ${models.join(', ')}`,
        `adapter: ${adapterText(adapter)}`,
        `host: ${host.text}; TF.js webgpu on the same device`,
        '',
      ],
      [{ section: 'adapter', ...adapter, software, host: host.text, models }],
    );

    const kTable = kernelTable(adapter, kernels.cases);
    // Each table's first header line names the adapter, which the report gives once above.
    out(['kernels: one block of each model at its batch', ...kTable.header.slice(1)], []);
    for (const { name } of kernels.cases) {
      const r = await kernels.run(name);
      out([kTable.row(r)], [{ section: 'kernels', ...r }]);
    }
    await kernels.close();

    const train = await host.open<TrainResult>('train', query);
    const tTable = trainTable(adapter, train.cases);
    out(['', 'training steps', ...tTable.header.slice(1)], []);
    const shares: KernelShares[] = [];
    for (const { name } of train.cases) {
      const r = await train.run(name);
      out([tTable.row(r)], [{ section: 'train', ...r }]);
      for (const w of r.warnings ?? []) console.error(`warning: ${w}`);
      const s = kernelShares(r);
      if (s) shares.push(s);
    }
    await train.close();

    out(
      [
        '',
        'share of GPU time per kernel (timestamps, every dispatch in its own pass; a step of each case over its timed masks)',
      ],
      [],
    );
    if (shares.length === 0) out(['none: the adapter has no timestamp-query'], []);
    else
      out(
        shareTables(shares),
        shares.map((s) => ({ section: 'shares', ...s })),
      );
    return 0;
  } finally {
    await host.close();
  }
}
