// A protobuf wire-format writer (https://protobuf.dev/programming-guides/encoding/), just enough
// to write a message from field numbers: varints, length-delimited bytes/strings/sub-messages,
// fixed32 floats and packed repeated ints and floats.
//
// A message is a list of byte chunks. A sub-message's chunks are appended to its parent's list
// instead of being copied, so a model holding hundreds of megabytes of weights is copied once,
// by `finish`.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Base-128 varint of an int64. Negative values are their 64-bit two's complement (ten bytes), as protobuf's int32/int64 are. */
function varint(value: number | bigint): Uint8Array {
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new RangeError(`protobuf: ${value} is not an integer`);
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.size;
  }

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private tag(field: number, wire: number): void {
    this.push(varint(field * 8 + wire));
  }

  /** int32, int64, uint64, bool or enum field. */
  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.push(varint(value));
    return this;
  }

  /** float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  /** bytes field; the array is kept, not copied, until `finish`. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.push(varint(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Embedded message field; takes over the sub-writer's chunks. */
  message(field: number, sub: ProtoWriter): this {
    this.tag(field, WIRE_LEN);
    this.push(varint(sub.size));
    for (const c of sub.chunks) this.push(c);
    return this;
  }

  /** Packed repeated int32/int64 field. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const sub = new ProtoWriter();
    for (const v of values) sub.push(varint(v));
    return this.message(field, sub);
  }

  /** Packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(4 * values.length);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
    return this.bytes(field, b);
  }

  /** The message's bytes. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
