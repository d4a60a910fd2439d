// A run's files in the origin-private file system (OPFS), so that a paused, stopped or interrupted
// run can be resumed after a reload and its models exported (checkpoint-files.ts says which files).
// The worker writes them through run.ts's RunFiles; the page reads and deletes them.
import { CHECKPOINT_FILES, readStateFile, writeStateFile } from './checkpoint-files.ts';
import type { RunFiles } from './run.ts';
import type { TrainState } from './session.ts';

const ROOT = 'runs';

async function runDir(runId: string, create: boolean): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  const runs = await root.getDirectoryHandle(ROOT, { create });
  return runs.getDirectoryHandle(runId, { create });
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  await w.write(bytes as Uint8Array<ArrayBuffer>);
  await w.close();
}

async function readFile(dir: FileSystemDirectoryHandle, name: string): Promise<Uint8Array> {
  const file = await (await dir.getFileHandle(name)).getFile();
  return new Uint8Array(await file.arrayBuffer());
}

/** The OPFS folder of one run as the run driver writes it. */
export function opfsRunFiles(runId: string): RunFiles {
  return {
    async saveCheckpoint(step, model, state) {
      const dir = await runDir(runId, true);
      await writeFile(dir, CHECKPOINT_FILES.state, writeStateFile(state, step));
      await writeFile(dir, CHECKPOINT_FILES.model, model);
    },
    saveBest: async (_step, model) => writeFile(await runDir(runId, true), CHECKPOINT_FILES.best, model),
    loadBest: () => loadRunModel(runId, 'best'),
  };
}

/** A run's model file: at its last checkpoint ('final') or at its best validation accuracy ('best'), if saved. */
export async function loadRunModel(runId: string, which: 'final' | 'best'): Promise<Uint8Array | undefined> {
  try {
    return await readFile(await runDir(runId, false), which === 'best' ? CHECKPOINT_FILES.best : CHECKPOINT_FILES.model);
  } catch {
    return undefined;
  }
}

export async function loadCheckpointState(runId: string): Promise<{ state: TrainState; step: number }> {
  return readStateFile(await readFile(await runDir(runId, false), CHECKPOINT_FILES.state));
}

export async function deleteCheckpoint(runId: string): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const runs = await root.getDirectoryHandle(ROOT, { create: true });
  await runs.removeEntry(runId, { recursive: true }).catch(() => undefined);
}
