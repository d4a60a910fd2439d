// The safetensors reader and writer: round trips, f16/bf16 decoding against known bit patterns,
// f32 -> f16 rounding, and every malformed file the reader must refuse.
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  bf16ToF32,
  f16ToF32,
  f32ToF16,
  parseSafetensors,
  readHeader,
  writeSafetensors,
} from '../../src/checkpoint/safetensors.ts';
import type { HostTensor } from '../../src/gpu/tensor.ts';
import { normal } from '../helpers/random.ts';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** A file with this header (an object, or raw text) and data; `length` overrides the header length field. */
function file(header: unknown, data: ArrayLike<number> = [], length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A file holding one tensor of 16-bit values. */
function file16(dtype: 'F16' | 'BF16', values: number[]): Uint8Array {
  const data = new Uint8Array(new Uint16Array(values).buffer);
  return file({ t: { dtype, shape: [values.length], data_offsets: [0, data.length] } }, data);
}

function expectError(f: () => unknown, message: string): void {
  expect(f).toThrowError(CheckpointError);
  expect(f).toThrowError(message);
}

describe('safetensors round trip', () => {
  const special = Float32Array.from([0, -0, 1.5, -Infinity, Infinity, 1e-45, 3.4028234663852886e38]);
  const nanBits = new Float32Array(new Uint32Array([0x7fc00001, 0xffc12345]).buffer); // NaN payloads
  const tensors = new Map<string, HostTensor>([
    ['a.weight', { shape: [3, 4], data: Float32Array.from(normal(12, 1)) }],
    ['scalar', { shape: [], data: Float32Array.of(7) }],
    ['empty', { shape: [0, 3], data: new Float32Array(0) }],
    ['special', { shape: [7], data: special }],
    ['nan', { shape: [2], data: nanBits }],
    ['ünïcode.bias', { shape: [5], data: Float32Array.from(normal(5, 2)) }],
  ]);
  const metadata = { format: 'pt', note: 'x' };

  it('keeps names, order, shapes, metadata and every bit', () => {
    const bytes = writeSafetensors(tensors, { metadata });
    const parsed = parseSafetensors(bytes);
    expect([...parsed.tensors.keys()]).toEqual([...tensors.keys()]);
    expect(parsed.metadata).toEqual(metadata);
    for (const [name, t] of tensors) {
      const p = parsed.tensors.get(name)!;
      expect(p.dtype).toBe('F32');
      expect(p.shape).toEqual(t.shape);
      expect(bits(p.data as Float32Array)).toEqual(bits(t.data));
    }
    expect(writeSafetensors(parsed.tensors as Map<string, HostTensor>, { metadata })).toEqual(bytes);
  });

  it('pads the header so the data starts 8-byte aligned', () => {
    const bytes = writeSafetensors(tensors);
    const { dataStart } = readHeader(bytes);
    expect(dataStart % 8).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(8, dataStart))).toMatch(/} *$/);
  });

  it('reads the header from the first bytes of a larger file', () => {
    const bytes = writeSafetensors(tensors);
    const { dataStart } = readHeader(bytes);
    const header = readHeader(bytes.slice(0, dataStart), bytes.length);
    expect(header.entries.map((e) => e.name)).toEqual([...tensors.keys()]);
    expect(header.entries[0]).toEqual({ name: 'a.weight', dtype: 'F32', shape: [3, 4], begin: 0, end: 48 });
  });

  it('accepts an ArrayBuffer and a Uint8Array at an unaligned offset', () => {
    const bytes = writeSafetensors(tensors);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const a = parseSafetensors(shifted.subarray(3)).tensors.get('a.weight')!;
    const b = parseSafetensors(bytes.slice().buffer).tensors.get('a.weight')!;
    expect(bits(a.data as Float32Array)).toEqual(bits(tensors.get('a.weight')!.data));
    expect(bits(b.data as Float32Array)).toEqual(bits(tensors.get('a.weight')!.data));
  });
});

