// A checkpoint commits its model and optimizer state as a pair, the manifest written last: a crash
// between the two writes (the second one failing here) or before the manifest leaves the previous
// pair committed and resumable, in a folder on disk (which then renames the pair to its plain names)
// and in a store that cannot rename (as OPFS keeps it).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diskFolder } from '../../src/cli/folder-store.ts';
import {
  commitCheckpoint,
  committedModel,
  committedState,
  readStateFile,
  type RunFolder,
} from '../../src/train/checkpoint-files.ts';
import type { TrainState } from '../../src/train/session.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stochca-checkpoint-'));
  dirs.push(dir);
  return dir;
}

/** The state and model file of a step, each filled with a value of its own. */
function checkpointOf(step: number): { state: TrainState; model: Uint8Array } {
  const fill = (k: number) => new Float32Array(6).fill(step + k / 10);
  return { state: { weights: fill(1), m: fill(2), v: fill(3) }, model: new Uint8Array(32).fill(step) };
}

/** The folder, with its `failAt`-th write from now on failing, as a crash or a full disk would. */
function failing(folder: RunFolder, failAt: number): RunFolder {
  let writes = 0;
  return {
    ...folder,
    async write(name, bytes) {
      if (++writes === failAt) throw new Error(`no space left writing ${name}`);
      return folder.write(name, bytes);
    },
  };
}

/** A folder on disk that cannot rename, as OPFS. */
const withoutRename = (folder: RunFolder): RunFolder => ({ ...folder, rename: undefined });

describe.each([
  ['a folder on disk', (dir: string) => diskFolder(dir)],
  ['a store without rename', (dir: string) => withoutRename(diskFolder(dir))],
])('a checkpoint in %s', (_, open) => {
  it('reads back the pair the manifest names', async () => {
    const folder = open(tempFolder());
    expect(await committedModel(folder)).toBeUndefined();
    await expect(committedState(folder)).rejects.toThrow('no checkpoint was committed');
    for (const step of [12, 24]) {
      const c = checkpointOf(step);
      await commitCheckpoint(folder, step, c.model, c.state);
      expect(await committedState(folder)).toEqual({ step, state: c.state });
      expect(await committedModel(folder)).toEqual(c.model);
    }
  });

  for (const [failAt, what] of [
    [2, 'the model (the second write)'],
    [3, 'the manifest'],
  ] as const) {
    it(`leaves the previous pair resumable when writing ${what} fails`, async () => {
      const dir = tempFolder();
      const before = checkpointOf(12);
      await commitCheckpoint(open(dir), 12, before.model, before.state);
      const after = checkpointOf(24);
      await expect(commitCheckpoint(failing(open(dir), failAt), 24, after.model, after.state)).rejects.toThrow(
        'no space left',
      );
      const folder = open(dir);
      expect(await committedState(folder)).toEqual({ step: 12, state: before.state });
      expect(await committedModel(folder)).toEqual(before.model);
      // The next checkpoint commits over what the failed one left.
      await commitCheckpoint(folder, 36, checkpointOf(36).model, checkpointOf(36).state);
      expect((await committedState(folder)).step).toBe(36);
      expect(await committedModel(folder)).toEqual(checkpointOf(36).model);
    });
  }
});

describe('a run folder on disk', () => {
  it('holds the committed pair under the plain names a person opens, and nothing of the one before', async () => {
    const dir = tempFolder();
    for (const step of [12, 24])
      await commitCheckpoint(diskFolder(dir), step, checkpointOf(step).model, checkpointOf(step).state);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'model.safetensors', 'state.safetensors']);
    expect(readStateFile(readFileSync(join(dir, 'state.safetensors'))).step).toBe(24);
    expect(new Uint8Array(readFileSync(join(dir, 'model.safetensors')))).toEqual(checkpointOf(24).model);
  });

  it('reads a pair committed but not yet renamed (a crash after the manifest)', async () => {
    const dir = tempFolder();
    await commitCheckpoint(diskFolder(dir), 12, checkpointOf(12).model, checkpointOf(12).state);
    // The commit of step 24 stops before its renames: the pair is under its stepped names.
    await commitCheckpoint(withoutRename(diskFolder(dir)), 24, checkpointOf(24).model, checkpointOf(24).state);
    expect(existsSync(join(dir, 'state-24.safetensors'))).toBe(true);
    expect(await committedState(diskFolder(dir))).toEqual({ step: 24, state: checkpointOf(24).state });
    expect(await committedModel(diskFolder(dir))).toEqual(checkpointOf(24).model);
  });
});
