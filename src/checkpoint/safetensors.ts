// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
// then the tensor bytes, offsets counted from the end of the header. Runs in the browser and in
// Node alike: it sees bytes only, and reading files is the caller's business.
//
// Typed arrays are read in the host's byte order, which is little-endian on every platform that
// has WebGPU, the same order as the file.

import { numel, shapeStr, type HostTensor } from '../gpu/tensor.ts';
import { errorMessage } from '../gpu/error-message.ts';

/** A malformed checkpoint, or one that does not fit the model. The message names the tensor. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export type FloatDType = 'F32' | 'F16' | 'BF16' | 'F64';
export type DType = FloatDType | 'I32' | 'I64';

/** A tensor as read from a file: floats of any width arrive as f32, integers keep their width. */
export type StoredTensor =
  | { dtype: FloatDType; shape: number[]; data: Float32Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array }
  | { dtype: 'I64'; shape: number[]; data: BigInt64Array };

const ITEM_BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8 };

// The reference implementation refuses larger headers; a bigger length means "not this format".
const MAX_HEADER_BYTES = 100_000_000;

export interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte range [begin, end) counted from `dataStart`. */
  begin: number;
  end: number;
}

export interface Header {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the tensor data in the file: 8 + header length. */
  dataStart: number;
}

function fail(message: string): never {
  throw new CheckpointError(message);
}

// What a file that is text, not safetensors, is, from its first bytes; such a file's first 8 bytes
// read as a header length of quintillions. A web server's error page is the usual one.
function textInstead(bytes: Uint8Array): string | undefined {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // a UTF-8 byte order mark
  while (i < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[i])) i++;
  if (bytes[i] === 0x3c) return 'this is an HTML page, not a safetensors file (was an error page served instead?)'; // <
  if (bytes[i] === 0x7b) return 'this is JSON text, not a safetensors file (a config.json? give it as the config)'; // {
  return undefined;
}

/**
 * Checks a file's first bytes (at least 8: the header length) against its size and returns where
 * the header ends, 8 + its length. With `readHeader`, this checks a large file without reading it:
 *   const end = headerEnd(new Uint8Array(await file.slice(0, 8).arrayBuffer()), file.size);
 *   const header = readHeader(new Uint8Array(await file.slice(0, end).arrayBuffer()), file.size);
 */
export function headerEnd(first: Uint8Array, fileSize: number): number {
  if (first.length >= 4 && first[0] === 0x50 && first[1] === 0x4b && first[2] === 0x03 && first[3] === 0x04) {
    fail(
      'not a safetensors file: it is a zip archive, as PyTorch .pth/.bin checkpoints are; ' +
        'save it with safetensors.torch.save_file',
    );
  }
  const notSafetensors = (problem: string): never => fail(textInstead(first) ?? `not a safetensors file: ${problem}`);
  if (fileSize < 8) notSafetensors(`${fileSize} bytes, too short for the 8-byte header length`);
  if (first.length < 8) fail(`headerEnd was given ${first.length} bytes; the header length alone needs 8`);
  const length = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    notSafetensors(
      `its first 8 bytes give a header of ${length} bytes, over the ${MAX_HEADER_BYTES / 1e6} MB a header may have`,
    );
  }
  const end = 8 + Number(length);
  if (end > fileSize) {
    notSafetensors(`its first 8 bytes give a header of ${length} bytes, longer than the file (${fileSize} bytes)`);
  }
  return end;
}

/**
 * Reads and checks the header. `bytes` must hold at least the header; `fileSize` is the length of
 * the whole file, so a browser can read a File's first bytes before deciding to read the rest
 * (see headerEnd).
 */
export function readHeader(bytes: Uint8Array, fileSize = bytes.length): Header {
  const dataStart = headerEnd(bytes, fileSize);
  if (dataStart > bytes.length) fail(`readHeader was given ${bytes.length} bytes; the header needs ${dataStart}`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    return fail('not a safetensors file: the header is not UTF-8 text');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`not a safetensors file: the header is not JSON (${errorMessage(e)})`);
  }
  if (!isObject(json)) return fail('not a safetensors file: the header is not a JSON object');

  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = readMetadata(value);
    else entries.push(readEntry(name, value, fileSize - dataStart));
  }
  checkCoverage(entries, fileSize - dataStart);
  return { entries, metadata, dataStart };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function readMetadata(value: unknown): Record<string, string> {
  if (!isObject(value)) return fail('__metadata__: expected an object of strings');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`__metadata__.${k}: expected a string, got ${JSON.stringify(v)}`);
  }
  return value as Record<string, string>;
}

