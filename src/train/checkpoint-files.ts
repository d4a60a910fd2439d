// A run's checkpoint as files, the same in a folder (the command line) and in OPFS (the page):
// model.safetensors (the model file, loadable anywhere), state.safetensors (flat weights and both AdamW
// moments, with the step in its metadata) and best.safetensors (the best-validation model). How each
// store commits a model and its state as a pair is its own (cli/train-command.ts, opfs-store.ts).
import { parseSafetensors, writeSafetensors } from '../checkpoint/safetensors.ts';
import type { TrainState } from './session.ts';

export const CHECKPOINT_FILES = {
  model: 'model.safetensors',
  state: 'state.safetensors',
  best: 'best.safetensors',
} as const;

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
