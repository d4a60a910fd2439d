// A run's files in the origin-private file system (OPFS), so that a paused, stopped or interrupted
// run can be resumed after a reload and its models exported (checkpoint-files.ts says what they hold).
// The worker writes them through run.ts's RunFiles; the page reads and deletes them.
//
// A checkpoint's model and state commit as a pair: both are written under names that carry their
// step, then manifest.json, written last, names that step; a reader reads the manifest first. A
// checkpoint cut short by a crash or a full disk leaves the previous pair and its manifest intact.
import { CHECKPOINT_FILES, readStateFile, writeStateFile } from './checkpoint-files.ts';
import type { RunFiles } from './run.ts';
import type { TrainState } from './session.ts';

const ROOT = 'runs';
const MANIFEST = 'manifest.json';

interface Manifest {
  /** The step of the committed checkpoint. */
  step: number;
}

const stepped = (name: string, step: number) => name.replace(/\.safetensors$/, `-${step}.safetensors`);

async function runDir(runId: string, create: boolean): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  const runs = await root.getDirectoryHandle(ROOT, { create });
  return runs.getDirectoryHandle(runId, { create });
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  try {
    await w.write(bytes as Uint8Array<ArrayBuffer>);
    await w.close();
  } catch (e) {
    // A failed write (a full quota) is discarded, leaving the file as it was.
    await w.abort().catch(() => undefined);
    throw e;
  }
}

async function readFile(dir: FileSystemDirectoryHandle, name: string): Promise<Uint8Array> {
  const file = await (await dir.getFileHandle(name)).getFile();
  return new Uint8Array(await file.arrayBuffer());
}

async function readManifest(dir: FileSystemDirectoryHandle): Promise<Manifest> {
  const m = JSON.parse(new TextDecoder().decode(await readFile(dir, MANIFEST))) as Partial<Manifest>;
  if (!Number.isSafeInteger(m.step)) throw new Error('the checkpoint manifest names no step');
  return m as Manifest;
}

/** The OPFS folder of one run as the run driver writes it. */
export function opfsRunFiles(runId: string): RunFiles {
  return {
    async saveCheckpoint(step, model, state) {
      const dir = await runDir(runId, true);
      const before = await readManifest(dir).catch(() => undefined);
      await writeFile(dir, stepped(CHECKPOINT_FILES.state, step), writeStateFile(state, step));
      await commitModel(dir, step, model);
      if (before && before.step !== step) {
        for (const name of [CHECKPOINT_FILES.state, CHECKPOINT_FILES.model])
          await dir.removeEntry(stepped(name, before.step)).catch(() => undefined);
      }
      return true;
    },
    saveBest: async (_step, model) => writeFile(await runDir(runId, true), CHECKPOINT_FILES.best, model),
    loadBest: () => loadRunModel(runId, 'best'),
  };
}

/** The model of `step`, then the manifest that names it. */
async function commitModel(dir: FileSystemDirectoryHandle, step: number, model: Uint8Array): Promise<void> {
  await writeFile(dir, stepped(CHECKPOINT_FILES.model, step), model);
  await writeFile(dir, MANIFEST, new TextEncoder().encode(JSON.stringify({ step } satisfies Manifest)));
}

/** The models of a run trained elsewhere (an imported PyTorch run): its final model as the checkpoint of
 *  its last step, and its best-validation model, read back as a run of the page's are. It has no
 *  optimizer state, so it is not resumed. */
export async function saveImportedModels(
  runId: string,
  step: number,
  model: Uint8Array,
  best?: Uint8Array,
): Promise<void> {
  const dir = await runDir(runId, true);
  if (best) await writeFile(dir, CHECKPOINT_FILES.best, best);
  await commitModel(dir, step, model);
}

/** A run's model file: at its last checkpoint ('final') or at its best validation accuracy ('best'), if saved. */
export async function loadRunModel(runId: string, which: 'final' | 'best'): Promise<Uint8Array | undefined> {
  try {
    const dir = await runDir(runId, false);
    if (which === 'best') return await readFile(dir, CHECKPOINT_FILES.best);
    return await readFile(dir, stepped(CHECKPOINT_FILES.model, (await readManifest(dir)).step));
  } catch {
    return undefined;
  }
}

/** The committed checkpoint's optimizer state and step. */
export async function loadCheckpointState(runId: string): Promise<{ state: TrainState; step: number }> {
  const dir = await runDir(runId, false);
  const { step } = await readManifest(dir);
  const saved = readStateFile(await readFile(dir, stepped(CHECKPOINT_FILES.state, step)));
  if (saved.step !== step)
    throw new Error(`the checkpoint's state is of step ${saved.step}, its manifest says ${step}`);
  return saved;
}

export async function deleteCheckpoint(runId: string): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const runs = await root.getDirectoryHandle(ROOT, { create: true });
  await runs.removeEntry(runId, { recursive: true }).catch(() => undefined);
}
