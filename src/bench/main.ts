// npm run bench -- <suite> [--json] [--model a,b] [--batch N] [--warmup N] [--steps N]: serves
// the suite's page with Vite, runs it in headless Chromium (WebGPU), and prints one row per case
// as it finishes. npm run bench -- gpu-report runs the kernel and training suites on a GPU
// (gpu-report.ts).
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { chromiumPath, INSTALL_CHROMIUM, launchChromium } from '../node/chromium.ts';
import type { DevServer } from '../node/dev-server.ts';
import { kernelTable } from './table.ts';
import { trainTable } from './train-table.ts';
import type { AdapterFields, CaseInfo } from './page.ts';
import { DEFAULT_TRAIN_MODELS, TRAIN_MODELS } from './train-models.ts';
import { DATA_SIZE, dataTable, measureDataPasses } from './data-pipeline.ts';
import { cacheSizeFor } from '../data/augment.ts';
import { nodeDecoder } from '../data/decode-node.ts';
import { openDataPath } from '../data/folder-source.ts';
import { openBenchPage, pageQuery, startBenchServer } from './open-page.ts';
import { GPU_REPORT_MODELS, gpuReport, SOFTWARE_REPORT_MODELS, type ReportOptions } from './gpu-report.ts';
import { errorMessage } from '../gpu/error-message.ts';

type Option = 'model' | 'batch' | 'warmup' | 'steps' | 'allow-software';

interface Suite {
  page: string;
  table(adapter: AdapterFields, cases: CaseInfo[]): { header: string[]; row(r: CaseInfo): string };
  /** The options it takes besides --json. */
  options: Option[];
  /** Cases measured in this Node process before the page's, and how. */
  node?: { cases: CaseInfo[]; run(): Promise<CaseInfo[]> };
}

const MNIST_PACK = fileURLToPath(new URL('../../public/packs/mnist.zip', import.meta.url));

const SUITES: Record<string, Suite> = {
  kernels: { page: '/bench/kernels.html', table: kernelTable, options: ['model', 'batch'] },
  train: { page: '/bench/train.html', table: trainTable, options: ['model', 'batch', 'warmup', 'steps'] },
  data: {
    page: '/bench/data.html',
    options: [],
    table: (_adapter, cases) => dataTable(cases) as ReturnType<Suite['table']>,
    node: {
      cases: ['node first pass', 'node cached'].map((name) => ({ name, shape: '' })),
      run: async () => measureDataPasses('node', await openDataPath(MNIST_PACK), nodeDecoder(cacheSizeFor(DATA_SIZE))),
    },
  },
};

const MODELS = Object.keys(TRAIN_MODELS);

const USAGE = `usage: npm run bench -- <suite> [--json] [--model <name>[,<name>...]] [--batch N] [--warmup N] [--steps N]
       npm run bench -- gpu-report [--json] [--allow-software] [--model <name>[,<name>...]] [--batch N] [--warmup N] [--steps N]
suites: ${Object.keys(SUITES).join(', ')}
  --json    one JSON object per case and line on stdout
  --model   kernels and train: the ViTs to time. train's default is ${DEFAULT_TRAIN_MODELS.join(',')}, cut
            down for CPU adapters; kernels then times each model's block (its Linears and attention) in
            place of its default cases. vit-ti16-224, vit-s16-224 and vit-b16-224 are ViT-Ti/16, ViT-S/16
            and ViT-B/16 at 224 px, batch 32 (models: ${MODELS.join(', ')})
  --batch   kernels and train: every model's batch (e.g. 4 for the 224-px models on a CPU adapter)
  --warmup  train: the untimed steps after the first, checked one (which also compiles every kernel)
  --steps   train: the timed steps per engine and case
gpu-report: the kernels and train suites for ${GPU_REPORT_MODELS.join(',')} on the hardware
  GPU, in this process on Dawn (STOCHCA_HOST=chromium: in headless Chromium), against TF.js webgpu on the
  same device, with each kernel's share of the GPU time
  --allow-software  without a hardware adapter, run on SwiftShader (in headless Chromium) with
                    ${SOFTWARE_REPORT_MODELS.join(',')} instead of stopping
  --model, --batch, --warmup, --steps  as for kernels and train
STOCHCA_LAYOUT=gpu|cpu forces the kernel layout (default: the adapter's choice, see docs/engine.md)`;

