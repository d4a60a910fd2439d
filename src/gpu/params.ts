// Uniform parameters of a kernel: a flat list of 4-byte scalars, in the order of
// the fields of the shader's `Params` struct. Integers are written as u32/i32
// bits, `f32(x)` marks a float.

export class F32 {
  constructor(readonly value: number) {}
}

export const f32 = (value: number): F32 => new F32(value);

export type Param = number | F32;

/** Packs params into a byte array padded to 16 bytes (WGSL uniform struct size). */
export function packParams(params: readonly Param[]): Uint8Array {
  const bytes = new Uint8Array(Math.max(16, Math.ceil(params.length / 4) * 16));
  const dv = new DataView(bytes.buffer);
  params.forEach((p, i) => {
    if (p instanceof F32) dv.setFloat32(4 * i, p.value, true);
    else if (!Number.isInteger(p)) throw new TypeError(`param ${i} = ${p} is not an integer; wrap floats in f32()`);
    else if (p < 0) dv.setInt32(4 * i, p, true);
    else dv.setUint32(4 * i, p, true);
  });
  return bytes;
}
