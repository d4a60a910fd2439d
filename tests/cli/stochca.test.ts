// The `stochca` command line end to end: real files in, real files out, checked against
// the float64 reference; and one-line errors with non-zero exit codes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stochca, stochcaWithEnv } from '../helpers/cli.ts';
import { fromCanonical, toCanonical } from '../../src/checkpoint/convert.ts';
import { parseSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { readNpy, writeNpy } from '../../src/cli/npy.ts';
import { expectClose } from '../helpers/compare.ts';
import { canonicalTensors, randomVitWeights, TINY_VIT, type Weights64 } from '../helpers/model.ts';
import { normal } from '../helpers/random.ts';
import { vitLogitsRef, vitLossRef } from '../reference/vit.ts';

const dir = mkdtempSync(join(tmpdir(), 'stochca-cli-'));
const config = TINY_VIT;
const B = 3;

/** A torchvision-named safetensors file of `w` (as a torchvision user would have it). */
function modelFile(name: string, w: Weights64): string {
  const path = join(dir, name);
  writeFileSync(path, writeSafetensors(fromCanonical(canonicalTensors(config, w), 'torchvision')));
  return path;
}

/** Little-endian int64 .npy (what np.save writes for np.int64). */
function int64Npy(values: number[]): Uint8Array {
  let header = `{'descr': '<i8', 'fortran_order': False, 'shape': (${values.length},), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + 8 * values.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  new BigInt64Array(out.buffer, 10 + header.length).set(values.map(BigInt));
  return out;
}

const student = randomVitWeights(config, 10);
const teacher = randomVitWeights(config, 60);
// Round to f32 so the reference sees exactly the weights the files hold.
const f32 = (w: Weights64): Weights64 =>
  Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Float64Array.from(Float32Array.from(v))]));
const images = Float32Array.from(normal(B * 3 * 8 * 8, 5));
const labels = [2, 0, 1];

// Under both kernel layouts (src/gpu/layout.ts), whichever this machine's adapter would choose.
describe.each(['cpu', 'gpu'] as const)('STOCHCA_LAYOUT=%s', (layout) => {
  const stochca = (...args: string[]) => stochcaWithEnv({ STOCHCA_LAYOUT: layout }, ...args);

  describe('stochca infer', () => {
    it('writes the logits of a torchvision checkpoint, matching the float64 reference', async () => {
      const model = modelFile('student.safetensors', student);
      writeFileSync(join(dir, 'x.npy'), writeNpy(images, [B, 3, 8, 8]));
      const out = join(dir, `logits-${layout}.npy`);
      const r = await stochca('infer', '--model', model, '--input', join(dir, 'x.npy'), '--out', out, '--heads', '2');
      expect(r.stderr + r.stdout).toMatch(/"out"/);
      expect(r.code).toBe(0);
      const logits = readNpy(readFileSync(out));
      expect(logits.dtype).toBe('f4');
      expect(logits.shape).toEqual([B, 3]);
      expectClose(
        logits.data as Float32Array,
        vitLogitsRef(config, f32(student), undefined, Float64Array.from(images), B),
        1e-4,
        'logits',
      );
    });
  });

  describe('stochca grad', () => {
    it('writes the loss and the gradients of one StochCA step under the student names', async () => {
      const s = modelFile('s.safetensors', student);
      const t = modelFile('t.safetensors', teacher);
      writeFileSync(join(dir, 'x2.npy'), writeNpy(images, [B, 3, 8, 8]));
      writeFileSync(join(dir, 'y.npy'), int64Npy(labels));
      const out = join(dir, `grads-${layout}.safetensors`);
      const r = await stochca(
        'grad',
        '--model',
        s,
        '--teacher',
        t,
        '--input',
        join(dir, 'x2.npy'),
        '--labels',
        join(dir, 'y.npy'),
        '--ca-mask',
        '10',
        '--out',
        out,
        '--heads',
        '2',
      );
      expect(r.code, r.stderr).toBe(0);
      const mask = [true, false];
      const x = Float64Array.from(images);
      const want = vitLossRef(config, f32(student), f32(teacher), x, labels, mask);
      const printed = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      expect(printed.loss).toBeCloseTo(want, 4);
      const file = parseSafetensors(readFileSync(out));
      expect(Number(file.metadata.loss)).toBeCloseTo(want, 4);
      expect([...file.tensors.keys()]).toContain('encoder.layers.encoder_layer_1.mlp.3.weight');
      expect(file.tensors.get('class_token')!.shape).toEqual([1, 1, 16]);
      // A few coordinates of a few tensors against central differences of the reference.
      const grads = toCanonical(file.tensors, 'torchvision');
      const w = f32(student);
      for (const name of ['patch.weight', 'blocks.0.qkv.weight', 'blocks.1.fc2.bias', 'head.weight']) {
        for (const i of [0, 5, 11]) {
          const keep = w[name][i];
          w[name][i] = keep + 1e-5;
          const up = vitLossRef(config, w, f32(teacher), x, labels, mask);
          w[name][i] = keep - 1e-5;
          const down = vitLossRef(config, w, f32(teacher), x, labels, mask);
          w[name][i] = keep;
          expect(grads.get(name)!.data[i], `${name}[${i}]`).toBeCloseTo((up - down) / 2e-5, 3);
        }
      }
    });
  });
});

describe('stochca errors', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['an unknown command', ['train2'], 2, /^stochca: unknown command 'train2'$/],
    ['a missing flag', ['infer', '--model', 'm'], 2, /^stochca: missing --out$/],
    ['an unknown flag', ['infer', '--modle', 'm'], 2, /^stochca: Unknown option '--modle'/],
    [
      'a missing file',
      ['infer', '--model', '/nonexistent.safetensors', '--input', 'x', '--out', 'y'],
      1,
      /^stochca: cannot read --model \/nonexistent.safetensors: ENOENT$/,
    ],
    [
      'a bad head count',
      ['infer', '--model', 'm', '--input', 'x', '--out', 'y', '--heads', 'two'],
      2,
      /^stochca: --heads must be a positive integer, got 'two'$/,
    ],
  ];
  for (const [what, args, code, message] of cases) {
    it(`refuses ${what} in one line`, async () => {
      const r = await stochca(...args);
      expect(r.code).toBe(code);
      expect(r.stderr.split('\n')[0]).toMatch(message);
    });
  }

  it('refuses a file that is not a checkpoint, and an input that is not .npy, in one line each', async () => {
    const notModel = join(dir, 'notes.safetensors');
    writeFileSync(notModel, 'just some text, not a checkpoint');
    writeFileSync(join(dir, 'x3.npy'), writeNpy(images, [B, 3, 8, 8]));
    const a = await stochca('infer', '--model', notModel, '--input', join(dir, 'x3.npy'), '--out', join(dir, 'o.npy'));
    expect(a.code).toBe(1);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/^stochca: .*(safetensors|header)/);
    const b = await stochca(
      'infer',
      '--model',
      modelFile('m2.safetensors', student),
      '--input',
      notModel,
      '--out',
      join(dir, 'o.npy'),
      '--heads',
      '2',
    );
    expect(b.code).toBe(1);
    expect(b.stderr.trim()).toBe('stochca: --input is not a .npy file');
  });
});
