// NumPy .npy files (format versions 1 to 3): little-endian float32/float64/int32/int64
// arrays in C order, which is what numpy.save writes for such arrays.

export type NpyArray =
  | { dtype: 'f4'; shape: number[]; data: Float32Array }
  | { dtype: 'f8'; shape: number[]; data: Float64Array }
  | { dtype: 'i4'; shape: number[]; data: Int32Array }
  | { dtype: 'i8'; shape: number[]; data: BigInt64Array };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

export function readNpy(bytes: Uint8Array, what = 'array'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError(`${what} is not a .npy file`);
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [headerLen, start] = major === 1 ? [dv.getUint16(8, true), 10] : [dv.getUint32(8, true), 12];
  if (start + headerLen > bytes.length) throw new NpyError(`${what}: the .npy header is truncated`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new NpyError(`${what}: unreadable .npy header ${header.trim()}`);
  if (fortran === 'True')
    throw new NpyError(`${what}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const dtype = { '<f4': 'f4', '<f8': 'f8', '<i4': 'i4', '<i8': 'i8' }[descr] as NpyArray['dtype'] | undefined;
  if (!dtype)
    throw new NpyError(`${what}: dtype ${descr} is not supported (float32, float64, int32 or int64, little-endian)`);
  const size = { f4: 4, f8: 8, i4: 4, i8: 8 }[dtype];
  const body = new Uint8Array(bytes.subarray(start + headerLen)); // a copy, so the typed array is aligned
  if (body.length !== n * size) {
    throw new NpyError(
      `${what}: shape (${shape.join(', ')}) needs ${n * size} bytes of data, the file has ${body.length}`,
    );
  }
  const buf = body.buffer;
  if (dtype === 'f4') return { dtype, shape, data: new Float32Array(buf) };
  if (dtype === 'f8') return { dtype, shape, data: new Float64Array(buf) };
  if (dtype === 'i4') return { dtype, shape, data: new Int32Array(buf) };
  return { dtype, shape, data: new BigInt64Array(buf) };
}

/** A float32 .npy file (version 1.0). */
export function writeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n'; // data starts on a 64-byte boundary
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
