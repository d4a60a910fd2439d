// Large typed arrays between the command line and its Chromium host page. One page.evaluate argument or
// result of tens of MiB (a ViT-S checkpoint, its AdamW moments) makes the renderer crash, so an array
// over PIECE bytes crosses as a placeholder, its bytes moved in pieces of PIECE each way and kept in the
// page's `ParkedBytes` until the call that uses them (or Node, once it has read them) takes them.

/** Bytes per page.evaluate: 8 MiB crosses in well under a second. */
export const PIECE = 8 << 20;

const KINDS = { Uint8Array, Uint32Array, Int32Array, Float32Array } as const;
type Kind = keyof typeof KINDS;
type Large = InstanceType<(typeof KINDS)[Kind]>;

/** What crosses in place of a large array: its bytes wait in the page under `parked`. */
export interface Placeholder {
  parked: number;
  kind: Kind;
  byteLength: number;
}

const isPlaceholder = (v: unknown): v is Placeholder =>
  typeof v === 'object' && v !== null && typeof (v as Placeholder).parked === 'number' && 'kind' in v;

const kindOf = (v: unknown): Kind | undefined => (Object.keys(KINDS) as Kind[]).find((k) => v instanceof KINDS[k]);

/** `value` (plain objects, arrays, typed arrays, scalars) with what `f` makes of each large typed array
 *  or placeholder; everything else is kept as it is. */
export async function mapLarge(
  value: unknown,
  f: (v: { array: Large; kind: Kind } | { placeholder: Placeholder }) => Promise<unknown>,
): Promise<unknown> {
  const kind = kindOf(value);
  if (kind) return (value as Large).byteLength > PIECE ? f({ array: value as Large, kind }) : value;
  if (isPlaceholder(value)) return f({ placeholder: value });
  if (Array.isArray(value)) return Promise.all(value.map((v) => mapLarge(v, f)));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await mapLarge(v, f);
    return out;
  }
  return value;
}

const bytesOf = (a: Large) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** `bytes` (a whole buffer of its own) seen as a `kind`. */
const arrayOf = (kind: Kind, bytes: Uint8Array<ArrayBuffer>) =>
  new KINDS[kind](bytes.buffer, 0, bytes.byteLength / KINDS[kind].BYTES_PER_ELEMENT);

/** The page's half: the bytes of arrays in transit, by number. */
export class ParkedBytes {
  private readonly parked = new Map<number, Uint8Array<ArrayBuffer>>();
  private next = 0;

  alloc(byteLength: number): number {
    return this.keep(new Uint8Array(byteLength));
  }
  write(id: number, offset: number, piece: Uint8Array): void {
    this.bytes(id).set(piece, offset);
  }
  read(id: number, offset: number): Uint8Array {
    return this.bytes(id).slice(offset, offset + PIECE);
  }
  free(id: number): void {
    this.parked.delete(id);
  }
  /** The arguments as sent: each placeholder becomes its array (and leaves the parking). */
  async unpark<T>(value: T): Promise<T> {
    return (await mapLarge(value, async (v) => {
      if (!('placeholder' in v)) return v.array;
      const bytes = this.bytes(v.placeholder.parked);
      this.free(v.placeholder.parked);
      return arrayOf(v.placeholder.kind, bytes);
    })) as T;
  }
  /** A result to return: each large array parked, a placeholder in its place. */
  async park(value: unknown): Promise<unknown> {
    return mapLarge(value, async (v) => {
      if ('placeholder' in v) return v.placeholder;
      const parked = this.keep(bytesOf(v.array).slice());
      return { parked, kind: v.kind, byteLength: v.array.byteLength } satisfies Placeholder;
    });
  }
  private keep(bytes: Uint8Array<ArrayBuffer>): number {
    this.parked.set(this.next, bytes);
    return this.next++;
  }
  private bytes(id: number): Uint8Array<ArrayBuffer> {
    const b = this.parked.get(id);
    if (!b) throw new Error(`no parked bytes numbered ${id}`);
    return b;
  }
}

/** The Node half: how it reaches the page's ParkedBytes. */
export interface PageParking {
  alloc(byteLength: number): Promise<number>;
  write(id: number, offset: number, piece: Uint8Array): Promise<void>;
  read(id: number, offset: number): Promise<Uint8Array>;
  free(id: number): Promise<void>;
}

/** Arguments for the page: each large array parked there in pieces, a placeholder in its place. */
export function sendLarge<T>(value: T, page: PageParking): Promise<unknown> {
  return mapLarge(value, async (v) => {
    if ('placeholder' in v) return v.placeholder;
    const bytes = bytesOf(v.array);
    const id = await page.alloc(bytes.byteLength);
    for (let at = 0; at < bytes.byteLength; at += PIECE) await page.write(id, at, bytes.slice(at, at + PIECE));
    return { parked: id, kind: v.kind, byteLength: bytes.byteLength } satisfies Placeholder;
  });
}

/** A result from the page: each placeholder read back in pieces (and freed there). */
export async function receiveLarge<T>(value: unknown, page: PageParking): Promise<T> {
  return (await mapLarge(value, async (v) => {
    if (!('placeholder' in v)) return v.array;
    const { parked, kind, byteLength } = v.placeholder;
    const bytes = new Uint8Array(byteLength);
    for (let at = 0; at < byteLength; at += PIECE) bytes.set(await page.read(parked, at), at);
    await page.free(parked);
    return arrayOf(kind, bytes);
  })) as T;
}
