// Exports a ViT as an ONNX model (IR 8, opset 17) computing exactly the engine's forward pass
// (src/nn/vit-forward.ts, docs/method.md "The backbone"), CLIP's and DINOv2's optional features included:
// input "pixels" [batch, 3, S, S] float32, output "logits" [batch, C]. Runs in the browser and in Node
// alike: it returns bytes.
//
// The residual stream is kept as the [B·N, D] matrix the engine multiplies, so every Linear layer
// is one Gemm with transB = 1 on the weight as stored ([out, in], PyTorch's layout): the file holds
// the canonical tensors under their canonical names, unchanged. Only attention reshapes to heads.
import { numel, shapeStr } from '../gpu/tensor.ts';
import { vitDims, checkVitArch, type VitArch } from '../nn/vit-arch.ts';
import { vitParamSpecs } from '../nn/vit-params.ts';
import { ProtoWriter } from './protobuf.ts';
import { CheckpointError } from './safetensors.ts';

// Field numbers and enums of onnx/onnx.proto.
const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 };
const OPSET_ID = { domain: 1, version: 2 };
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 };
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 };
const ATTR = { name: 1, f: 2, i: 3, ints: 8, type: 20 };
const ATTR_TYPE = { FLOAT: 1, INT: 2, INTS: 7 };
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 };
const DATA_TYPE = { FLOAT: 1, INT64: 7 };
const VALUE_INFO = { name: 1, type: 2 };
const TYPE = { tensorType: 1 };
const TYPE_TENSOR = { elemType: 1, shape: 2 };
const SHAPE = { dim: 1 };
const DIM = { value: 1, param: 2 };

const IR_VERSION = 8;
const OPSET = 17; // the first with LayerNormalization

export interface OnnxExportOptions {
  /** ModelProto.producer_name. */
  producer?: string;
}

type Attr = { i: number } | { f: number } | { ints: readonly number[] };

function attribute(name: string, a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(ATTR.name, name);
  if ('i' in a) return w.int(ATTR.type, ATTR_TYPE.INT).int(ATTR.i, a.i);
  if ('f' in a) return w.int(ATTR.type, ATTR_TYPE.FLOAT).float(ATTR.f, a.f);
  return w.int(ATTR.type, ATTR_TYPE.INTS).packedInts(ATTR.ints, a.ints);
}

