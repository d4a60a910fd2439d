// The page's downloads: at most one per panel, cancelled by the panel's Cancel or by the next load of
// that panel (a built-in chosen while a URL is still arriving must not be replaced by it later).
import { DOWNLOAD_IDLE_SECONDS } from '../../data/download.ts';

export type Panel = 'model' | 'data';

/** The idle timeout, read once at startup. `?downloadIdleSeconds=N` shortens it so that a test sees a
 *  stalled server give up in seconds rather than after the real 30 s; anything else keeps the default. */
export const idleSeconds = (() => {
  const v = Number(new URLSearchParams(globalThis.location?.search).get('downloadIdleSeconds'));
  return v > 0 ? v : DOWNLOAD_IDLE_SECONDS;
})();

const running: Partial<Record<Panel, AbortController>> = {};

/** A new load of the panel: stops the download in progress, and gives the new load its signal. */
export function beginLoad(panel: Panel): AbortSignal {
  running[panel]?.abort();
  const controller = new AbortController();
  running[panel] = controller;
  return controller.signal;
}

/** Whether a later load of the panel has replaced the one with this signal (whose outcome is then moot). */
export function replaced(panel: Panel, signal: AbortSignal): boolean {
  return running[panel]?.signal !== signal;
}

/** The panel's Cancel. */
export function cancelDownload(panel: Panel): void {
  running[panel]?.abort();
}
