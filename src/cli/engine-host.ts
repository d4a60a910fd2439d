// Where the command line runs the engine. With a hardware GPU, Dawn in this Node process.
// Without one, SwiftShader inside headless Chromium: Dawn for Node on SwiftShader crashes
// when it polls for completion while a kernel runs (see README), Chromium's does not.
// STOCHCA_HOST=node|chromium forces a choice.
import { fileURLToPath } from 'node:url';
import { NoWebGPUError } from '../gpu/errors.ts';
import { requestNodeGpu } from '../gpu/device-node.ts';
import type { StepRecord } from '../train/session.ts';
import {
  gradCommand, inferCommand, TrainCommands, type GradArgs, type GradResult, type InferArgs, type TrainInfo, type TrainStartArgs,
} from './engine-commands.ts';

export interface EngineHost {
  /** The adapter, in words. */
  readonly adapter: string;
  infer(a: InferArgs): Promise<Uint8Array>;
  grad(a: GradArgs): Promise<GradResult>;
  train: {
    start(a: TrainStartArgs): Promise<TrainInfo>;
    step(pixels: Uint32Array, labels: Uint32Array, step: number): Promise<StepRecord>;
    logits(pixels: Uint32Array, count: number): Promise<Float32Array>;
    save(): Promise<Uint8Array>;
  };
  close(): Promise<void>;
}

export async function openEngineHost(): Promise<EngineHost> {
  const choice = process.env.STOCHCA_HOST;
  if (choice !== 'chromium') {
    try {
      const gpu = await requestNodeGpu(choice === 'node' ? 'auto' : 'hardware');
      const train = new TrainCommands(gpu);
      return {
        adapter: `${gpu.adapter.vendor} ${gpu.adapter.description || gpu.adapter.architecture}`.trim(),
        infer: (a) => inferCommand(gpu, a),
        grad: (a) => gradCommand(gpu, a),
        train: {
          start: async (a) => train.start(a),
          step: (pixels, labels, step) => train.step(pixels, labels, step),
          logits: (pixels, count) => train.logits(pixels, count),
          save: () => train.save(),
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
  const [{ createServer }, { launchChromium }] = await Promise.all([import('vite'), import('../node/chromium.ts')]);
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const vite = await createServer({
    root,
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
    logLevel: 'silent',
    clearScreen: false,
  });
  const closers: (() => Promise<unknown>)[] = [() => vite.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    await vite.listen();
    const address = vite.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('the engine host page server did not start');
    const browser = await launchChromium();
    closers.push(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${address.port}/cli/host.html`);
    await page.waitForFunction(() => window.stochcaHost || window.stochcaHostError, null, { timeout: 120_000 });
    const error = await page.evaluate(() => window.stochcaHostError);
    if (error) throw new NoWebGPUError(`WebGPU did not start in Chromium: ${error}`);
    const adapter = await page.evaluate(() => window.stochcaHost!.adapter);
    return {
      adapter,
      // Errors thrown in the page arrive as "page.evaluate: Error: <message>"; keep the message.
      infer: (a) => page.evaluate((a) => window.stochcaHost!.infer(a), a).catch(unwrap),
      grad: (a) => page.evaluate((a) => window.stochcaHost!.grad(a), a).catch(unwrap),
      train: {
        start: (a) => page.evaluate((a) => window.stochcaHost!.train.start(a), a).catch(unwrap),
        step: (pixels, labels, step) =>
          page.evaluate(([p, l, s]) => window.stochcaHost!.train.step(p, l, s), [pixels, labels, step] as const).catch(unwrap),
        logits: (pixels, count) =>
          page.evaluate(([p, c]) => window.stochcaHost!.train.logits(p, c), [pixels, count] as const).catch(unwrap),
        save: () => page.evaluate(() => window.stochcaHost!.train.save()).catch(unwrap),
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

function unwrap(e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  const m = /^page\.evaluate: (?:\w*Error: )?([^\n]*)/.exec(message);
  throw new Error(m ? m[1] : message);
}
