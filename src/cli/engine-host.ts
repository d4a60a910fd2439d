// Where the command line runs the engine. With a hardware GPU, Dawn in this Node process.
// Without one, SwiftShader inside headless Chromium: Dawn for Node on SwiftShader crashes
// when it polls for completion while a kernel runs (see docs/engine.md), Chromium's does not.
// STOCHCA_HOST=node|chromium forces a choice. STOCHCA_HOST_PAGE, the URL of a build of cli/host.html
// already served (the test suite serves one for all its commands), spares Chromium's host a dev server.
import { NoWebGPUError } from '../gpu/errors.ts';
import { envLayout, requestNodeGpu } from '../gpu/device-node.ts';
import { hostApi, type HostApi } from './engine-commands.ts';
import { errorMessage } from '../gpu/error-message.ts';
import { receiveLarge, sendLarge, type PageParking } from './host-transfer.ts';

export interface EngineHost {
  /** Where the engine runs: Dawn in this process, or a headless Chromium page. */
  readonly kind: 'node' | 'chromium';
  /** The adapter, in words. */
  readonly adapter: string;
  /** Runs one of the engine commands (engine-commands.ts `hostApi`) where the engine lives. */
  call<K extends keyof HostApi>(name: K, ...args: Parameters<HostApi[K]>): Promise<HostResult<K>>;
  close(): Promise<void>;
}

type HostResult<K extends keyof HostApi> = Awaited<ReturnType<HostApi[K]>>;

const SOFTWARE_IN_NODE =
  'STOCHCA_HOST=node found no GPU, only SwiftShader, on which Dawn for Node crashes while kernels run: ' +
  'unset STOCHCA_HOST (or set it to chromium) to run the engine in headless Chromium.';

export async function openEngineHost(): Promise<EngineHost> {
  const choice = process.env.STOCHCA_HOST;
  if (choice !== 'chromium') {
    try {
      const gpu = await requestNodeGpu(choice === 'node' ? 'auto' : 'hardware');
      const api = hostApi(gpu);
      return {
        kind: 'node',
        adapter: `${gpu.adapter.vendor} ${gpu.adapter.description || gpu.adapter.architecture}`.trim(),
        call: async <K extends keyof HostApi>(name: K, ...args: Parameters<HostApi[K]>): Promise<HostResult<K>> => {
          // Only STOCHCA_HOST=node gets here with a software adapter; its kernels would abort the process.
          if (gpu.adapter.fallback && name !== 'info') throw new NoWebGPUError(SOFTWARE_IN_NODE);
          return (await (api[name] as (...a: unknown[]) => unknown)(...args)) as HostResult<K>;
        },
        close: async () => gpu.destroy(),
      };
    } catch (e) {
      if (!(e instanceof NoWebGPUError) || choice === 'node') throw e;
    }
  }
  return openChromiumHost();
}

async function openChromiumHost(): Promise<EngineHost> {
  const { launchChromium } = await import('../node/chromium.ts');
  const built = process.env.STOCHCA_HOST_PAGE || undefined;
  // Vite is loaded only when it serves the page.
  const server = built
    ? undefined
    : await (await import('../node/dev-server.ts')).startDevServer({ logLevel: 'silent' });
  const url = built ?? `${server!.url}/cli/host.html`;
  const closers: (() => Promise<unknown>)[] = server ? [() => server.close()] : [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    // Ctrl-C is the command's: `stochca train` ends the step in progress and checkpoints on this engine.
    const browser = await launchChromium(undefined, { handleSIGINT: false });
    closers.push(() => browser.close());
    const page = await browser.newPage();
    const layout = envLayout(); // a page cannot read the environment: STOCHCA_LAYOUT goes in the URL
    await page.goto(`${url}${layout ? `?layout=${layout}` : ''}`);
    await page.waitForFunction(() => window.stochcaHost || window.stochcaHostError, null, { timeout: 120_000 });
    const error = await page.evaluate(() => window.stochcaHostError);
    if (error) throw new NoWebGPUError(`WebGPU did not start in Chromium: ${error}`);
    const adapter = await page.evaluate(() => window.stochcaHost!.adapter);
    const parking: PageParking = {
      alloc: (n) => page.evaluate((n) => window.stochcaHost!.parking.alloc(n), n),
      write: (id, at, piece) =>
        page.evaluate(([id, at, piece]) => window.stochcaHost!.parking.write(id, at, piece), [id, at, piece] as const),
      read: (id, at) => page.evaluate(([id, at]) => window.stochcaHost!.parking.read(id, at), [id, at] as const),
      free: (id) => page.evaluate((id) => window.stochcaHost!.parking.free(id), id),
    };
    return {
      kind: 'chromium',
      adapter,
      // Errors thrown in the page arrive as "page.evaluate: Error: <message>"; keep the message.
      call: async <K extends keyof HostApi>(name: K, ...args: Parameters<HostApi[K]>): Promise<HostResult<K>> => {
        const sent = await sendLarge(args, parking).catch(unwrap);
        const result = await page
          .evaluate(([n, a]) => window.stochcaHost!.call(n, a as unknown[]), [name, sent] as const)
          .catch(unwrap);
        return receiveLarge<HostResult<K>>(result, parking).catch(unwrap);
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

function unwrap(e: unknown): never {
  const message = errorMessage(e);
  const m = /^page\.evaluate: (?:\w*Error: )?/.exec(message);
  if (!m) throw new Error(message);
  // The message's detail lines follow its first; the page's stack follows them, a "    at …" line per frame.
  const lines = message.slice(m[0].length).split('\n');
  const stack = lines.findIndex((line) => /^\s+at /.test(line));
  throw new Error(lines.slice(0, stack < 0 ? undefined : stack).join('\n'));
}
