// The StochCA training step written with TensorFlow.js, for the training benchmark:
// the same ViT as src/nn (torchvision layout, docs/method.md) with TF.js ops, gradients by
// tf.variableGrads, tf.train.adam with AdamW's decoupled weight decay applied by hand
// before each update (p ← p − lr·wd·p, as torch.optim.AdamW and our adamw kernel do).
// The frozen teacher runs without gradients up to the deepest cross-attending block and
// hands those blocks' K/V to the student, as src/nn/stochca-step.ts does. A linear probe takes
// the gradients of the head's variables alone and updates only them.
// tfjs-core alone registers no gradient functions: the host registers them first
// (train-page.ts, node-suites.ts).
// TF.js's declarations reference an older copy of @webgpu/types; see tfjs-device.ts.
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import { vitDims, type VitArch, type VitDims } from '../nn/vit-arch.ts';
import { vitParamSpecs } from '../nn/vit-params.ts';
import type { HostWeights } from './train-data.ts';

export interface AdamWSettings {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** One block's K and V heads [B·H, N, hd]. */
interface KV {
  k: tf.Tensor3D;
  v: tf.Tensor3D;
}

type Weight = (name: string) => tf.Tensor;

/** x [rows, in] · w[out, in]ᵀ + b → [rows, out]. */
function linear(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: w as tf.Tensor2D, transposeB: true, bias: b }) as tf.Tensor2D;
}

export class TfVit {
  private readonly vars: Record<string, tf.Variable>;
  private readonly teacher: Record<string, tf.Tensor>;
  private readonly images: tf.Tensor4D;
  private readonly targets: tf.Tensor2D;
  private readonly consts: Record<'scale' | 'half' | 'invSqrt2' | 'one' | 'eps' | 'decay', tf.Scalar>;
  private readonly d: VitDims;
  private optimizer: tf.AdamOptimizer | null = null;
  /** The variables a step trains: all, or the head's. */
  private trained: tf.Variable[] = [];

