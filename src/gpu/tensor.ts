// A tensor is a typed, shaped window onto a GPU buffer. Every element is 4 bytes
// (f32, u32 or i32), so byte sizes are always 4 * numel.

export type DType = 'f32' | 'u32' | 'i32';

export interface Tensor {
  readonly buffer: GPUBuffer;
  /** Byte offset of element 0 inside `buffer`. */
  readonly offset: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly label: string;
}

export type HostArray = Float32Array | Uint32Array | Int32Array;

/** A float tensor on the CPU: row-major data, prod(shape) elements. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** A wrong shape or dtype, found in TypeScript before anything is dispatched. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function byteSize(t: { shape: readonly number[] }): number {
  return 4 * numel(t.shape);
}

/** A shape in a message: [4x3] beside a tensor's label (a kernel's), or [3072, 768] as PyTorch lists a
 *  checkpoint's tensors, for the person who made the file. */
export function shapeStr(shape: readonly number[], separator: 'x' | ', ' = 'x'): string {
  return `[${shape.join(separator)}]`;
}

export function describe(t: Tensor): string {
  return `${t.label}${shapeStr(t.shape)}`;
}

/** Throws a ShapeError naming `op` unless `cond` holds. */
export function check(cond: boolean, op: string, what: () => string): asserts cond {
  if (!cond) throw new ShapeError(`${op}: ${what()}`);
}

export function checkRank(t: Tensor, rank: number, op: string, name: string): void {
  check(t.shape.length === rank, op, () => `${name} must have rank ${rank}, got ${describe(t)}`);
}

export function checkShape(t: Tensor, shape: readonly number[], op: string, name: string): void {
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  check(same, op, () => `${name} must be ${shapeStr(shape)}, got ${describe(t)}`);
}

export function checkDType(t: Tensor, dtypes: readonly DType[], op: string, name: string): void {
  check(dtypes.includes(t.dtype), op, () => `${name} must be ${dtypes.join(' or ')}, got ${t.dtype}`);
}

/** A window of `t` starting at element `elemOffset`, with a new shape (no copy). */
export function view(t: Tensor, shape: readonly number[], elemOffset = 0, label = t.label): Tensor {
  const n = numel(shape);
  check(
    elemOffset >= 0 && elemOffset + n <= numel(t.shape),
    'view',
    () => `${shapeStr(shape)} at element ${elemOffset} does not fit in ${describe(t)}`,
  );
  return { buffer: t.buffer, offset: t.offset + 4 * elemOffset, shape: [...shape], dtype: t.dtype, label };
}

export function hostArray(dtype: DType, n: number): HostArray {
  if (dtype === 'f32') return new Float32Array(n);
  if (dtype === 'u32') return new Uint32Array(n);
  return new Int32Array(n);
}
