// A run's checkpoint in the origin-private file system (OPFS), so that a paused, stopped or
// interrupted run can be resumed after a reload and its model exported: the fine-tuned model
// (safetensors, loadable anywhere) and the optimizer state (flat weights and AdamW moments).
import { parseSafetensors, writeSafetensors } from '../checkpoint/safetensors.ts';
import type { TrainState } from '../train/session.ts';

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

/** Saves the fine-tuned model file and the optimizer state at `step`. */
export async function saveCheckpoint(runId: string, model: Uint8Array, state: TrainState, step: number): Promise<void> {
  const dir = await runDir(runId, true);
  const tensors = new Map(Object.entries(state).map(([k, data]) => [k, { shape: [data.length], data }]));
  // The state first: a model file never claims a step whose state is missing.
  await writeFile(dir, 'state.safetensors', writeSafetensors(tensors, { metadata: { step: String(step) } }));
  await writeFile(dir, 'model.safetensors', model);
}

/** The fine-tuned model file of a run, if one was saved. */
export async function loadCheckpointModel(runId: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(await runDir(runId, false), 'model.safetensors');
  } catch {
    return undefined;
  }
}

export async function loadCheckpointState(runId: string): Promise<{ state: TrainState; step: number }> {
  const { tensors, metadata } = parseSafetensors(await readFile(await runDir(runId, false), 'state.safetensors'));
  const get = (k: string) => {
    const t = tensors.get(k);
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`the saved state has no float tensor ${k}`);
    return t.data;
  };
  return { state: { weights: get('weights'), m: get('m'), v: get('v') }, step: Number(metadata.step) };
}

export async function deleteCheckpoint(runId: string): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const runs = await root.getDirectoryHandle(ROOT, { create: true });
  await runs.removeEntry(runId, { recursive: true }).catch(() => undefined);
}
