// The README's screenshot: the playground as `npm start` serves it, at 1280×800, after Compare has trained
// its runs (StochCA and fine-tuning on each of the seeds set beside it, 3 by default) with the page's
// defaults (or with the fields given, e.g. `--steps 60`), written to docs/screenshot.png (or --out).
// Run with `npx tsx scripts/screenshot.ts`; it takes minutes on a CPU.
import { parseArgs } from 'node:util';
import { launchChromium } from '../src/node/chromium.ts';
import { startPreviewServer } from '../src/node/dev-server.ts';
import { builtinsReady } from '../src/node/playground-page.ts';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'docs/screenshot.png' }, steps: { type: 'string' } },
});

const server = await startPreviewServer();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.url);
  await builtinsReady(page);
  if (values.steps) await page.locator('#field-steps').fill(values.steps);
  // One run per method per seed: StochCA and fine-tuning.
  const runs = 2 * Number(await page.locator('#field-seeds').inputValue());
  await page.getByTestId('compare').click();
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll('[data-testid=run-status]')].filter((e) => /^finished/.test(e.textContent ?? ''))
        .length >= n,
    runs,
    { timeout: 3_600_000, polling: 1000 },
  );
  await page.screenshot({ path: values.out });
  const table = await page
    .getByTestId('runs')
    .innerText()
    .catch(() => '');
  console.log(`${values.out} written${table ? `\n${table}` : ''}`);
} finally {
  await browser.close();
  await server.close();
}
