// Driving the playground page from Node (playwright-core): what the tests and the README's screenshot
// script wait for before they use it.
import type { Page } from 'playwright-core';

/** Waits for the built-in model and the MNIST pack, which a page without a link loads at its start. */
export async function builtinsReady(page: Page): Promise<void> {
  // Locators rather than expect.poll, so that this works in test hooks too.
  await page
    .getByTestId('model-name')
    .filter({ hasText: /built in/ })
    .waitFor({ timeout: 120_000 });
  await page
    .getByTestId('data-name')
    .filter({ hasText: /^MNIST digits$/ })
    .waitFor({ timeout: 120_000 });
}
