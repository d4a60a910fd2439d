// What the page does once it has found the GPU: the runs kept in this browser first, then the link's
// experiment (or the built-in model and dataset), then the hash follows the fields.
import { askPersistentStorage, KeptRuns } from './runs/persist.ts';
import { openFromHash, syncHash } from './share/link-sync.ts';
import type { AppStore } from './store.ts';

async function restore(store: AppStore): Promise<void> {
  const kept = new KeptRuns(store);
  await kept.restore();
  kept.follow();
  void askPersistentStorage(store);
  openFromHash(location.hash);
  syncHash();
}

/** The page's start, run on the first call only (React's development mode mounts twice). */
export function pageStart(store: AppStore): () => Promise<void> {
  let started: Promise<void> | undefined;
  return () => (started ??= restore(store));
}
