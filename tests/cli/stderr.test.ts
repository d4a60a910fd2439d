// Every `stochca` command's stderr holds its own lines and nothing else, on a machine with Mesa's Vulkan
// drivers installed (the README's `apt-get install chromium libvulkan1` brings them): Dawn for Node
// refuses lavapipe and finds no device for the intel and radeon drivers, and says so on stderr when it
// meets them. The engine's own Dawn never meets them: they are tried in child processes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/cli/npy.ts';
import { makeFolder, png, removeTempDirs, tempDir, type Files } from '../data/fixtures.ts';
import { stochca, stochcaWithEnv } from '../helpers/cli.ts';
import { LAVAPIPE_ICD, NO_LAVAPIPE } from '../helpers/mesa.ts';
/** What Dawn and the Vulkan loader write: "Warning: …", "Error: Loader Message: …", " - While …", "    at …". */
const DAWN = /^(?:Warning|Error): |^ - While |^ {4}at |Loader Message/m;

let dir: string;
let model: string;
let data: string;

beforeAll(async () => {
  dir = await tempDir();
  model = join(dir, 'model.safetensors');
  const init = await stochca(
    'init', '--out', model, '--image-size', '8', '--patch', '4', '--dim', '16', '--depth', '1',
    '--heads', '2', '--mlp', '32', '--classes', '2',
  ); // prettier-ignore
  expect(init.stderr).toBe('');
  const files: Files = {};
  for (let i = 0; i < 6; i++) {
    files[`dark/${i}.png`] = await png(20 + i, 8);
    files[`light/${i}.png`] = await png(200 + i, 8);
  }
  data = await makeFolder(files);
});

afterAll(removeTempDirs);

describe('stochca with Mesa Vulkan drivers installed', () => {
  it('info says nothing on stderr, on either host', async ({ skip }) => {
    if (!LAVAPIPE_ICD) return skip(NO_LAVAPIPE);
    for (const host of ['', 'node', 'chromium']) {
      const r = await stochcaWithEnv({ STOCHCA_HOST: host }, 'info');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr, `STOCHCA_HOST=${host}`).toBe('');
    }
  });

  it('train writes its progress on stderr and nothing else', async ({ skip }) => {
    if (!LAVAPIPE_ICD) return skip(NO_LAVAPIPE);
    const r = await stochca(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--steps',
      '4',
      '--batch',
      '2',
      '--out',
      join(dir, 'run'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(DAWN);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^training 2 classes: 10 train, 2 val, 0 test images; /);
    // A progress line per step (4 steps: each is a tenth or more), each followed by its validation.
    const steps = [1, 2, 3, 4].flatMap((s) => [
      new RegExp(`^\\[[#.]+\\] step ${s}/4 loss [\\d.]+ acc [\\d.]+% [\\d.]+ img/s \\d+ s left$`),
      new RegExp(`^step ${s}: validation accuracy [\\d.]+% \\(2 images\\), loss [\\d.]+$`),
    ]);
    expect(lines.slice(1)).toEqual(steps.map((re) => expect.stringMatching(re)));
  });

  it('eval and infer say nothing on stderr', async ({ skip }) => {
    if (!LAVAPIPE_ICD) return skip(NO_LAVAPIPE);
    const e = await stochca('eval', '--model', model, '--data', data, '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toBe('');
    const input = join(dir, 'x.npy');
    writeFileSync(input, writeNpy(new Float32Array(2 * 3 * 8 * 8).fill(0.5), [2, 3, 8, 8]));
    const i = await stochca('infer', '--model', model, '--input', input, '--out', join(dir, 'logits.npy'));
    expect(i.code, i.stderr).toBe(0);
    expect(i.stderr).toBe('');
  });
});
