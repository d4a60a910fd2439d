// Runs and their curves in IndexedDB (idb-keyval), one record per run, so that two tabs never
// overwrite each other's runs: a tab writes only the runs it changed, and tells the other tabs which
// (BroadcastChannel), who read those records again. A run training in a tab holds a Web Lock named
// after it (trainer.ts); in another tab it shows as training there, and one whose tab went away as
// interrupted, resumable from its checkpoint. When the stored runs cannot be read, nothing is written,
// so nothing stored is overwritten.
import { del, entries, get, set } from 'idb-keyval';
import { useStore } from '../store.ts';
import type { RunRecord } from './run-record.ts';

const PREFIX = 'stochca-run:';
/** Where all runs were kept under one key before; read once and moved into records of their own. */
const LEGACY = 'stochca-runs-v1';
const channel = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel('stochca-runs');

/** The Web Lock a tab holds while it trains the run. */
export const runLock = (id: string) => `stochca-train:${id}`;

let readable = true;

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Locks held by any tab of this origin. */
async function heldLocks(): Promise<Set<string>> {
  const q = await navigator.locks?.query().catch(() => undefined);
  return new Set((q?.held ?? []).map((l) => l.name ?? ''));
}

/** A stored record as this tab sees it: a run that was training is training in another tab (its lock
 *  is held) or was interrupted (its tab went away). */
function asSeenHere(r: RunRecord, held: Set<string>): RunRecord {
  if (r.status !== 'running' && r.status !== 'paused' && r.status !== 'queued' && r.status !== 'elsewhere') return r;
  return { ...r, status: held.has(runLock(r.id)) ? 'elsewhere' : 'interrupted' };
}

const stored = ({ decode: _, ...r }: RunRecord) => r;

/** Writes the runs of `ids` as this tab holds them (a run no longer held is deleted). */
export async function saveRuns(ids: string[]): Promise<void> {
  if (!readable) return;
  const runs = useStore.getState().runs;
  try {
    for (const id of ids) {
      const r = runs.find((x) => x.id === id);
      if (!r) await del(PREFIX + id);
      else if (r.status !== 'shared' && r.status !== 'elsewhere') await set(PREFIX + id, stored(r));
    }
    channel?.postMessage(ids);
  } catch (e) {
    useStore.getState().notify(`The runs could not be saved in this browser's storage (${why(e)}).`);
  }
}

export async function loadPersisted(): Promise<RunRecord[]> {
  try {
    const all = await entries<IDBValidKey, RunRecord>();
    const runs = all.filter(([k]) => typeof k === 'string' && k.startsWith(PREFIX)).map(([, r]) => r);
    const legacy = (await get<RunRecord[]>(LEGACY)) ?? [];
    for (const r of legacy.filter((l) => !runs.some((x) => x.id === l.id))) {
      await set(PREFIX + r.id, r);
      runs.push(r);
    }
    if (legacy.length) await del(LEGACY);
    const held = await heldLocks();
    return runs.sort((a, b) => a.createdAt - b.createdAt).map((r) => asSeenHere(r, held));
  } catch (e) {
    readable = false;
    useStore
      .getState()
      .notify(
        `The runs kept in this browser could not be read (${why(e)}); new runs will not be saved, so that nothing stored is overwritten. Reload to try again.`,
      );
    return [];
  }
}

/** Keeps this tab's list up to date with the runs other tabs save or delete. */
export function followOtherTabs(): void {
  channel?.addEventListener('message', async (e: MessageEvent<string[]>) => {
    const held = await heldLocks();
    for (const id of e.data) {
      const mine = useStore.getState().runs.find((r) => r.id === id);
      // A run this tab trains or queues is this tab's to write.
      if (mine && (mine.status === 'running' || mine.status === 'paused' || mine.status === 'queued')) continue;
      const r = await get<RunRecord>(PREFIX + id).catch(() => undefined);
      const { runs } = useStore.getState();
      if (!r) useStore.setState({ runs: runs.filter((x) => x.id !== id) });
      else {
        const seen = asSeenHere(r, held);
        useStore.setState({ runs: mine ? runs.map((x) => (x.id === id ? seen : x)) : [...runs, seen] });
      }
    }
  });
}

/** Asks once that the browser keep this page's storage under pressure; the answer is shown. */
export async function askPersistentStorage(): Promise<void> {
  const storage = navigator.storage;
  if (!storage?.persist) return;
  const persisted = (await storage.persisted()) || (await storage.persist());
  useStore.setState({ storagePersisted: persisted });
}
