// Opening, reading and filling the playground page in the e2e tests.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { RunRecord } from '../../src/app/runs/run-record.ts';
import { builtinsReady } from '../../src/node/playground-page.ts';
import { openPage } from './browser.ts';

export { builtinsReady };

/** Types each value into the run panel's field of that key. */
export async function setFields(page: Page, values: Record<string, string>): Promise<void> {
  for (const [key, v] of Object.entries(values)) await page.locator(`#field-${key}`).fill(v);
}

/** The first word of each run's status cell, in the runs table's order. */
export async function statuses(page: Page): Promise<string[]> {
  return (await page.getByTestId('run-status').allInnerTexts()).map((s) => s.split(/\s/)[0]);
}

/** The runs' statuses once `want` holds of them, polled twice a second; each poll's statuses go to `seen`. */
export async function untilStatuses(
  page: Page,
  want: (s: string[]) => boolean,
  timeout = 300_000,
  seen?: (s: string[]) => void,
): Promise<string[]> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const s = await statuses(page);
    seen?.(s);
    if (want(s)) return s;
    if (Date.now() > deadline) throw new Error(`statuses stayed ${JSON.stringify(s)}`);
    await page.waitForTimeout(500);
  }
}

/** The file a click on `testId` downloads, saved locally (the browser runs in another process). */
export async function downloaded(page: Page, testId: string): Promise<Buffer> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const path = join(mkdtempSync(join(tmpdir(), 'stochca-dl-')), d.suggestedFilename());
  await d.saveAs(path);
  return readFileSync(path);
}

/** The runs' statuses as this origin's IndexedDB holds them (idb-keyval's store, src/app/runs/persist.ts),
 *  oldest first: what a reload will read. */
export function storedStatuses(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const request = <T>(r: IDBRequest<T>) =>
      new Promise<T>(
        (resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))),
      );
    const db = await request(indexedDB.open('keyval-store'));
    const values = (await request(db.transaction('keyval').objectStore('keyval').getAll())) as Partial<RunRecord>[];
    db.close();
    const runs = values.filter((r) => typeof r?.status === 'string' && Array.isArray(r.train));
    return runs.sort((x, y) => x.createdAt! - y.createdAt!).map((r) => r.status!);
  });
}

/** Until storage holds `want`: a run's end reaches the page's table a moment before its record is
 *  written (at the end of that task), and a reload in between reads the run as it was before. */
export async function untilStored(page: Page, want: string[]): Promise<void> {
  await expect.poll(() => storedStatuses(page), { timeout: 30_000, interval: 100 }).toEqual(want);
}

/** Long tasks of the main thread, recorded from before the page's scripts run (an init script of openPage). */
export function watchLongTasks() {
  (window as unknown as { longTasks: number[] }).longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) (window as unknown as { longTasks: number[] }).longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
}

/** A fresh page of the playground as `npm start` serves it, in a browser context of its own (so with
 *  storage of its own), once the built-in model and dataset are ready; with `kept`, it starts from the
 *  runs and files another page kept (keptState). Each test opens its own, and so starts from its own state. */
export async function openPlayground(
  options: { path?: string; browser?: Browser; init?: () => void; kept?: KeptState } = {},
): Promise<Page> {
  const page = await openPage(options.path ?? '/', { app: true, browser: options.browser, init: options.init });
  await builtinsReady(page);
  if (options.kept) {
    await page.evaluate(restoreInPage, options.kept);
    await page.reload();
    await builtinsReady(page);
  }
  return page;
}

/** What a page of the playground keeps in its origin: its runs' records (IndexedDB, as JSON whose byte
 *  arrays and non-finite numbers are tagged) and its files (OPFS: the runs' checkpoints and models, the
 *  zoo's cache), base64. */
export interface KeptState {
  records: string;
  files: { path: string; base64: string }[];
}

/** Run records as a page keeps them (persist.ts), with no files: runs whose curves a test needs, not their models. */
export function keptRuns(runs: RunRecord[]): KeptState {
  return { records: JSON.stringify(runs.map((r) => [`stochca-run:${r.id}`, r])), files: [] };
}

/** What `page` keeps now, for other pages to start from (openPlayground's `kept`). */
export function keptState(page: Page): Promise<KeptState> {
  return page.evaluate(async (): Promise<KeptState> => {
    const base64 = (bytes: Uint8Array) => {
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    };
    const request = <T>(r: IDBRequest<T>) =>
      new Promise<T>(
        (resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))),
      );
    const db = await request(indexedDB.open('keyval-store'));
    const store = db.transaction('keyval').objectStore('keyval');
    const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    db.close();
    const records = JSON.stringify(
      keys.map((k, i) => [k, values[i]]),
      (_, v: unknown) =>
        v instanceof Uint8Array
          ? { bytes: base64(v) }
          : typeof v === 'number' && !Number.isFinite(v)
            ? { number: String(v) }
            : v,
    );
    const files: KeptState['files'] = [];
    const walk = async (dir: FileSystemDirectoryHandle, prefix: string): Promise<void> => {
      for await (const [name, handle] of (
        dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }
      ).entries()) {
        if (handle.kind === 'file') {
          const file = await (handle as FileSystemFileHandle).getFile();
          files.push({ path: prefix + name, base64: base64(new Uint8Array(await file.arrayBuffer())) });
        } else await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`);
      }
    };
    await walk(await navigator.storage.getDirectory(), '');
    return { records, files };
  });
}

/** Writes a KeptState into the page's origin (run in the page, before a reload reads it). */
async function restoreInPage(kept: KeptState): Promise<void> {
  const bytes = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const request = <T>(r: IDBRequest<T>) =>
    new Promise<T>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
  const records = JSON.parse(kept.records, (_, v: unknown) =>
    v && typeof v === 'object' && 'bytes' in v && typeof v.bytes === 'string'
      ? bytes(v.bytes)
      : v && typeof v === 'object' && 'number' in v && typeof v.number === 'string'
        ? Number(v.number)
        : v,
  ) as [IDBValidKey, unknown][];
  const open = indexedDB.open('keyval-store');
  open.onupgradeneeded = () => open.result.createObjectStore('keyval');
  const db = await request(open);
  const tx = db.transaction('keyval', 'readwrite');
  for (const [k, v] of records) tx.objectStore('keyval').put(v, k);
  await new Promise((resolve, reject) => ((tx.oncomplete = resolve), (tx.onerror = () => reject(tx.error))));
  db.close();
  for (const { path, base64 } of kept.files) {
    const parts = path.split('/');
    let dir = await navigator.storage.getDirectory();
    for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create: true });
    const writable = await (await dir.getFileHandle(parts.at(-1)!, { create: true })).createWritable();
    await writable.write(bytes(base64));
    await writable.close();
  }
}
