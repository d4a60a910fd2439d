// A run's checkpoint as files, the same in a folder (the command line) and in OPFS (the page):
// model.safetensors (the model file, loadable anywhere), state.safetensors (flat weights and both AdamW
// moments, with the step in its metadata), best.safetensors (the best-validation model) and
// manifest.json, which names the step of the committed checkpoint.
//
// A checkpoint's model and state commit as a pair: both are written under names that carry their
// step, then the manifest, written last, names that step; a reader reads the manifest first. A store
// that can rename a file at once (a folder on disk) then moves the pair to its plain names, where a
// person finds it; OPFS keeps it under the stepped names. A checkpoint cut short by a crash or a full
// disk leaves the previous pair and its manifest intact.
import { parseSafetensors, writeSafetensors } from '../checkpoint/safetensors.ts';
import type { RunFiles } from './run.ts';
import type { TrainState } from './session.ts';

export const CHECKPOINT_FILES = {
  model: 'model.safetensors',
  state: 'state.safetensors',
  best: 'best.safetensors',
  manifest: 'manifest.json',
} as const;

/** The files of one run by name: a folder on disk, or the run's folder in OPFS. */
export interface RunFolder {
  /** Writes the whole file, or fails leaving the file as it was. */
  write(name: string, bytes: Uint8Array): Promise<void>;
  /** The file's bytes, or undefined when there is no such file. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Removes the file, if there is one. */
  remove(name: string): Promise<void>;
  /** Renames a file at once, replacing any file of the new name; a store without it keeps the stepped names. */
  rename?(from: string, to: string): Promise<void>;
}

interface Manifest {
  /** The step of the committed checkpoint. */
  step: number;
}

const stepped = (name: string, step: number) => name.replace(/\.safetensors$/, `-${step}.safetensors`);

/** The optimizer state at `step` as safetensors bytes. */
export function writeStateFile(state: TrainState, step: number): Uint8Array {
  const tensors = new Map(Object.entries(state).map(([k, data]) => [k, { shape: [data.length], data }]));
  return writeSafetensors(tensors, { metadata: { step: String(step) } });
}

export function readStateFile(bytes: Uint8Array): { state: TrainState; step: number } {
  const { tensors, metadata } = parseSafetensors(bytes);
  const get = (k: string) => {
    const t = tensors.get(k);
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`the saved state has no float tensor ${k}`);
    return t.data;
  };
  const step = Number(metadata.step);
  if (!Number.isSafeInteger(step) || step < 1)
    throw new Error(`the saved state's step is not a step: ${JSON.stringify(metadata.step)}`);
  return { state: { weights: get('weights'), m: get('m'), v: get('v') }, step };
}

/** The step of the committed checkpoint; undefined when none has been committed. */
async function committedStep(folder: RunFolder): Promise<number | undefined> {
  const bytes = await folder.read(CHECKPOINT_FILES.manifest);
  if (!bytes) return undefined;
  const m = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Manifest>;
  if (!Number.isSafeInteger(m.step)) throw new Error('the checkpoint manifest names no step');
  return m.step;
}

/**
 * Commits the model and optimizer state of `step` as one checkpoint (a model alone for a run trained
 * elsewhere, which is not resumed): the previous checkpoint stays the committed one until the manifest
 * names this step, and is removed only after.
 */
export async function commitCheckpoint(
  folder: RunFolder,
  step: number,
  model: Uint8Array,
  state?: TrainState,
): Promise<void> {
  const before = await committedStep(folder).catch(() => undefined);
  const names = state ? [CHECKPOINT_FILES.state, CHECKPOINT_FILES.model] : [CHECKPOINT_FILES.model];
  if (state) await folder.write(stepped(CHECKPOINT_FILES.state, step), writeStateFile(state, step));
  await folder.write(stepped(CHECKPOINT_FILES.model, step), model);
  await folder.write(CHECKPOINT_FILES.manifest, new TextEncoder().encode(JSON.stringify({ step } satisfies Manifest)));
  if (folder.rename) for (const name of names) await folder.rename(stepped(name, step), name);
  if (before !== undefined && before !== step) for (const name of names) await folder.remove(stepped(name, before));
}

/** A file of the committed checkpoint: under its stepped name until a store that renames has moved it. */
async function committedFile(folder: RunFolder, name: string, step: number): Promise<Uint8Array | undefined> {
  return (await folder.read(stepped(name, step))) ?? (await folder.read(name));
}

/** The committed checkpoint's model file; undefined when there is none. */
export async function committedModel(folder: RunFolder): Promise<Uint8Array | undefined> {
  const step = await committedStep(folder);
  return step === undefined ? undefined : committedFile(folder, CHECKPOINT_FILES.model, step);
}

/** The committed checkpoint's optimizer state and step. */
export async function committedState(folder: RunFolder): Promise<{ state: TrainState; step: number }> {
  const step = await committedStep(folder);
  if (step === undefined) throw new Error('no checkpoint was committed (there is no manifest.json)');
  const bytes = await committedFile(folder, CHECKPOINT_FILES.state, step);
  if (!bytes) throw new Error(`the checkpoint of step ${step} has no optimizer state`);
  const saved = readStateFile(bytes);
  if (saved.step !== step)
    throw new Error(`the checkpoint's state is of step ${saved.step}, its manifest says ${step}`);
  return saved;
}

/** A run's files in a folder, as the run driver writes them. */
export function runFiles(folder: RunFolder): RunFiles {
  return {
    async saveCheckpoint(step, model, state) {
      await commitCheckpoint(folder, step, model, state);
      return true;
    },
    saveBest: (_step, model) => folder.write(CHECKPOINT_FILES.best, model),
    loadBest: () => folder.read(CHECKPOINT_FILES.best),
  };
}
