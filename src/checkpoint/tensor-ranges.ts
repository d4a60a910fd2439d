// The tensors of a safetensors file that the model reads, as byte ranges of the file, and the file of
// those tensors alone made from the bytes fetched: a whole CLIP (its text tower and projections
// beside the image tower) is fetched from the Hub as its header and its image tower's bytes.
import { detectNaming } from './detect.ts';
import { IGNORED } from './name-tables.ts';
import type { Header, HeaderEntry } from './safetensors.ts';

/** Bytes [start, end) of the file. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface UsedTensors {
  /** The tensors the model reads, in the file's order. */
  entries: HeaderEntry[];
  /** Their bytes in the file, adjacent tensors in one range. */
  ranges: ByteRange[];
  /** The bytes of all ranges. */
  bytes: number;
}

/** The tensors of a file (its header read) that loading it uses: all but those its convention leaves out. */
export function usedTensors(header: Header): UsedTensors {
  const ignored = IGNORED[detectNaming(header.entries.map((e) => e.name))]?.names;
  const entries = header.entries.filter((e) => !ignored?.test(e.name)).sort((a, b) => a.begin - b.begin);
  const ranges: ByteRange[] = [];
  for (const e of entries) {
    const last = ranges.at(-1);
    const start = header.dataStart + e.begin;
    if (last?.end === start) last.end = header.dataStart + e.end;
    else ranges.push({ start, end: header.dataStart + e.end });
  }
  return { entries, ranges, bytes: ranges.reduce((n, r) => n + r.end - r.start, 0) };
}

/** A safetensors file of `used`'s tensors alone, from the bytes of its ranges (`chunks[k]`: ranges[k]),
 *  with the original metadata. */
export function usedTensorsFile(header: Header, used: UsedTensors, chunks: readonly Uint8Array[]): Uint8Array {
  const json: Record<string, unknown> = Object.create(null);
  if (Object.keys(header.metadata).length) json.__metadata__ = header.metadata;
  let offset = 0;
  for (const e of used.entries) {
    json[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.end - e.begin] };
    offset += e.end - e.begin;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  // Spaces pad the header so the data starts 8-byte aligned, as the reference writer does.
  const headerBytes = text.length + ((8 - (text.length % 8)) % 8);
  const out = new Uint8Array(8 + headerBytes + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes), true);
  out.fill(0x20, 8, 8 + headerBytes);
  out.set(text, 8);
  // The ranges hold the tensors back to back in the file's order, which is the new file's order too.
  let at = 8 + headerBytes;
  used.ranges.forEach((r, k) => {
    if (chunks[k].length !== r.end - r.start)
      throw new RangeError(`range ${k}: ${chunks[k].length} bytes for ${r.end - r.start}`);
    out.set(chunks[k], at);
    at += chunks[k].length;
  });
  return out;
}
