// A .safetensors file is checked from its first bytes (its 8-byte header length, then its header)
// before the rest is read or downloaded, so a large file of the wrong kind is refused at once.
import { headerEnd, readHeader } from './safetensors.ts';

/**
 * How many of the file's first bytes the check needs (8, then 8 + the header length), or 0 once they
 * have been checked; throws a CheckpointError when they are not the start of a safetensors file.
 * `size` unknown (a download that does not say its length): the header length is checked against its
 * own limit only, and the header is left to the parse of the whole file.
 */
export function checkModelStart(head: Uint8Array, size: number | undefined): number {
  if (head.length < 8 && (size === undefined || size >= 8)) return 8;
  const end = headerEnd(head, size ?? Number.MAX_SAFE_INTEGER);
  if (size === undefined) return 0;
  if (end > head.length) return end;
  readHeader(head.subarray(0, end), size);
  return 0;
}