  /**
   * `student` and `teacher` hold the engine's parameter names and shapes; the student's become
   * variables named `${prefix}/${name}` (TF.js's variable names are global).
   */
  constructor(
    private readonly c: VitArch,
    private readonly batch: number,
    prefix: string,
    student: HostWeights,
    teacher: HostWeights,
    images: Float32Array,
    labels: Uint32Array,
    private readonly opt: AdamWSettings,
  ) {
    this.d = vitDims(c);
    const shapes = Object.fromEntries(vitParamSpecs(c).map((p) => [p.name, p.shape]));
    this.vars = Object.fromEntries(
      Object.entries(student).map(([k, w]) => [
        k,
        tf.tidy(() => tf.variable(tf.tensor(w, shapes[k]), true, `${prefix}/${k}`)),
      ]),
    );
    this.teacher = Object.fromEntries(Object.entries(teacher).map(([k, w]) => [k, tf.tensor(w, shapes[k])]));
    const S = c.imageSize;
    this.images = tf.tensor4d(images, [batch, 3, S, S]);
    this.targets = tf.tidy(
      () => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), c.numClasses), 'float32') as tf.Tensor2D,
    );
    this.consts = {
      scale: tf.scalar(1 / Math.sqrt(this.d.hd)),
      half: tf.scalar(0.5),
      invSqrt2: tf.scalar(Math.SQRT1_2),
      one: tf.scalar(1),
      eps: tf.scalar(c.layerNormEps),
      decay: tf.scalar(1 - opt.lr * opt.weightDecay),
    };
  }

  /** Student weights back to `student`, optimizer state cleared (a fresh run); `headOnly`: a linear probe. */
  reset(student: HostWeights, headOnly = false): void {
    this.trained = Object.entries(this.vars)
      .filter(([name]) => !headOnly || name.startsWith('head.'))
      .map(([, v]) => v);
    tf.tidy(() => {
      for (const [k, w] of Object.entries(student)) this.vars[k].assign(tf.tensor(w, this.vars[k].shape));
    });
    this.optimizer?.dispose();
    const { lr, beta1, beta2, eps } = this.opt;
    this.optimizer = tf.train.adam(lr, beta1, beta2, eps);
  }

  /** One training step with this mask; returns the loss before the update (the caller disposes it). */
  step(mask: readonly boolean[]): tf.Scalar {
    const optimizer = this.optimizer;
    if (!optimizer) throw new Error('TfVit.reset() must run before the first step');
    const kv = this.teacherKV(mask);
    const varList = this.trained;
    const { value, grads } = tf.variableGrads(() => this.loss(mask, kv), varList);
    tf.tidy(() => {
      for (const v of varList) v.assign(tf.mul(v, this.consts.decay));
    });
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(grads);
    tf.dispose(kv.flatMap((x) => (x ? [x.k, x.v] : [])));
    return value;
  }

  dispose(): void {
    this.optimizer?.dispose();
    tf.dispose([
      ...Object.values(this.vars),
      ...Object.values(this.teacher),
      this.images,
      this.targets,
      ...Object.values(this.consts),
    ]);
  }

  /** The frozen teacher up to the deepest cross-attending block: kv[i] for every i with mask[i]. */
  private teacherKV(mask: readonly boolean[]): (KV | undefined)[] {
    const kv: (KV | undefined)[] = [];
    const deepest = mask.lastIndexOf(true);
    if (deepest < 0) return kv;
    tf.tidy(() => {
      const w: Weight = (k) => this.teacher[k];
      let h = this.embed(w);
      for (let i = 0; i <= deepest; i++) {
        const keep = mask[i]
          ? ({ k, v }: KV) => {
              kv[i] = { k: tf.keep(k), v: tf.keep(v) };
            }
          : undefined;
        h = this.block(w, i, h, undefined, keep);
      }
    });
    return kv;
  }

  /** Mean softmax cross-entropy of the student, block i attending to kv[i] where mask[i]. */
  private loss(mask: readonly boolean[], kv: (KV | undefined)[]): tf.Scalar {
    const w: Weight = (k) => this.vars[k];
    const { N, D } = this.d;
    const B = this.batch;
    let h = this.embed(w);
    for (let i = 0; i < this.c.depth; i++) h = this.block(w, i, h, mask[i] ? kv[i] : undefined);
    // LayerNorm is per token: normalising the class token alone equals LN-then-take-token-0.
    const cls = tf.reshape(tf.slice(tf.reshape(h, [B, N, D]), [0, 0, 0], [B, 1, D]), [B, D]) as tf.Tensor2D;
    const logits = linear(this.layerNorm(cls, w('norm.weight'), w('norm.bias')), w('head.weight'), w('head.bias'));
    return tf.neg(tf.mean(tf.sum(tf.mul(this.targets, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  }

  /** Images → h0 [B·N, D]: patches (reshape and transpose), their Linear, class token first, position embedding. */
  private embed(w: Weight): tf.Tensor2D {
    const { P, N, D, K } = this.d;
    const B = this.batch;
    const p = this.c.patchSize;
    const g = this.c.imageSize / p;
    const patches = tf.reshape(tf.transpose(tf.reshape(this.images, [B, 3, g, p, g, p]), [0, 2, 4, 1, 3, 5]), [
      B * P,
      K,
    ]) as tf.Tensor2D;
    const tokens = tf.reshape(linear(patches, tf.reshape(w('patch.weight'), [D, K]), w('patch.bias')), [B, P, D]);
    const cls = tf.tile(tf.reshape(w('cls'), [1, 1, D]), [B, 1, 1]);
    const h = tf.add(tf.concat([cls, tokens], 1), tf.reshape(w('pos'), [1, N, D]));
    return tf.reshape(h, [B * N, D]);
  }

  /**
   * One pre-norm block on h [B·N, D]. Attends to `cross` (the teacher's K/V) when given,
   * else to its own; `own` receives its own K/V (the teacher keeps them).
   */
  private block(w: Weight, i: number, h: tf.Tensor2D, cross?: KV, own?: (kv: KV) => void): tf.Tensor2D {
    const { N, D, H, hd } = this.d;
    const B = this.batch;
    const b = (k: string) => w(`blocks.${i}.${k}`);
    const qkv = linear(this.layerNorm(h, b('ln1.weight'), b('ln1.bias')), b('qkv.weight'), b('qkv.bias'));
    // [B·N, 3D] → [3, B·H, N, hd]: q, k, v with their heads split.
    const heads = tf.reshape(tf.transpose(tf.reshape(qkv, [B, N, 3, H, hd]), [2, 0, 3, 1, 4]), [3 * B * H, N, hd]);
    const [q, k, v] = tf.split(heads, 3, 0) as tf.Tensor3D[];
    own?.({ k, v });
    const scores = tf.matMul(tf.mul(q, this.consts.scale), cross?.k ?? k, false, true);
    const o = tf.matMul(tf.softmax(scores), cross?.v ?? v);
    const merged = tf.reshape(tf.transpose(tf.reshape(o, [B, H, N, hd]), [0, 2, 1, 3]), [B * N, D]) as tf.Tensor2D;
    const h1 = tf.add(h, linear(merged, b('proj.weight'), b('proj.bias'))) as tf.Tensor2D;
    const u = linear(this.layerNorm(h1, b('ln2.weight'), b('ln2.bias')), b('fc1.weight'), b('fc1.bias'));
    const { half, invSqrt2, one } = this.consts;
    const gelu = tf.mul(tf.mul(u, half), tf.add(one, tf.erf(tf.mul(u, invSqrt2)))); // exact GELU
    return tf.add(h1, linear(gelu as tf.Tensor2D, b('fc2.weight'), b('fc2.bias'))) as tf.Tensor2D;
  }

  /** LayerNorm over the last axis of x [rows, D]. */
  private layerNorm(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(
      tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.consts.eps))), weight),
      bias,
    ) as tf.Tensor2D;
  }
}
