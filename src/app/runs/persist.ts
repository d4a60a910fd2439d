// Runs and their curves in IndexedDB (idb-keyval), so they survive a reload. A run that was
// training when the page went away comes back as 'interrupted', resumable from its checkpoint.
import { get, set } from 'idb-keyval';
import { useStore } from '../store.ts';
import type { RunRecord } from './run-record.ts';

const KEY = 'stochca-runs-v1';

export async function savePersisted(): Promise<void> {
  const runs = useStore.getState().runs.filter((r) => r.status !== 'shared').map(({ decode: _, ...r }) => r);
  try {
    await set(KEY, runs);
  } catch (e) {
    useStore.getState().notify(`The runs could not be saved in this browser's storage (${e instanceof Error ? e.message : String(e)}).`);
  }
}

export async function loadPersisted(): Promise<RunRecord[]> {
  try {
    const runs = ((await get(KEY)) as RunRecord[] | undefined) ?? [];
    return runs.map((r) => (r.status === 'running' || r.status === 'paused' || r.status === 'queued' ? { ...r, status: 'interrupted' } : r));
  } catch {
    return [];
  }
}
