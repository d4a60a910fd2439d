// Runs and their curves in IndexedDB (idb-keyval), one record per run, so that two tabs never
// overwrite each other's runs: a tab writes only the runs it changed, and tells the other tabs which
// (BroadcastChannel), who read those records again. A run queued or training in a tab holds a Web Lock
// named after it (trainer.ts); in another tab it shows as that tab's, and one whose tab went away as
// interrupted, resumable from its checkpoint, or, if it was queued, as queued, to run in the tab that
// reads it. When the stored runs cannot be read, nothing is written, so nothing stored is overwritten.
//
// Nothing calls a save: KeptRuns follows the runs of the store and writes the records that changed.
// A run in progress changes at every flush of its curves (trainer.ts), so a change of its curves alone
// is written at most once every SAVE_MS; any other change (a run added, deleted, started, checkpointed
// or ended) is written at the end of the task that made it.
import { del, delMany, entries, get, set, setMany } from 'idb-keyval';
import type { AppStore } from '../store.ts';
import { inProgress, runById } from '../store/selectors.ts';
import type { RunRecord } from './run-record.ts';
import { errorMessage } from '../../gpu/error-message.ts';

const PREFIX = 'stochca-run:';
/** Where all runs were kept under one key before; read once and moved into records of their own. */
const LEGACY = 'stochca-runs-v1';
const SAVE_MS = 1000;

/** The Web Lock a tab holds while the run waits in its queue or trains. */
export const runLock = (id: string) => `stochca-train:${id}`;

/** Locks held by any tab of this origin. */
async function heldLocks(): Promise<Set<string>> {
  const q = await globalThis.navigator?.locks?.query().catch(() => undefined);
  return new Set((q?.held ?? []).map((l) => l.name ?? ''));
}

/** A stored record as this tab sees it: a run that was training or queued is another tab's (its lock is
 *  held); else one that was training was interrupted (its tab went away), and a queued one stays queued,
 *  to run here. */
function asSeenHere(r: RunRecord, held: Set<string>): RunRecord {
  if (r.status !== 'running' && r.status !== 'paused' && r.status !== 'queued' && r.status !== 'elsewhere') return r;
  if (held.has(runLock(r.id))) return { ...r, status: 'elsewhere' };
  return r.status === 'queued' ? r : { ...r, status: 'interrupted' };
}

/** Runs this tab writes: not a link's, nor one another tab trains. */
const writable = (r: RunRecord) => r.status !== 'shared' && r.status !== 'elsewhere';

const stored = ({ decode: _, ...r }: RunRecord) => r;

/** The runs of a store, kept in this browser's IndexedDB and shared with its other tabs. */
export class KeptRuns {
  private readable = true;
  /** Each run as storage holds it: the record this tab last wrote or read, by id. */
  private readonly known = new Map<string, RunRecord>();
  private timer?: ReturnType<typeof setTimeout>;
  private dueAt = Infinity;
  /** A failed write is said once, until a write succeeds again. */
  private failing = false;

  constructor(
    private readonly store: AppStore,
    private readonly channel = typeof BroadcastChannel === 'undefined'
      ? undefined
      : new BroadcastChannel('stochca-runs'),
  ) {}

  /** Adds the runs kept in this browser to the store (after its own), oldest first. */
  async restore(): Promise<void> {
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
      const kept = runs.sort((a, b) => a.createdAt - b.createdAt).map((r) => asSeenHere(r, held));
      for (const r of kept) this.known.set(r.id, r);
      this.store.getState().restoreRuns(kept);
    } catch (e) {
      this.readable = false;
      this.store
        .getState()
        .notify(
          `The runs kept in this browser could not be read (${errorMessage(e)}); new runs will not be saved, so that nothing stored is overwritten. Reload to try again.`,
        );
    }
  }

  /** Writes the runs of the store as they change, and takes in the ones other tabs write; returns the
   *  function that stops both. */
  follow(): () => void {
    const unsubscribe = this.store.subscribe((s, prev) => {
      if (s.runs !== prev.runs) this.schedule(s.runs);
    });
    const fromOtherTab = (e: MessageEvent<string[]>) => void this.takeIn(e.data);
    this.channel?.addEventListener('message', fromOtherTab);
    return () => {
      unsubscribe();
      this.channel?.removeEventListener('message', fromOtherTab);
      clearTimeout(this.timer);
    };
  }

  /** The runs to write (changed since storage last saw them) and to delete (gone from the store). */
  private changes(runs: RunRecord[]) {
    const changed = runs.filter((r) => writable(r) && this.known.get(r.id) !== r);
    const deleted = [...this.known.keys()].filter((id) => !runs.some((r) => r.id === id));
    return { changed, deleted };
  }

  private schedule(runs: RunRecord[]): void {
    if (!this.readable) return;
    const { changed, deleted } = this.changes(runs);
    if (!changed.length && !deleted.length) return;
    const curvesOnly = changed.every((r) => {
      const k = this.known.get(r.id);
      return k && k.status === r.status && k.checkpointStep === r.checkpointStep;
    });
    const wait = curvesOnly && !deleted.length ? SAVE_MS : 0;
    if (Date.now() + wait >= this.dueAt) return;
    clearTimeout(this.timer);
    this.dueAt = Date.now() + wait;
    this.timer = setTimeout(() => void this.save(), wait);
  }

  private async save(): Promise<void> {
    this.dueAt = Infinity;
    const { changed, deleted } = this.changes(this.store.getState().runs);
    for (const r of changed) this.known.set(r.id, r);
    for (const id of deleted) this.known.delete(id);
    try {
      if (changed.length) await setMany(changed.map((r) => [PREFIX + r.id, stored(r)]));
      if (deleted.length) await delMany(deleted.map((id) => PREFIX + id));
      this.failing = false;
      this.channel?.postMessage([...changed.map((r) => r.id), ...deleted]);
    } catch (e) {
      if (!this.failing)
        this.store.getState().notify(`The runs could not be saved in this browser's storage (${errorMessage(e)}).`);
      this.failing = true;
    }
  }

  /** Runs another tab wrote or deleted, read again. */
  private async takeIn(ids: string[]): Promise<void> {
    const held = await heldLocks();
    for (const id of ids) {
      const mine = runById(this.store.getState(), id);
      // A run this tab trains or queues is this tab's to write.
      if (mine && (inProgress(mine) || mine.status === 'queued')) continue;
      const r = await get<RunRecord>(PREFIX + id).catch(() => undefined);
      const seen = r && asSeenHere(r, held);
      // Known before it reaches the store, so that it is not written back.
      if (seen) this.known.set(id, seen);
      else this.known.delete(id);
      this.store.getState().putStored(id, seen);
    }
  }
}

/** Asks once that the browser keep this page's storage under pressure; the answer is shown. */
export async function askPersistentStorage(store: AppStore): Promise<void> {
  const storage = navigator.storage;
  if (!storage?.persist) return;
  const persisted = (await storage.persisted()) || (await storage.persist());
  store.getState().setStoragePersisted(persisted);
}
