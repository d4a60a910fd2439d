// The data benchmark page: the built-in MNIST pack through the browser's decode workers and the batcher.
import { cacheSizeFor } from '../data/augment.ts';
import { BrowserDecoder } from '../data/decode-browser.ts';
import { zipTree } from '../data/zip-source.ts';
import { DATA_SIZE, measureDataPasses, type DataResult } from './data-pipeline.ts';
import type { BenchPage } from './page.ts';

try {
  const blob = await (await fetch('/public/packs/mnist.zip')).blob();
  const decoder = new BrowserDecoder();
  const C = cacheSizeFor(DATA_SIZE);
  let results: Promise<DataResult[]> | undefined;
  const page: BenchPage<DataResult> = {
    adapter: { vendor: '', architecture: '', description: navigator.userAgent, timestamps: false },
    cases: ['chromium first pass', 'chromium cached'].map((name) => ({ name, shape: '' })),
    run: async (name) => {
      results ??= measureDataPasses('chromium', await zipTree(blob, 'mnist.zip'), (entry) => decoder.decode(entry, C));
      const r = (await results).find((x) => x.name === name);
      if (!r) throw new Error(`no data case named ${name}`);
      return r;
    },
  };
  window.stochcaBench = page;
} catch (e) {
  window.stochcaBenchError = String(e);
}
