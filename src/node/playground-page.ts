// Driving the playground page from Node (playwright-core): what the tests and the README's screenshot
// script wait for before they use it.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { PACK_INDEX, type PackInfo } from '../train/builtins.ts';
import { defaultExperiment } from '../train/settings.ts';

/** The name the data panel shows for the default pack, from the checkout's public/packs/index.json. */
function defaultPackName(): string {
  const packs = JSON.parse(readFileSync(new URL(`../../public/${PACK_INDEX}`, import.meta.url), 'utf8')) as PackInfo[];
  const data = defaultExperiment().data;
  const pack = data.kind === 'pack' ? packs.find((p) => p.id === data.id) : undefined;
  if (!pack) throw new Error(`the default dataset is no built-in pack of ${PACK_INDEX}`);
  return pack.name;
}

/** Waits for the built-in model and the default pack, which a page without a link loads at its start. */
export async function builtinsReady(page: Page): Promise<void> {
  // Locators rather than expect.poll, so that this works in test hooks too.
  await page
    .getByTestId('model-name')
    .filter({ hasText: /built in/ })
    .waitFor({ timeout: 120_000 });
  await page.getByTestId('data-name').getByText(defaultPackName(), { exact: true }).waitFor({ timeout: 120_000 });
}