function readEntry(name: string, value: unknown, dataBytes: number): HeaderEntry {
  if (!isObject(value)) return fail(`${name}: expected {dtype, shape, data_offsets}, got ${JSON.stringify(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_BYTES, dtype)) {
    fail(
      `${name}: unsupported dtype ${JSON.stringify(dtype)} (this reader takes ${Object.keys(ITEM_BYTES).join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    fail(`${name}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`${name}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${name}: data_offsets [${begin}, ${end}] are out of order`);
  if (end > dataBytes) {
    fail(
      `${name}: data_offsets [${begin}, ${end}] run past the end of the data (${dataBytes} bytes): the file is truncated`,
    );
  }
  const t: HeaderEntry = { name, dtype: dtype as DType, shape: shape as number[], begin, end };
  const want = numel(t.shape) * ITEM_BYTES[t.dtype];
  if (end - begin !== want) {
    fail(
      `${name}: ${t.dtype} ${shapeStr(t.shape, ', ')} needs ${want} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return t;
}

// As the reference reader requires: the byte ranges, in offset order, tile the data exactly.
function checkCoverage(entries: readonly HeaderEntry[], dataBytes: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: HeaderEntry | undefined;
  for (const t of sorted) {
    const at = prev?.end ?? 0;
    if (t.begin < at) {
      fail(`${t.name}: data_offsets [${t.begin}, ${t.end}] overlap ${prev!.name} [${prev!.begin}, ${prev!.end}]`);
    }
    if (t.begin > at) {
      fail(
        `${t.name}: data_offsets start at ${t.begin}, but the tensor before ends at ${at}: bytes ${at}..${t.begin} belong to no tensor`,
      );
    }
    prev = t;
  }
  const covered = prev?.end ?? 0;
  if (covered !== dataBytes) {
    fail(
      `the data holds ${dataBytes} bytes but the tensors cover ${covered}: bytes after the last tensor belong to no tensor`,
    );
  }
}

export interface ParseOptions {
  /** Refuse NaN and ±Infinity in float tensors, naming the tensor: a model's weights must be finite. */
  finite?: boolean;
}

/** Parses a whole safetensors file. Tensors come back in header order. */
export function parseSafetensors(
  input: Uint8Array | ArrayBuffer,
  options: ParseOptions = {},
): {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
} {
  // A plain Uint8Array view: slice() on a Node Buffer would share memory instead of copying.
  const bytes =
    input instanceof Uint8Array
      ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
      : new Uint8Array(input);
  const { entries, metadata, dataStart } = readHeader(bytes);
  const tensors = new Map<string, StoredTensor>();
  for (const e of entries) {
    tensors.set(e.name, decode(e, bytes.subarray(dataStart + e.begin, dataStart + e.end), options.finite ?? false));
  }
  return { tensors, metadata };
}

function notFinite(e: HeaderEntry, i: number, value: number): never {
  return fail(
    `${e.name}: element ${i} is ${value}; the weights must be finite numbers (was the model saved after its training diverged?)`,
  );
}

// For F32 and F64, which have no conversion loop to check in (F16 and BF16 check as they convert).
function checkFinite(e: HeaderEntry, data: Float32Array): Float32Array {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) notFinite(e, i, data[i]);
  return data;
}

function decode(e: HeaderEntry, raw: Uint8Array, finite: boolean): StoredTensor {
  const n = numel(e.shape);
  const shape = e.shape;
  const floats = (data: Float32Array) => (finite ? checkFinite(e, data) : data);
  // slice() copies into a fresh, aligned buffer: the data section need not be aligned.
  switch (e.dtype) {
    case 'F32':
      return { dtype: 'F32', shape, data: floats(new Float32Array(raw.slice().buffer)) };
    case 'I32':
      return { dtype: 'I32', shape, data: new Int32Array(raw.slice().buffer) };
    case 'I64':
      return { dtype: 'I64', shape, data: new BigInt64Array(raw.slice().buffer) };
    case 'F64':
      // A finite f64 beyond the f32 range becomes ±Infinity here, and is refused as such.
      return { dtype: 'F64', shape, data: floats(new Float32Array(new Float64Array(raw.slice().buffer))) };
    case 'F16': {
      const table = f16Table();
      const bits = new Uint16Array(raw.slice().buffer);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        data[i] = table[bits[i]];
        if (finite && (bits[i] & 0x7c00) === 0x7c00) notFinite(e, i, data[i]); // all-ones exponent: NaN or ±Infinity
      }
      return { dtype: 'F16', shape, data };
    }
    case 'BF16': {
      // bf16 is the top half of an f32: shifting the bits is exact for every value, NaNs included.
      const bits = new Uint16Array(raw.slice().buffer);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = bits[i] << 16;
        if (finite && (bits[i] & 0x7f80) === 0x7f80) notFinite(e, i, bf16ToF32(bits[i])); // all-ones exponent
      }
      return { dtype: 'BF16', shape, data: new Float32Array(out.buffer) };
    }
  }
}

/** The value of the IEEE half-precision number with these 16 bits. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The value of the bfloat16 number with these 16 bits. */
export function bf16ToF32(bits: number): number {
  F32_BITS[0] = bits << 16;
  return F32_VIEW[0];
}

// All 65,536 half-precision values, built on first use: decoding is then one lookup per element.
let F16_TABLE: Float32Array | undefined;
function f16Table(): Float32Array {
  if (!F16_TABLE) F16_TABLE = Float32Array.from({ length: 65536 }, (_, h) => f16ToF32(h));
  return F16_TABLE;
}

const F32_VIEW = new Float32Array(1);
const F32_BITS = new Uint32Array(F32_VIEW.buffer);

/** The nearest half-precision number to f32(x) (ties to even; overflow to ±inf; NaN stays NaN), as 16 bits. */
export function f32ToF16(x: number): number {
  F32_VIEW[0] = x;
  const b = F32_BITS[0];
  const sign = (b >>> 16) & 0x8000;
  const exponent = (b >>> 23) & 0xff;
  const mantissa = b & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15; // the half-precision biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  // Below half the smallest subnormal (2^-25) everything rounds to zero.
  if (e < -10) return sign;
  // Normal: keep the top 10 of 23 mantissa bits. Subnormal: the value in units of 2^-24 is
  // (1.mantissa) >> (14 - e). Rounding up may carry into the exponent, which is right (up to inf).
  let kept: number, rest: number, shift: number;
  if (e > 0) {
    shift = 13;
    kept = (e << 10) | (mantissa >>> shift);
    rest = mantissa & 0x1fff;
  } else {
    const full = mantissa | 0x800000;
    shift = 14 - e;
    kept = full >>> shift;
    rest = full & ((1 << shift) - 1);
  }
  const half = 1 << (shift - 1);
  return sign | (kept + (rest > half || (rest === half && kept & 1) ? 1 : 0));
}

export interface WriteOptions {
  /** How floats are stored; F16 rounds to nearest even. Default F32 (exact). */
  dtype?: 'F32' | 'F16';
  metadata?: Record<string, string>;
}

/** Serialises tensors, in map order, into safetensors bytes. */
export function writeSafetensors(tensors: ReadonlyMap<string, HostTensor>, options: WriteOptions = {}): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  const item = ITEM_BYTES[dtype];
  // No prototype, so that any name, "__proto__" too, becomes a plain key.
  const header: Record<string, unknown> = Object.create(null);
  if (options.metadata) header.__metadata__ = options.metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') fail('__metadata__ is reserved for the metadata and cannot name a tensor');
    if (!t.shape.every(isCount)) fail(`${name}: shape ${shapeStr(t.shape, ', ')} must be non-negative integers`);
    const n = numel(t.shape);
    if (t.data.length !== n)
      fail(`${name}: shape ${shapeStr(t.shape, ', ')} has ${n} elements, data has ${t.data.length}`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + n * item] };
    offset += n * item;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Spaces pad the header so the data starts 8-byte aligned, as the reference writer does.
  const headerBytes = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerBytes + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes), true);
  out.fill(0x20, 8, 8 + headerBytes);
  out.set(json, 8);
  const view = new DataView(out.buffer);
  let at = 8 + headerBytes;
  for (const t of tensors.values()) {
    if (dtype === 'F32') out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) view.setUint16(at + 2 * i, f32ToF16(t.data[i]), true);
    at += t.data.length * item;
  }
  return out;
}
