// Checkpoint tensors to the engine's canonical ones and back, in any of the conventions (HF's q, k
// and v stacked into one tensor and split again; timm's register models' class position moved).
import { shapeStr, type HostTensor } from '../gpu/tensor.ts';
import { CheckpointError, type StoredTensor } from './safetensors.ts';
import {
  BLOCK_INDEX,
  countBlocks,
  IGNORED,
  isBareHf,
  layout,
  listNames,
  POS_WITHOUT_CLASS_ROW,
  type Naming,
  type Slot,
  type TensorMap,
} from './name-tables.ts';
import { notFloat } from './validate.ts';

function asFloat(name: string, t: StoredTensor | HostTensor): HostTensor {
  const problem = notFloat(name, t);
  if (problem) throw new CheckpointError(problem);
  return { shape: t.shape, data: t.data as Float32Array };
}

/**
 * Checkpoint tensors -> canonical ones. Run validateCheckpoint first for a full report: this
 * throws on the first name it cannot place. Data is shared with the input, not copied, except
 * where HF's q, k, v are stacked.
 */
export function toCanonical(tensors: TensorMap, naming: Naming): Map<string, HostTensor> {
  const names = [...tensors.keys()];
  const slots = layout(naming, countBlocks(names, BLOCK_INDEX[naming]), isBareHf(naming, names));
  const known = new Set(slots.flatMap((s) => s.names));
  const unexpected = names.filter((n) => !known.has(n) && !IGNORED[naming]?.names.test(n));
  if (unexpected.length)
    throw new CheckpointError(`unexpected tensors in a ${naming} checkpoint: ${listNames(unexpected)}`);

  const out = new Map<string, HostTensor>();
  for (const s of slots) {
    const present = s.names.filter((n) => tensors.has(n));
    if (present.length === 0) continue;
    if (present.length < s.names.length) {
      throw new CheckpointError(`${s.canonical}: missing ${listNames(s.names.filter((n) => !tensors.has(n)))}`);
    }
    out.set(
      s.canonical,
      stack(
        s,
        s.names.map((n) => asFloat(n, tensors.get(n)!)),
      ),
    );
  }
  if (POS_WITHOUT_CLASS_ROW(naming, out.has('registers'))) {
    // [G², D] -> [1 + G², D]: the class token already holds its position.
    const pos = out.get('pos');
    if (pos) {
      const data = new Float32Array(pos.data.length + pos.shape[1]);
      data.set(pos.data, pos.shape[1]);
      out.set('pos', { shape: [pos.shape[0] + 1, pos.shape[1]], data });
    }
  }
  return out;
}

// Drops the leading 1-dims and stacks the parts along dim 0: k x [r, ...] -> [k*r, ...].
function stack(s: Slot, parts: HostTensor[]): HostTensor {
  const shapes = parts.map((t, k) => {
    const lead = t.shape.slice(0, s.lead);
    if (t.shape.length <= s.lead || lead.some((d) => d !== 1)) {
      throw new CheckpointError(
        `${s.names[k]}: expected ${s.lead} leading dimensions of size 1, got ${shapeStr(t.shape, ', ')}`,
      );
    }
    return t.shape.slice(s.lead);
  });
  if (parts.length === 1) return { shape: shapes[0], data: parts[0].data };
  if (shapes.some((sh) => shapeStr(sh) !== shapeStr(shapes[0]))) {
    throw new CheckpointError(
      `${s.canonical}: ${s.names.map((n, k) => `${n} ${shapeStr(shapes[k], ', ')}`).join(', ')} must have one shape to be stacked`,
    );
  }
  const data = new Float32Array(parts.length * parts[0].data.length);
  parts.forEach((t, k) => data.set(t.data, k * t.data.length));
  return { shape: [parts.length * shapes[0][0], ...shapes[0].slice(1)], data };
}

/**
 * Canonical tensors -> checkpoint tensors in one convention (HF: ViTForImageClassification
 * names, with "vit."), in checkpoint order. Data is shared with the input, not copied, except for
 * timm's register models, whose class token takes in its position row.
 */
export function fromCanonical(
  given: ReadonlyMap<string, HostTensor>,
  naming: Naming,
  kind: 'weights' | 'gradients' = 'weights',
): Map<string, HostTensor> {
  const canonical = POS_WITHOUT_CLASS_ROW(naming, given.has('registers')) ? foldClassPosition(given, kind) : given;
  const slots = layout(naming, countBlocks([...canonical.keys()], /^blocks\.(\d+)\./));
  const known = new Set(slots.map((s) => s.canonical));
  const unknown = [...canonical.keys()].filter((n) => !known.has(n));
  if (unknown.length) throw new CheckpointError(`not canonical ViT tensor names: ${listNames(unknown)}`);

  const out = new Map<string, HostTensor>();
  for (const s of slots) {
    const t = canonical.get(s.canonical);
    if (!t) continue;
    const k = s.names.length;
    const [rows, ...rest] = t.shape;
    if (t.shape.length === 0 || rows % k !== 0) {
      throw new CheckpointError(`${s.canonical}: ${shapeStr(t.shape, ', ')} does not split into ${k} along dim 0`);
    }
    const size = t.data.length / k;
    s.names.forEach((name, j) => {
      out.set(name, {
        shape: [...Array(s.lead).fill(1), rows / k, ...rest],
        data: t.data.subarray(j * size, (j + 1) * size),
      });
    });
  }
  return out;
}

// cls + pos[0] as the class token, pos[1:] as the position embedding: [1 + G², D] -> [G², D]. Gradients: the
// class token's is cls's (the loss sees cls + pos[0], so d/dcls = d/dpos[0], counted once), pos[0]'s dropped.
function foldClassPosition(
  canonical: ReadonlyMap<string, HostTensor>,
  kind: 'weights' | 'gradients',
): Map<string, HostTensor> {
  const out = new Map(canonical);
  const cls = canonical.get('cls');
  const pos = canonical.get('pos');
  if (!cls || !pos) return out;
  const D = cls.data.length;
  if (kind === 'weights') out.set('cls', { shape: cls.shape, data: cls.data.map((v, d) => v + pos.data[d]) });
  out.set('pos', { shape: [pos.shape[0] - 1, ...pos.shape.slice(1)], data: pos.data.subarray(D) });
  return out;
}
