// Reading and filling the playground page in the e2e tests.
import type { Page } from 'playwright-core';

/** Types each value into the run panel's field of that key. */
export async function setFields(page: Page, values: Record<string, string>): Promise<void> {
  for (const [key, v] of Object.entries(values)) await page.locator(`#field-${key}`).fill(v);
}

/** The first word of each run's status cell, in the runs table's order. */
export async function statuses(page: Page): Promise<string[]> {
  return (await page.getByTestId('run-status').allInnerTexts()).map((s) => s.split(/\s/)[0]);
}

/** Long tasks of the main thread, recorded from before the page's scripts run (an init script of openPage). */
export function watchLongTasks() {
  (window as unknown as { longTasks: number[] }).longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) (window as unknown as { longTasks: number[] }).longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
}
