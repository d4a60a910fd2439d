// A run's files in the origin-private file system (OPFS), so that a paused, stopped or interrupted
// run can be resumed after a reload and its models exported (checkpoint-files.ts says what they hold
// and how a checkpoint commits). The worker writes them through run.ts's RunFiles; the page reads and
// deletes them.
import {
  CHECKPOINT_FILES,
  commitCheckpoint,
  committedModel,
  committedState,
  runFiles,
  type RunFolder,
} from './checkpoint-files.ts';
import type { RunFiles } from './run.ts';
import type { TrainState } from './session.ts';

const ROOT = 'runs';

async function runDir(runId: string, create: boolean): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  const runs = await root.getDirectoryHandle(ROOT, { create });
  return runs.getDirectoryHandle(runId, { create });
}

const notFound = (e: unknown) => e instanceof DOMException && e.name === 'NotFoundError';

/** The run's OPFS folder; `create` makes it on the first write, else a run without one reads as empty. */
function opfsFolder(runId: string, create: boolean): RunFolder {
  return {
    async write(name, bytes) {
      const handle = await (await runDir(runId, create)).getFileHandle(name, { create: true });
      const w = await handle.createWritable();
      try {
        await w.write(bytes as Uint8Array<ArrayBuffer>);
        await w.close();
      } catch (e) {
        // A failed write (a full quota) is discarded, leaving the file as it was.
        await w.abort().catch(() => undefined);
        throw e;
      }
    },
    async read(name) {
      try {
        const file = await (await (await runDir(runId, false)).getFileHandle(name)).getFile();
        return new Uint8Array(await file.arrayBuffer());
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },
    async remove(name) {
      await (await runDir(runId, create)).removeEntry(name).catch(() => undefined);
    },
  };
}

/** The OPFS folder of one run as the run driver writes it. */
export const opfsRunFiles = (runId: string): RunFiles => runFiles(opfsFolder(runId, true));

/** The models of a run trained elsewhere (an imported PyTorch run): its final model as the checkpoint of
 *  its last step, and its best-validation model, read back as a run of the page's are. It has no
 *  optimizer state, so it is not resumed. */
export async function saveImportedModels(
  runId: string,
  step: number,
  model: Uint8Array,
  best?: Uint8Array,
): Promise<void> {
  const folder = opfsFolder(runId, true);
  if (best) await folder.write(CHECKPOINT_FILES.best, best);
  await commitCheckpoint(folder, step, model);
}

/** A run's model file: at its last checkpoint ('final') or at its best validation accuracy ('best'), if saved. */
export async function loadRunModel(runId: string, which: 'final' | 'best'): Promise<Uint8Array | undefined> {
  const folder = opfsFolder(runId, false);
  try {
    return which === 'best' ? await folder.read(CHECKPOINT_FILES.best) : await committedModel(folder);
  } catch {
    return undefined;
  }
}

/** The committed checkpoint's optimizer state and step. */
export function loadCheckpointState(runId: string): Promise<{ state: TrainState; step: number }> {
  return committedState(opfsFolder(runId, false));
}

export async function deleteCheckpoint(runId: string): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const runs = await root.getDirectoryHandle(ROOT, { create: true });
  await runs.removeEntry(runId, { recursive: true }).catch(() => undefined);
}
