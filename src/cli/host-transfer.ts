// Large typed arrays between the command line and its Chromium host page. One page.evaluate argument or
// result of tens of MiB (a ViT-S checkpoint, its AdamW moments) makes the renderer crash, so an array
// over PIECE bytes crosses as a ticket, its bytes moved in pieces of PIECE each way and kept in the
// page's `ParkedBytes` until the call that uses them (or Node, once it has read them) takes them.

/** Bytes per page.evaluate: 8 MiB crosses in well under a second. */
export const PIECE = 8 << 20;

const KINDS = { Uint8Array, Uint32Array, Int32Array, Float32Array } as const;
type Kind = keyof typeof KINDS;
type Large = InstanceType<(typeof KINDS)[Kind]>;

/** What crosses in place of a large array: its bytes wait in the page under `parked`. */
export interface Ticket {
  parked: number;
  kind: Kind;
  byteLength: number;
}

const kindOf = (v: unknown): Kind | undefined => (Object.keys(KINDS) as Kind[]).find((k) => v instanceof KINDS[k]);

const isLarge = (v: unknown): v is Large => kindOf(v) !== undefined && (v as Large).byteLength > PIECE;

const isTicket = (v: unknown): v is Ticket =>
  typeof v === 'object' && v !== null && typeof (v as Ticket).parked === 'number' && 'kind' in v;

/** `value` (plain objects, arrays, typed arrays, scalars) with `f` of each part that `is` picks; everything
 *  else is kept as it is. */
async function mapWhere<T>(
  value: unknown,
  is: (v: unknown) => v is T,
  f: (v: T) => Promise<unknown>,
): Promise<unknown> {
  if (is(value)) return f(value);
  if (Array.isArray(value)) return Promise.all(value.map((v) => mapWhere(v, is, f)));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await mapWhere(v, is, f);
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
  /** The arguments as sent: each ticket becomes its array (and leaves the parking). */
  async unpark<T>(value: T): Promise<T> {
    return (await mapWhere(value, isTicket, async (t) => {
      const bytes = this.bytes(t.parked);
      this.free(t.parked);
      return arrayOf(t.kind, bytes);
    })) as T;
  }
  /** A result to return: each large array parked, a ticket in its place. */
  async park(value: unknown): Promise<unknown> {
    return mapWhere(value, isLarge, async (a) => {
      const parked = this.keep(bytesOf(a).slice());
      return { parked, kind: kindOf(a)!, byteLength: a.byteLength } satisfies Ticket;
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

/** Arguments for the page: each large array parked there in pieces, a ticket in its place. */
export function sendLarge<T>(value: T, page: PageParking): Promise<unknown> {
  return mapWhere(value, isLarge, async (a) => {
    const bytes = bytesOf(a);
    const id = await page.alloc(bytes.byteLength);
    for (let at = 0; at < bytes.byteLength; at += PIECE) await page.write(id, at, bytes.slice(at, at + PIECE));
    return { parked: id, kind: kindOf(a)!, byteLength: bytes.byteLength } satisfies Ticket;
  });
}

/** A result from the page: each ticket's bytes read back in pieces (and freed there). */
export async function receiveLarge<T>(value: unknown, page: PageParking): Promise<T> {
  return (await mapWhere(value, isTicket, async ({ parked, kind, byteLength }) => {
    const bytes = new Uint8Array(byteLength);
    for (let at = 0; at < byteLength; at += PIECE) bytes.set(await page.read(parked, at), at);
    await page.free(parked);
    return arrayOf(kind, bytes);
  })) as T;
}
