// The image format a file's first bytes announce. One check for the zip reader (which stops
// inflating an entry that is no image after its first bytes) and the browser decoder (which reads
// the header of the format it finds); Node's decoder asks sharp, which checks the same signatures.

export type ImageFormat = 'PNG' | 'JPEG' | 'GIF' | 'BMP' | 'WebP';

/** Enough bytes for every signature below: a BMP's ends with the size of its info header, at 14..17. */
export const SIGNATURE_BYTES = 18;

/** Why bytes with none of the signatures are not an image, in words. */
export const NO_SIGNATURE = 'it starts with no PNG, JPEG, WebP, BMP or GIF signature';

/** Info header sizes of the BMP versions: two letters alone are too weak a signature. */
const BMP_HEADERS = [12, 40, 52, 56, 64, 108, 124];

const startsWith = (b: Uint8Array, at: number, text: string) =>
  b.length >= at + text.length && [...text].every((c, i) => b[at + i] === c.charCodeAt(0));

/** The format whose signature `bytes` start with, or undefined (also when they are too few to tell). */
export function imageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes[0] === 0x89 && startsWith(bytes, 1, 'PNG\r\n\x1a\n')) return 'PNG';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'JPEG';
  if (startsWith(bytes, 0, 'GIF87a') || startsWith(bytes, 0, 'GIF89a')) return 'GIF';
  if (startsWith(bytes, 0, 'BM') && bytes.length >= 18) {
    const infoSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(14, true);
    if (BMP_HEADERS.includes(infoSize)) return 'BMP';
  }
  if (startsWith(bytes, 0, 'RIFF') && startsWith(bytes, 8, 'WEBP')) return 'WebP';
  return undefined;
}
