// The engine side of the command line: bytes in, bytes out, so the same code runs on a Node GPU or
// inside a headless Chromium page (see engine-host.ts).
import { loadModelFile, type ModelFile } from '../checkpoint/model-file.ts';
import { fromCanonical } from '../checkpoint/convert.ts';
import { writeSafetensors } from '../checkpoint/safetensors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { shapeStr } from '../gpu/tensor.ts';
import { vitDims } from '../nn/vit-arch.ts';
import { engineApi, loadOptions, normalizationOf, type ModelArgs } from '../train/engine-api.ts';
import { checkImages, stepGradients } from '../train/model-runner.ts';
import { EvalSession } from '../train/session.ts';
import { readNpy, writeNpy } from './npy.ts';

export interface InferArgs extends ModelArgs {
  input: Uint8Array;
}

export interface GradArgs extends ModelArgs {
  teacher?: Uint8Array;
  input: Uint8Array;
  labels: Uint8Array;
  /** One character per block, 1 = cross-attention. */
  mask: string;
}

export interface GradResult {
  loss: number;
  correct: number;
  /** safetensors with the student's tensor names and shapes; the loss in its metadata. */
  file: Uint8Array;
}

function floatImages(bytes: Uint8Array): { data: Float32Array; shape: number[] } {
  const x = readNpy(bytes, '--input');
  if (x.dtype !== 'f4')
    throw new Error(
      `--input must be float32, got ${x.dtype === 'f8' ? 'float64' : x.dtype === 'i4' ? 'int32' : 'int64'}`,
    );
  return { data: x.data, shape: x.shape };
}

/**
 * The student alone (self-attention everywhere) on float images [n, 3, S, S], `batch` at a time: its
 * logits [n, C], or the class token's attention maps [n, depth, heads, N].
 */
async function predict(
  gpu: Gpu,
  model: ModelFile,
  x: { data: Float32Array; shape: number[] },
  output: 'logits' | 'attention',
  batch = 32,
): Promise<Float32Array> {
  const c = model.config;
  const n = checkImages(c, x.shape, 'the input');
  const { N, H } = vitDims(c);
  const per = output === 'logits' ? c.numClasses : c.depth * H * N; // one image's outputs
  const B = Math.max(1, Math.min(batch, n));
  const session = new EvalSession(gpu, model, B, normalizationOf(model));
  const pixels = 3 * c.imageSize * c.imageSize;
  const out = new Float32Array(n * per);
  for (let start = 0; start < n; start += B) {
    const count = Math.min(B, n - start);
    const images = x.data.subarray(start * pixels, (start + count) * pixels);
    out.set(
      output === 'logits' ? await session.logits(images, count) : (await session.attention(images, count)).maps,
      start * per,
    );
  }
  return out;
}

/** x [N, 3, H, W] float32 → logits [N, C] float32 as .npy bytes. */
export async function inferCommand(gpu: Gpu, a: InferArgs): Promise<Uint8Array> {
  const model = loadModelFile(a.model, loadOptions(a));
  const x = floatImages(a.input);
  return writeNpy(await predict(gpu, model, x, 'logits'), [x.shape[0], model.config.numClasses]);
}

/** x [N, 3, H, W] float32 → the class token's attention [N, depth, heads, tokens] float32 as .npy bytes. */
export async function attentionCommand(gpu: Gpu, a: InferArgs): Promise<Uint8Array> {
  const model = loadModelFile(a.model, loadOptions(a));
  const x = floatImages(a.input);
  const { N, H } = vitDims(model.config);
  return writeNpy(await predict(gpu, model, x, 'attention'), [x.shape[0], model.config.depth, H, N]);
}

export async function gradCommand(gpu: Gpu, a: GradArgs): Promise<GradResult> {
  const options = loadOptions(a);
  const student = loadModelFile(a.model, options);
  const teacher = a.teacher ? loadModelFile(a.teacher, options) : undefined;
  if (!/^[01]+$/.test(a.mask)) throw new Error(`--ca-mask must be a string of 0 and 1, got '${a.mask}'`);
  const mask = [...a.mask].map((ch) => ch === '1');
  const x = floatImages(a.input);
  const y = readNpy(a.labels, '--labels');
  if (y.dtype !== 'i4' && y.dtype !== 'i8')
    throw new Error(`--labels must be int32 or int64, got ${y.dtype === 'f4' ? 'float32' : 'float64'}`);
  if (y.shape.length !== 1) throw new Error(`--labels must be one-dimensional [N], got ${shapeStr(y.shape, ', ')}`);
  const labels = Uint32Array.from(y.dtype === 'i4' ? y.data : Array.from(y.data, Number), (v) =>
    v < 0 ? 0xffffffff : v,
  );
  const r = await stepGradients(gpu, student, teacher, x.data, x.shape, labels, mask);
  const file = writeSafetensors(fromCanonical(r.grads, student.naming, 'gradients'), {
    metadata: { loss: String(r.loss), correct: String(r.correct), ca_mask: a.mask },
  });
  return { loss: r.loss, correct: r.correct, file };
}

/**
 * Everything a host offers the command line, on one device: the run engine (src/train/engine-api.ts)
 * and `infer`, `attention` and `grad`, plain functions of bytes and typed arrays, so the Chromium host
 * can call them through page.evaluate.
 */
export function hostApi(gpu: Gpu) {
  return {
    ...engineApi(gpu),
    infer: (a: InferArgs) => inferCommand(gpu, a),
    attention: (a: InferArgs) => attentionCommand(gpu, a),
    grad: (a: GradArgs) => gradCommand(gpu, a),
    /** The adapter and the kernel layout the engine runs with (`stochca info`). */
    info: () => ({ adapter: gpu.adapter, layout: gpu.layout.name }),
  };
}

export type HostApi = ReturnType<typeof hostApi>;