describe('16-bit floats', () => {
  // [bits, value]: zeros, normals, the largest finite, the smallest normal and subnormal, infinities.
  const f16: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x3bff, 0.99951171875],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x8001, -(2 ** -24)],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];

  it('decodes F16 bit patterns', () => {
    const parsed = parseSafetensors(
      file16(
        'F16',
        f16.map(([b]) => b),
      ),
    ).tensors.get('t')!;
    expect(parsed.dtype).toBe('F16');
    expect(Array.from(parsed.data as Float32Array)).toEqual(f16.map(([, v]) => v));
    for (const [b, v] of f16) expect(f16ToF32(b)).toBe(v);
  });

  it('decodes F16 negative zero and NaNs', () => {
    const data = parseSafetensors(file16('F16', [0x8000, 0x7e00, 0x7c01, 0xfe00])).tensors.get('t')!.data;
    expect(Object.is(data[0], -0)).toBe(true);
    expect([data[1], data[2], data[3]].every(Number.isNaN)).toBe(true);
  });

  // bf16 is the top half of an f32.
  const bf16: [number, number][] = [
    [0x0000, 0],
    [0x3f80, 1],
    [0xc000, -2],
    [0x3eab, 0.333984375],
    [0x4049, 3.140625],
    [0x7f7f, 3.3895313892515355e38],
    [0x0080, 2 ** -126],
    [0x0001, 2 ** -133], // an f32 subnormal
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ];

  it('decodes BF16 bit patterns', () => {
    const parsed = parseSafetensors(
      file16(
        'BF16',
        bf16.map(([b]) => b),
      ),
    ).tensors.get('t')!;
    expect(parsed.dtype).toBe('BF16');
    expect(Array.from(parsed.data as Float32Array)).toEqual(bf16.map(([, v]) => v));
    for (const [b, v] of bf16) expect(bf16ToF32(b)).toBe(v);
  });

  it('decodes BF16 negative zero and NaN bit-exactly', () => {
    const data = parseSafetensors(file16('BF16', [0x8000, 0x7fc1, 0xffc0])).tensors.get('t')!.data as Float32Array;
    expect(bits(data)).toEqual([0x80000000, 0x7fc10000, 0xffc00000]);
  });

  it('f32 -> f16 -> f32 returns every half-precision value', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!isNaN && f32ToF16(f16ToF32(h)) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('f32 -> f16 rounds to nearest even, overflows to infinity, keeps NaN', () => {
    const cases: [number, number][] = [
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next: even
      [1 + 3 * 2 ** -11, 0x3c02], // halfway between 0x3c01 and 0x3c02: even
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above halfway
      [65519, 0x7bff],
      [65520, 0x7c00], // halfway between 65504 and 65536: rounds up, to infinity
      [1e10, 0x7c00],
      [-1e10, 0xfc00],
      [2 ** -25, 0x0000], // halfway between 0 and the smallest subnormal: even
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002], // halfway between subnormals 1 and 2: even
      [1023.5 * 2 ** -24, 0x0400], // halfway between the largest subnormal and the smallest normal
      [1e-8, 0x0000],
      [-1e-8, 0x8000],
      [-0, 0x8000],
      [NaN, 0x7e00],
    ];
    for (const [x, h] of cases) expect(f32ToF16(x), `${x}`).toBe(h);
  });

  it('writes F16 files', () => {
    const data = Float32Array.of(1, 1 + 2 ** -12, -65520, 0.1);
    const parsed = parseSafetensors(writeSafetensors(new Map([['w', { shape: [2, 2], data }]]), { dtype: 'F16' }));
    const w = parsed.tensors.get('w')!;
    expect(w.dtype).toBe('F16');
    expect(w.shape).toEqual([2, 2]);
    expect(Array.from(w.data as Float32Array)).toEqual([1, 1, -Infinity, f16ToF32(0x2e66)]);
  });
});

describe('other dtypes', () => {
  it('reads F64 as f32 and I32, I64 as integers', () => {
    const f64 = new Uint8Array(Float64Array.of(0.1, -3, 1e300).buffer);
    const i32 = new Uint8Array(Int32Array.of(-1, 2 ** 31 - 1).buffer);
    const i64 = new Uint8Array(BigInt64Array.of(-5n, 2n ** 40n).buffer);
    const data = new Uint8Array([...f64, ...i32, ...i64]);
    const { tensors } = parseSafetensors(
      file(
        {
          d: { dtype: 'F64', shape: [3], data_offsets: [0, 24] },
          i: { dtype: 'I32', shape: [2], data_offsets: [24, 32] },
          l: { dtype: 'I64', shape: [2, 1], data_offsets: [32, 48] },
        },
        data,
      ),
    );
    expect(tensors.get('d')).toEqual({ dtype: 'F64', shape: [3], data: Float32Array.of(0.1, -3, Infinity) });
    expect(tensors.get('i')).toEqual({ dtype: 'I32', shape: [2], data: Int32Array.of(-1, 2 ** 31 - 1) });
    expect(tensors.get('l')).toEqual({ dtype: 'I64', shape: [2, 1], data: BigInt64Array.of(-5n, 2n ** 40n) });
  });
});