/** Little-endian bytes, as raw_data requires whatever the host's byte order. */
function rawFloat32(data: ArrayLike<number>): Uint8Array {
  const b = new Uint8Array(4 * data.length);
  const view = new DataView(b.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  return b;
}

function rawInt64(data: readonly number[]): Uint8Array {
  const b = new Uint8Array(8 * data.length);
  const view = new DataView(b.buffer);
  data.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return b;
}

function tensor(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): ProtoWriter {
  return new ProtoWriter()
    .packedInts(TENSOR.dims, dims)
    .int(TENSOR.dataType, dataType)
    .string(TENSOR.name, name)
    .bytes(TENSOR.rawData, raw);
}

/** A float tensor graph input/output; a string dim is symbolic. */
function valueInfo(name: string, dims: readonly (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    shape.message(
      SHAPE.dim,
      typeof d === 'string' ? new ProtoWriter().string(DIM.param, d) : new ProtoWriter().int(DIM.value, d),
    );
  }
  const tensorType = new ProtoWriter().int(TYPE_TENSOR.elemType, DATA_TYPE.FLOAT).message(TYPE_TENSOR.shape, shape);
  return new ProtoWriter()
    .string(VALUE_INFO.name, name)
    .message(VALUE_INFO.type, new ProtoWriter().message(TYPE.tensorType, tensorType));
}

/** Nodes and initializers in the order they are added, so the same model gives the same bytes. */
class Graph {
  readonly nodes: ProtoWriter[] = [];
  readonly initializers: ProtoWriter[] = [];
  private constants = new Set<string>();

  /** A node named after its first output. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, Attr> = {}): void {
    const w = new ProtoWriter();
    for (const i of inputs) w.string(NODE.input, i);
    for (const o of outputs) w.string(NODE.output, o);
    w.string(NODE.name, outputs[0]).string(NODE.opType, opType);
    for (const [name, a] of Object.entries(attrs)) w.message(NODE.attribute, attribute(name, a));
    this.nodes.push(w);
  }

  /** A one-output node; returns the output's name. */
  op(opType: string, inputs: readonly string[], output: string, attrs?: Record<string, Attr>): string {
    this.node(opType, inputs, [output], attrs);
    return output;
  }

  weight(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push(tensor(name, dims, DATA_TYPE.FLOAT, rawFloat32(data)));
    return name;
  }

  /** A float scalar constant, stored once. */
  scalar(value: number): string {
    const name = `const/${value}`;
    if (!this.constants.has(name)) this.initializers.push(tensor(name, [], DATA_TYPE.FLOAT, rawFloat32([value])));
    this.constants.add(name);
    return name;
  }

  /** An int64 constant (shapes, indices), stored once; dims [] makes a scalar. */
  ints(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = `const/[${dims}]:${values.join(',')}`;
    if (!this.constants.has(name)) this.initializers.push(tensor(name, dims, DATA_TYPE.INT64, rawInt64(values)));
    this.constants.add(name);
    return name;
  }
}

/** Every canonical tensor present with its element count, and nothing else. */
function checkWeights(config: VitArch, weights: Record<string, Float32Array>): void {
  const specs = vitParamSpecs(config);
  for (const { name, shape } of specs) {
    const w = weights[name];
    if (!w) throw new CheckpointError(`ONNX export: missing tensor ${name} ${shapeStr(shape, ', ')}`);
    if (w.length !== numel(shape)) {
      throw new CheckpointError(
        `ONNX export: ${name} has ${w.length} values, expected ${shapeStr(shape, ', ')} = ${numel(shape)}`,
      );
    }
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(weights)) {
    if (!known.has(name))
      throw new CheckpointError(`ONNX export: ${name} is not a parameter of this ViT (depth ${config.depth})`);
  }
}

/** One pre-norm block on x: [B·N, D]; returns its output [B·N, D]. */
function block(g: Graph, c: VitArch, i: number, x: string): string {
  const { N, D, H, hd } = vitDims(c);
  const p = `blocks.${i}`;
  const eps = { f: c.layerNormEps };
  const linear = (input: string, layer: string, out: string): string =>
    g.op('Gemm', [input, `${p}.${layer}.weight`, `${p}.${layer}.bias`], out, { transB: { i: 1 } });
  // rows [B·N, D] → heads [B, H, N, hd], or [B, H, hd, N] for keys.
  const heads = (t: string, perm: number[]): string =>
    g.op('Transpose', [g.op('Reshape', [t, g.ints([-1, N, H, hd])], `${t}/split`)], `${t}/heads`, {
      perm: { ints: perm },
    });

  const a = g.op('LayerNormalization', [x, `${p}.ln1.weight`, `${p}.ln1.bias`], `${p}/ln1`, {
    axis: { i: -1 },
    epsilon: eps,
  });
  const qkv = linear(a, 'qkv', `${p}/qkv`); // [B·N, 3D], q, k, v in that order
  const [q, k, v] = [`${p}/q`, `${p}/k`, `${p}/v`];
  g.node('Split', [qkv], [q, k, v], { axis: { i: 1 } }); // 3 × [B·N, D]
  const qh = heads(q, [0, 2, 1, 3]); // [B, H, N, hd]
  const kt = heads(k, [0, 2, 3, 1]); // [B, H, hd, N]
  const vh = heads(v, [0, 2, 1, 3]); // [B, H, N, hd]
  const scores = g.op(
    'Mul',
    [g.op('MatMul', [qh, kt], `${p}/qk`), g.scalar(Math.fround(1 / Math.sqrt(hd)))],
    `${p}/scores`,
  ); // [B, H, N, N]
  const probs = g.op('Softmax', [scores], `${p}/probs`, { axis: { i: -1 } });
  const o = g.op('MatMul', [probs, vh], `${p}/attn`); // [B, H, N, hd]
  const oTokens = g.op('Transpose', [o], `${p}/attn/tokens`, { perm: { ints: [0, 2, 1, 3] } }); // [B, N, H, hd]
  const oRows = g.op('Reshape', [oTokens, g.ints([-1, D])], `${p}/attn/rows`); // [B·N, D]
  // x + branch, or x + γ ⊙ branch with LayerScale (γ [D] broadcasts over the rows).
  const residual = (x: string, branch: string, ls: string, out: string): string =>
    g.op('Add', [x, c.layerScale ? g.op('Mul', [branch, `${p}.${ls}`], `${out}/scaled`) : branch], out);
  const h1 = residual(x, linear(oRows, 'proj', `${p}/proj`), 'ls1', `${p}/h1`);

  const a2 = g.op('LayerNormalization', [h1, `${p}.ln2.weight`, `${p}.ln2.bias`], `${p}/ln2`, {
    axis: { i: -1 },
    epsilon: eps,
  });
  const u = linear(a2, 'fc1', `${p}/fc1`); // [B·N, M]
  return residual(h1, linear(activation(g, c, u, `${p}/gelu`), 'fc2', `${p}/fc2`), 'ls2', `${p}/out`);
}

/** The MLP's activation of u, as the engine computes it. */
function activation(g: Graph, c: VitArch, u: string, out: string): string {
  if (c.activation === 'quick-gelu') {
    // QuickGELU, u·σ(1.702u).
    return g.op('Mul', [u, g.op('Sigmoid', [g.op('Mul', [u, g.scalar(1.702)], `${out}/scaled`)], `${out}/gate`)], out);
  }
  // Exact GELU, u·0.5·(1 + erf(u/√2)) (no tanh approximation).
  const erf = g.op('Erf', [g.op('Div', [u, g.scalar(Math.SQRT2)], `${out}/scaled`)], `${out}/erf`);
  const gate = g.op('Add', [erf, g.scalar(1)], `${out}/gate`);
  return g.op('Mul', [g.op('Mul', [u, g.scalar(0.5)], `${out}/half`), gate], out);
}

/** The ONNX graph of the ViT: pixels [batch, 3, S, S] → logits [batch, C]. */
function vitGraph(c: VitArch, weights: Record<string, Float32Array>): Graph {
  const { P, R, N, D } = vitDims(c);
  const g = new Graph();
  for (const { name, shape } of vitParamSpecs(c)) {
    // The class token, registers and position embedding get the leading 1 that broadcasts over the batch.
    const dims = name === 'cls' ? [1, 1, D] : name === 'pos' || name === 'registers' ? [1, ...shape] : shape;
    g.weight(name, dims, weights[name]);
  }
  const p = c.patchSize;
  const convInputs = ['pixels', 'patch.weight', ...(c.patchBias === false ? [] : ['patch.bias'])];
  const conv = g.op('Conv', convInputs, 'patch/conv', {
    kernel_shape: { ints: [p, p] },
    strides: { ints: [p, p] },
  }); // [B, D, S/p, S/p]
  const grid = g.op('Reshape', [conv, g.ints([0, D, P])], 'patch/flat'); // [B, D, P]
  const tokens = g.op('Transpose', [grid], 'patch/tokens', { perm: { ints: [0, 2, 1] } }); // [B, P, D], patches row-major
  const batch = g.op('Shape', [tokens], 'batch', { start: { i: 0 }, end: { i: 1 } }); // [1] = (B)
  const clsShape = g.op('Concat', [batch, g.ints([1, 1])], 'cls/shape', { axis: { i: 0 } }); // [3] = (B, 1, 1)
  const cls = g.op('Expand', ['cls', clsShape], 'cls/batch'); // [B, 1, D]
  let h0 = g.op('Add', [g.op('Concat', [cls, tokens], 'embed/tokens', { axis: { i: 1 } }), 'pos'], 'embed'); // [B, 1 + P, D]
  if (R > 0) {
    // The registers go between the class token and the patches, after the position embedding.
    const regs = g.op('Expand', ['registers', clsShape], 'registers/batch'); // [B, R, D]
    const slice = (from: number, to: number, out: string) =>
      g.op('Slice', [h0, g.ints([from]), g.ints([to]), g.ints([1])], out);
    const parts = [slice(0, 1, 'embed/cls'), regs, slice(1, 1 + P, 'embed/patches')];
    h0 = g.op('Concat', parts, 'embed/registers', { axis: { i: 1 } }); // [B, N, D]
  }
  let x = g.op('Reshape', [h0, g.ints([-1, D])], 'embed/rows'); // [B·N, D]
  if (c.preNorm) {
    x = g.op('LayerNormalization', [x, 'preNorm.weight', 'preNorm.bias'], 'preNorm', {
      axis: { i: -1 },
      epsilon: { f: c.layerNormEps },
    });
  }
  for (let i = 0; i < c.depth; i++) x = block(g, c, i, x);
  // LayerNorm is per token: normalising all of them and taking token 0 is torchvision's order.
  const ln = g.op('LayerNormalization', [x, 'norm.weight', 'norm.bias'], 'norm', {
    axis: { i: -1 },
    epsilon: { f: c.layerNormEps },
  });
  const seq = g.op('Reshape', [ln, g.ints([-1, N, D])], 'norm/tokens'); // [B, N, D]
  const first = g.op('Gather', [seq, g.ints([0], [])], 'norm/cls', { axis: { i: 1 } }); // [B, D]
  g.op('Gemm', [first, 'head.weight', 'head.bias'], 'logits', { transB: { i: 1 } }); // [B, C]
  return g;
}

/**
 * The ViT with these weights (canonical names and shapes, src/nn/vit-params.ts) as an ONNX
 * ModelProto: "pixels" float32 [batch, 3, S, S] → "logits" [batch, C]. Throws a CheckpointError
 * naming the tensor when one is missing, has the wrong size or does not belong to the config.
 */
export function exportOnnx(
  config: VitArch,
  weights: Record<string, Float32Array>,
  options: OnnxExportOptions = {},
): Uint8Array {
  checkVitArch(config);
  checkWeights(config, weights);
  const g = vitGraph(config, weights);
  const S = config.imageSize;
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(GRAPH.node, n);
  graph.string(GRAPH.name, 'vit');
  for (const t of g.initializers) graph.message(GRAPH.initializer, t);
  graph.message(GRAPH.input, valueInfo('pixels', ['batch', 3, S, S]));
  graph.message(GRAPH.output, valueInfo('logits', ['batch', config.numClasses]));
  return new ProtoWriter()
    .int(MODEL.irVersion, IR_VERSION)
    .string(MODEL.producerName, options.producer ?? 'stochca-playground')
    .message(MODEL.graph, graph)
    .message(MODEL.opsetImport, new ProtoWriter().string(OPSET_ID.domain, '').int(OPSET_ID.version, OPSET))
    .finish();
}
