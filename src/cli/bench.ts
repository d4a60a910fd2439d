// npm run bench -- <suite> [--json] [--model a,b]: serves the suite's page with Vite,
// runs it in headless Chromium (WebGPU), and prints one row per case as it finishes.
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { envLayout } from '../gpu/device-node.ts';
import { chromiumPath, INSTALL_CHROMIUM, launchChromium } from '../node/chromium.ts';
import { startDevServer, type DevServer } from '../node/dev-server.ts';
import { kernelTable } from '../bench/table.ts';
import { trainTable } from '../bench/train-table.ts';
import type { AdapterFields, BenchPage, CaseInfo } from '../bench/page.ts';
import { DEFAULT_TRAIN_MODELS, TRAIN_MODELS } from '../bench/train-models.ts';
import { DATA_SIZE, dataTable, measureDataPasses } from '../bench/data-pipeline.ts';
import { cacheSizeFor } from '../data/augment.ts';
import { nodeDecoder } from '../data/decode-node.ts';
import { openDataPath } from '../data/folder-source.ts';

interface Suite {
  page: string;
  table(adapter: AdapterFields, cases: CaseInfo[]): { header: string[]; row(r: CaseInfo): string };
  /** The names --model accepts; suites without it take no --model. */
  models?: string[];
  /** Cases measured in this Node process before the page's, and how. */
  node?: { cases: CaseInfo[]; run(): Promise<CaseInfo[]> };
}

const MNIST_PACK = fileURLToPath(new URL('../../public/packs/mnist.zip', import.meta.url));

const SUITES: Record<string, Suite> = {
  kernels: { page: '/bench/kernels.html', table: kernelTable },
  train: { page: '/bench/train.html', table: trainTable, models: Object.keys(TRAIN_MODELS) },
  data: {
    page: '/bench/data.html',
    table: (_adapter, cases) => dataTable(cases) as ReturnType<Suite['table']>,
    node: {
      cases: ['node first pass', 'node cached'].map((name) => ({ name, shape: '' })),
      run: async () => measureDataPasses('node', await openDataPath(MNIST_PACK), nodeDecoder(cacheSizeFor(DATA_SIZE))),
    },
  },
};

const USAGE = `usage: npm run bench -- <suite> [--json] [--model <name>[,<name>...]]
suites: ${Object.keys(SUITES).join(', ')}
  --json   one JSON object per case and line on stdout
  --model  train only: the ViTs to time (default ${DEFAULT_TRAIN_MODELS.join(',')}, cut down for
           CPU adapters); vit-ti16-224 and vit-s16-224 are ViT-Ti/16 and ViT-S/16 at 224 px
           (models: ${Object.keys(TRAIN_MODELS).join(', ')})
STOCHCA_LAYOUT=gpu|cpu forces the kernel layout (default: the adapter's choice, see README)`;

interface Args {
  suite: Suite;
  name: string;
  json: boolean;
  models?: string[];
}

/** The command line, or undefined when it asks for anything unknown. */
function parseArgs(args: string[]): Args | undefined {
  const positional: string[] = [];
  let json = false;
  let models: string[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--model' || a.startsWith('--model=')) {
      const value = a === '--model' ? args[++i] : a.slice('--model='.length);
      if (!value) return undefined;
      models = [...(models ?? []), ...value.split(',')];
    } else if (a.startsWith('--')) return undefined;
    else positional.push(a);
  }
  const [name] = positional;
  if (positional.length !== 1 || !(name in SUITES)) return undefined;
  const suite = SUITES[name];
  if (models && !(suite.models && models.every((m) => suite.models!.includes(m)))) return undefined;
  return { suite, name, json, models };
}

async function run({ suite, json, models }: Args): Promise<void> {
  // The page's query: --model, and STOCHCA_LAYOUT (a page cannot read the environment).
  const query = new URLSearchParams();
  if (models) query.set('models', models.join(','));
  const forced = envLayout();
  if (forced) query.set('layout', forced);
  let server: DevServer | undefined;
  let browser: Browser | undefined;
  try {
    // TF.js pre-bundled before the page asks for it, so a late discovery cannot reload the page.
    server = await startDevServer({
      prebundle: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-core/dist/register_all_gradients', '@tensorflow/tfjs-backend-webgpu'],
    });
    browser = await launchChromium();
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${server.url}${suite.page}${query.size ? `?${query}` : ''}`);
    await page.waitForFunction(() => window.stochcaBench || window.stochcaBenchError, null, { timeout: 120_000 });
    const error = await page.evaluate(() => window.stochcaBenchError);
    if (error) throw new Error(`the benchmark page did not start: ${error}`);
    const { adapter, cases } = await page.evaluate(() => {
      const { adapter, cases } = window.stochcaBench as BenchPage;
      return { adapter, cases };
    });
    const table = suite.table(adapter, [...(suite.node?.cases ?? []), ...cases]);
    if (!json) for (const line of table.header) console.log(line);
    for (const r of (await suite.node?.run()) ?? []) console.log(json ? JSON.stringify(r) : table.row(r));
    for (const { name } of cases) {
      const r = await page.evaluate((n) => (window.stochcaBench as BenchPage).run(n), name);
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
    chromiumPath();
  } catch {
    console.error(INSTALL_CHROMIUM);
    return 1;
  }
  try {
    await run(args);
    return 0;
  } catch (e) {
    console.error(`bench ${args.name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

process.exitCode = await main();