describe('malformed files', () => {
  const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

  it('too short for the header length', () => {
    expectError(
      () => parseSafetensors(new Uint8Array(3)),
      'not a safetensors file: 3 bytes, too short for the 8-byte header length',
    );
  });

  it('a PyTorch zip checkpoint', () => {
    const zip = new Uint8Array(64);
    zip.set([0x50, 0x4b, 0x03, 0x04]);
    expectError(() => parseSafetensors(zip), 'not a safetensors file: it is a zip archive');
  });

  it('a huge header length', () => {
    expectError(
      () => parseSafetensors(file({}, [], 2n ** 60n)),
      `not a safetensors file: its first 8 bytes give a header of ${2n ** 60n} bytes, over the 100 MB a header may have`,
    );
  });

  it('a header length past the end of the file', () => {
    expectError(
      () => parseSafetensors(file('{}', [], 1000n)),
      'not a safetensors file: its first 8 bytes give a header of 1000 bytes, longer than the file (10 bytes)',
    );
  });

  it('a header that is not JSON, not UTF-8 or not an object', () => {
    expectError(() => parseSafetensors(file('{"w": ')), 'not a safetensors file: the header is not JSON');
    const latin1 = file('{}');
    latin1[8] = 0xff;
    expectError(() => parseSafetensors(latin1), 'not a safetensors file: the header is not UTF-8 text');
    expectError(() => parseSafetensors(file('[1, 2]')), 'not a safetensors file: the header is not a JSON object');
  });

  it('a truncated file', () => {
    expectError(
      () => parseSafetensors(file({ w: f32([4], 0, 16) }, new Uint8Array(8))),
      'w: data_offsets [0, 16] run past the end of the data (8 bytes): the file is truncated',
    );
  });

  it('overlapping offsets', () => {
    expectError(
      () => parseSafetensors(file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, new Uint8Array(12))),
      'b: data_offsets [4, 12] overlap a [0, 8]',
    );
  });

  it('offsets out of order', () => {
    expectError(
      () => parseSafetensors(file({ w: f32([2], 8, 0) }, new Uint8Array(8))),
      'w: data_offsets [8, 0] are out of order',
    );
  });

  it('bytes that belong to no tensor', () => {
    expectError(
      () => parseSafetensors(file({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, new Uint8Array(12))),
      'b: data_offsets start at 8, but the tensor before ends at 4: bytes 4..8 belong to no tensor',
    );
    expectError(
      () => parseSafetensors(file({ a: f32([1], 0, 4) }, new Uint8Array(8))),
      'the data holds 8 bytes but the tensors cover 4',
    );
  });

  it('a byte length that does not match dtype and shape', () => {
    expectError(
      () => parseSafetensors(file({ w: f32([3], 0, 8) }, new Uint8Array(8))),
      'w: F32 [3] needs 12 bytes, data_offsets [0, 8] hold 8',
    );
    expectError(
      () => parseSafetensors(file({ w: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 16] } }, new Uint8Array(16))),
      'w: BF16 [2, 2] needs 8 bytes, data_offsets [0, 16] hold 16',
    );
  });

  it('an unknown dtype', () => {
    expectError(
      () => parseSafetensors(file({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1))),
      'w: unsupported dtype "Q4" (this reader takes F32, F16, BF16, F64, I32, I64)',
    );
  });

  it('bad shapes, offsets and metadata', () => {
    expectError(
      () => parseSafetensors(file({ w: f32([-1], 0, 0) })),
      'w: shape must be a list of non-negative integers, got [-1]',
    );
    expectError(
      () => parseSafetensors(file({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4))),
      'w: data_offsets must be [begin, end], got [0]',
    );
    expectError(() => parseSafetensors(file({ w: 3 })), 'w: expected {dtype, shape, data_offsets}, got 3');
    expectError(
      () => parseSafetensors(file({ __metadata__: { epoch: 3 } })),
      '__metadata__.epoch: expected a string, got 3',
    );
  });

  it('the writer refuses data that does not fit the shape, and the reserved name', () => {
    expectError(
      () => writeSafetensors(new Map([['w', { shape: [2, 3], data: new Float32Array(5) }]])),
      'w: shape [2, 3] has 6 elements, data has 5',
    );
    expectError(
      () => writeSafetensors(new Map([['__metadata__', { shape: [1], data: new Float32Array(1) }]])),
      '__metadata__ is reserved',
    );
  });
});