interface Args extends ReportOptions {
  /** A suite's name, or gpu-report. */
  name: string;
}

const OPTIONS: Record<string, Option[]> = {
  ...Object.fromEntries(Object.entries(SUITES).map(([name, suite]) => [name, suite.options])),
  'gpu-report': ['model', 'batch', 'warmup', 'steps', 'allow-software'],
};

/** A whole number of at least `min`, or undefined. */
function count(text: string | undefined, min: number): number | undefined {
  const n = text !== undefined && /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  return n >= min ? n : undefined;
}

/** The command line, or undefined when it asks for anything unknown. */
function parseArgs(args: string[]): Args | undefined {
  const positional: string[] = [];
  const given = new Set<Option>();
  const parsed: Omit<Args, 'name'> = { json: false, overrides: {}, allowSoftware: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = () => inline ?? args[++i];
    if (flag === '--json') parsed.json = true;
    else if (flag === '--allow-software') {
      given.add('allow-software');
      parsed.allowSoftware = true;
    } else if (flag === '--model') {
      const v = value();
      if (!v || !v.split(',').every((m) => MODELS.includes(m))) return undefined;
      given.add('model');
      parsed.models = [...(parsed.models ?? []), ...v.split(',')];
    } else if (flag === '--batch' || flag === '--warmup' || flag === '--steps') {
      const key = flag.slice(2) as 'batch' | 'warmup' | 'steps';
      const n = count(value(), key === 'warmup' ? 0 : 1);
      if (n === undefined) return undefined;
      given.add(key);
      parsed.overrides[key] = n;
    } else if (a.startsWith('--')) return undefined;
    else positional.push(a);
  }
  const [name] = positional;
  if (positional.length !== 1 || !(name in OPTIONS)) return undefined;
  if ([...given].some((o) => !OPTIONS[name].includes(o))) return undefined;
  return { name, ...parsed };
}

async function run({ name, json, models, overrides }: Args): Promise<void> {
  const suite = SUITES[name];
  const query = pageQuery(models, overrides);
  let server: DevServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startBenchServer();
    browser = await launchChromium();
    const page = await openBenchPage(browser, `${server.url}${suite.page}${query.size ? `?${query}` : ''}`);
    const { adapter, cases } = page;
    const table = suite.table(adapter, [...(suite.node?.cases ?? []), ...cases]);
    if (!json) for (const line of table.header) console.log(line);
    for (const r of (await suite.node?.run()) ?? []) console.log(json ? JSON.stringify(r) : table.row(r));
    for (const { name } of cases) {
      const r = await page.run(name);
      const { vendor, architecture, description, layout } = adapter;
      console.log(json ? JSON.stringify({ ...r, vendor, architecture, description, layout }) : table.row(r));
      for (const w of r.warnings ?? []) console.error(`warning: ${w}`);
    }
  } finally {
    await browser?.close();
    await server?.close();
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    console.error(USAGE);
    return 1;
  }
  try {
    // gpu-report on a hardware adapter runs in this process: a GPU machine needs no browser.
    if (args.name === 'gpu-report') return await gpuReport(args);
    try {
      chromiumPath();
    } catch {
      console.error(INSTALL_CHROMIUM);
      return 1;
    }
    await run(args);
    return 0;
  } catch (e) {
    console.error(`bench ${args.name}: ${errorMessage(e)}`);
    return 1;
  }
}

// An exit, not an exit code: Dawn, once gpu-report has loaded it, may keep the event loop alive.
process.exit(await main());
