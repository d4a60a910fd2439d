// Files made to break the loader, each refused with its message in bounded time and memory (the figures
// are printed; docs/reliability.md "Checkpoints and the command line"): block indices that would size a huge layout,
// our metadata of the wrong type, non-finite weights, text given instead of a checkpoint, a header length
// beyond the file; and the header of a large file checked from its first bytes alone.
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFile, saveModelFile } from '../../src/checkpoint/model-file.ts';
import { fromCanonical } from '../../src/checkpoint/convert.ts';
import { checkpointShapes, MAX_BLOCKS } from '../../src/checkpoint/name-tables.ts';
import {
  CheckpointError,
  headerEnd,
  parseSafetensors,
  readHeader,
  writeSafetensors,
} from '../../src/checkpoint/safetensors.ts';
import type { CheckpointConfig } from '../../src/checkpoint/checkpoint-config.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { canonicalTensors, randomVitWeights } from '../helpers/model.ts';

// The promise: a bad file is refused in this time and memory, whatever it claims.
const MAX_MS = 2000;
const MAX_BYTES = 100e6;

const memory = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
// Growth since `before`; the collector may free earlier tests' garbage meanwhile, hence a sign.
const grownText = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / 1e6).toFixed(1)} MB`;

/** Runs `load`, which must throw a CheckpointError with `message`, within the bounds; prints the figures. */
function refused(what: string, load: () => unknown, message: string | RegExp): void {
  const before = memory();
  const start = performance.now();
  let error: unknown;
  try {
    load();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - start;
  const grown = memory() - before;
  console.log(`${what}: refused in ${ms.toFixed(1)} ms, memory ${grownText(grown)}`);
  expect(error).toBeInstanceOf(CheckpointError);
  expect((error as Error).message).toMatch(message);
  expect(ms).toBeLessThan(MAX_MS);
  expect(grown).toBeLessThan(MAX_BYTES);
}

/** A file with this header text and data, as written by hand: no padding; `length` overrides the length field. */
function file(header: string, data: Uint8Array = new Uint8Array(0), length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const oneEmptyTensor = (name: string) =>
  file(JSON.stringify({ [name]: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } }));

const config: CheckpointConfig = {
  imageSize: 8,
  patchSize: 4,
  channels: 3,
  dim: 8,
  depth: 2,
  heads: 2,
  mlpDim: 16,
  numClasses: 10,
  layerNormEps: 1e-6,
};

function canonicalWeights(): Map<string, HostTensor> {
  return canonicalTensors(config, randomVitWeights(config, 1));
}

/** A timm file of the tiny model with its metadata, then `metadata` over it. */
function withMetadata(metadata: Record<string, string>): Uint8Array {
  const saved = parseSafetensors(
    saveModelFile({
      config,
      naming: 'timm',
      weights: canonicalWeights(),
      classNames: [...'abcdefghij'],
      normalization: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] },
    }),
  );
  return writeSafetensors(saved.tensors as Map<string, HostTensor>, { metadata: { ...saved.metadata, ...metadata } });
}

describe('block indices are bounded before anything is sized from them', () => {
  it('a 76-byte file naming block 999999 or 50000000, in each naming', () => {
    expect(oneEmptyTensor('blocks.999999.x').length).toBe(76);
    for (const name of [
      'blocks.999999.x',
      'blocks.50000000.x',
      'encoder.layers.encoder_layer_999999.x',
      'vit.encoder.layer.999999.x',
      'encoder.layer.50000000.x',
    ]) {
      const index = /\d+/.exec(name)![0];
      refused(
        name,
        () => loadModelFile(oneEmptyTensor(name)),
        `${name}: block ${index} is beyond the ${MAX_BLOCKS} blocks a ViT can have here`,
      );
    }
  });

  it('a block index under the cap but not below the number of tensors', () => {
    refused(
      'blocks.100.x alone',
      () => loadModelFile(oneEmptyTensor('blocks.100.x')),
      'blocks.100.x: block 100 cannot exist in a checkpoint of 1 tensor (a block has 12 or more)',
    );
    const tensors = fromCanonical(canonicalWeights(), 'hf');
    tensors.set('vit.encoder.layer.200.output.dense.bias', { shape: [8], data: new Float32Array(8) });
    refused(
      'a real file plus block 200',
      () => loadModelFile(writeSafetensors(tensors), { heads: 2 }),
      `vit.encoder.layer.200.output.dense.bias: block 200 cannot exist in a checkpoint of ${tensors.size} tensors`,
    );
  });

  it('a config deeper than the cap', () => {
    refused(
      'depth 1e9',
      () => checkpointShapes({ ...config, depth: 1e9 }, 'torchvision'),
      `depth 1000000000 is beyond the ${MAX_BLOCKS} blocks`,
    );
  });
});

describe('our metadata is checked by type', () => {
  const cases: [string, Record<string, string>, string][] = [
    [
      'class names as a string',
      { stochca_class_names: '"0123456789"' },
      'metadata stochca_class_names must be a list of 10 strings, one per class, got "0123456789"',
    ],
    [
      'class names not JSON',
      { stochca_class_names: 'cats, dogs' },
      'metadata stochca_class_names must be a list of 10 strings, one per class (as JSON), got "cats, dogs"',
    ],
    [
      '9 class names for 10 classes',
      { stochca_class_names: JSON.stringify([...'abcdefghi']) },
      'metadata stochca_class_names must be a list of 10 strings',
    ],
    [
      'a number among the class names',
      { stochca_class_names: JSON.stringify([...'abcdefghi', 9]) },
      'metadata stochca_class_names must be a list of 10 strings',
    ],
    [
      'a std of 0',
      { stochca_normalization: '{"mean": [0.5, 0.5, 0.5], "std": [0.2, 0, 0.2]}' },
      'metadata stochca_normalization must be {"mean": [r, g, b], "std": [r, g, b]}: three finite numbers each, no std 0, got {"mean":[0.5,0.5,0.5],"std":[0.2,0,0.2]}',
    ],
    [
      'a std of 2 numbers',
      { stochca_normalization: '{"mean": [0.5, 0.5, 0.5], "std": [0.2, 0.2]}' },
      'metadata stochca_normalization must be {"mean": [r, g, b], "std": [r, g, b]}',
    ],
    [
      'a NaN mean (null in JSON)',
      { stochca_normalization: '{"mean": [null, 0.5, 0.5], "std": [0.2, 0.2, 0.2]}' },
      'metadata stochca_normalization must be',
    ],
    [
      'heads as text',
      { stochca_config: '{"heads": "2"}' },
      'metadata stochca_config.heads must be a positive integer, got "2"',
    ],
    [
      'a fractional depth',
      { stochca_config: '{"depth": 2.5}' },
      'metadata stochca_config.depth must be a positive integer, got 2.5',
    ],
    [
      'a negative eps',
      { stochca_config: '{"layerNormEps": -1}' },
      'metadata stochca_config.layerNormEps must be a positive finite number, got -1',
    ],
    [
      'a config that is a list',
      { stochca_config: '[2]' },
      'metadata stochca_config must be an object of ViT config fields, got [2]',
    ],
  ];
  for (const [what, metadata, message] of cases) {
    it(what, () => {
      const bytes = withMetadata(metadata);
      refused(what, () => loadModelFile(bytes), message);
    });
  }

  it('the metadata as saved loads', () => {
    const m = loadModelFile(withMetadata({}));
    expect(m.classNames).toEqual([...'abcdefghij']);
    expect(m.normalization).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] });
  });
});

describe('non-finite weights are refused with the tensor', () => {
  it('a NaN in an F32 file, at load', () => {
    const weights = canonicalWeights();
    weights.get('blocks.1.fc1.weight')!.data[7] = NaN;
    const bytes = writeSafetensors(fromCanonical(weights, 'timm'));
    refused(
      'an F32 NaN',
      () => loadModelFile(bytes, { heads: 2 }),
      'blocks.1.mlp.fc1.weight: element 7 is NaN; the weights must be finite numbers',
    );
  });

  it('±Infinity and NaN in F16, BF16 and F64 tensors, as they are converted', () => {
    const tensor = (dtype: string, values: ArrayBufferView & { length: number }, item: number) =>
      file(
        JSON.stringify({ t: { dtype, shape: [values.length], data_offsets: [0, values.length * item] } }),
        new Uint8Array(values.buffer),
      );
    const cases: [string, Uint8Array, string][] = [
      ['F16 +Infinity', tensor('F16', Uint16Array.of(0x3c00, 0x7c00), 2), 't: element 1 is Infinity'],
      ['F16 NaN', tensor('F16', Uint16Array.of(0x7e00), 2), 't: element 0 is NaN'],
      ['BF16 -Infinity', tensor('BF16', Uint16Array.of(0x3f80, 0x3f80, 0xff80), 2), 't: element 2 is -Infinity'],
      ['F64 beyond the f32 range', tensor('F64', Float64Array.of(1e300), 8), 't: element 0 is Infinity'],
    ];
    for (const [what, bytes, message] of cases) {
      refused(what, () => parseSafetensors(bytes, { finite: true }), message);
      expect(() => parseSafetensors(bytes)).not.toThrow(); // the format itself holds any float
    }
  });

  it('checks 64 MB of F32 weights within the bounds', () => {
    const bytes = writeSafetensors(new Map([['w', { shape: [16 << 20], data: new Float32Array(16 << 20).fill(0.5) }]]));
    const time = (finite: boolean) => {
      const start = performance.now();
      parseSafetensors(bytes, { finite });
      return performance.now() - start;
    };
    time(true); // compiled once
    const [plain, checked] = [time(false), time(true)];
    console.log(`64 MB of F32: read in ${plain.toFixed(1)} ms, read and checked in ${checked.toFixed(1)} ms`);
    expect(checked).toBeLessThan(MAX_MS);
  });
});

describe('text instead of a checkpoint', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  const cases: [string, Uint8Array, string][] = [
    [
      'an HTML error page',
      text('<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n'),
      'this is an HTML page, not a safetensors file',
    ],
    [
      'HTML after a byte order mark and blank lines',
      text('\ufeff\r\n\n  <html><body>Sign in</body></html>'),
      'this is an HTML page, not a safetensors file',
    ],
    ['three bytes of HTML', text('<p>'), 'this is an HTML page, not a safetensors file'],
    [
      'JSON text (a config.json)',
      text(JSON.stringify({ architectures: ['ViTForImageClassification'], hidden_size: 768 }, null, 2)),
      'this is JSON text, not a safetensors file (a config.json? give it as the config)',
    ],
    [
      'a header length beyond the file',
      file('{}', new Uint8Array(0), 1000n),
      'not a safetensors file: its first 8 bytes give a header of 1000 bytes, longer than the file (10 bytes)',
    ],
    [
      'a header length over 100 MB',
      file('{}', new Uint8Array(0), 2n ** 40n),
      `not a safetensors file: its first 8 bytes give a header of ${2n ** 40n} bytes, over the 100 MB a header may have`,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => refused(what, () => loadModelFile(bytes), message));
  }

  it('a real header whose length starts with the byte of "{" or "<" is still read', () => {
    // A 123-byte header: its length's first byte is 0x7b, "{".
    const header = JSON.stringify({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }).padEnd(123);
    expect(readHeader(file(header, new Uint8Array(4))).entries[0].name).toBe('t');
  });
});

describe('a large file checked from its first bytes', () => {
  // A 10 GB tensor: the file is sparse, so the disk holds only the header.
  const header = JSON.stringify({
    __metadata__: { format: 'pt' },
    w: { dtype: 'F32', shape: [50_000, 50_000], data_offsets: [0, 10e9] },
  });
  const path = join(tmpdir(), `stochca-sparse-${process.pid}.safetensors`);
  afterAll(() => rmSync(path, { force: true }));

  /** Reads the header as a page reads a dropped File's (file.slice(0, 8), then file.slice(0, 8 + n)); through
   *  a file handle, as Node 20's openAsBlob gives a 10 GB file a size modulo 2^32. */
  async function firstBytesHeader(size: number) {
    writeFileSync(path, file(header));
    truncateSync(path, 8 + header.length + size);
    const handle = await open(path);
    try {
      const fileSize = (await handle.stat()).size;
      const first = async (n: number) => {
        const bytes = new Uint8Array(n);
        await handle.read(bytes, 0, n, 0);
        return bytes;
      };
      const end = headerEnd(await first(8), fileSize);
      return readHeader(await first(end), fileSize);
    } finally {
      await handle.close();
    }
  }

  it('reads the header of a 10 GB file without the rest', async () => {
    const before = memory();
    const start = performance.now();
    const h = await firstBytesHeader(10e9);
    const ms = performance.now() - start;
    const grown = memory() - before;
    console.log(
      `10 GB file: header read from its first ${8 + header.length} bytes in ${ms.toFixed(1)} ms, memory ${grownText(grown)}`,
    );
    expect(h.entries).toEqual([{ name: 'w', dtype: 'F32', shape: [50_000, 50_000], begin: 0, end: 10e9 }]);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.dataStart).toBe(8 + header.length);
    expect(ms).toBeLessThan(MAX_MS);
    expect(grown).toBeLessThan(MAX_BYTES);
  });

  it('finds the same file truncated from its first bytes', async () => {
    await expect(firstBytesHeader(5e9)).rejects.toThrow(
      'w: data_offsets [0, 10000000000] run past the end of the data (5000000000 bytes): the file is truncated',
    );
  });

  it('refuses an HTML page from its first 8 bytes', () => {
    expect(() => headerEnd(new TextEncoder().encode('<!DOCTYP'), 20_000)).toThrow(
      'this is an HTML page, not a safetensors file',
    );
  });
});
