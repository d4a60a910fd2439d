// The WebGPU runtime: one device, its pipelines, and a command stream that
// encodes many dispatches into one submit. Knows nothing about neural networks.
//
// Binding convention for every kernel: @group(0) @binding(0) is the uniform
// struct when the kernel has uniforms, then one storage binding per tensor in
// the order given.

import { DeviceLostError, GpuError } from './errors.ts';
import { chooseLayout, type KernelLayout, type LayoutName } from './layout.ts';
import type { AnyKernel, Kernel, UniformFields, UniformValues } from './kernel.ts';
import { kernelMismatch, parseWgsl } from './kernel-check.ts';
import { resolveIncludes, type ShaderSource } from './shader-source.ts';
import { byteSize, hostArray, shapeStr, numel, type DType, type HostArray, type Tensor } from './tensor.ts';
import { Timer } from './timer.ts';

export type Dispatch<U extends UniformFields, V extends string> = {
  /** Names the op and its shapes in errors and timings, e.g. "matmul A[8x3] B[3x4]". */
  op: string;
  kernel: Kernel<U, V>;
  /** Every field of the kernel's uniform struct, by name. */
  uniforms: NoInfer<UniformValues<U>>;
  tensors: readonly Tensor[];
  workgroups: readonly [number, number?, number?];
} & ([V] extends [never] ? { constants?: undefined } : { constants: NoInfer<Readonly<Record<V, number>>> });

/** A kernel as this device runs it: its layout's constants and a pipeline per variant. */
interface BoundKernel {
  constants: Record<string, number>;
  pipelines: Map<string, Pipeline>;
}

interface Pipeline {
  pipeline: GPUComputePipeline;
  /** Names it in WebGPU's messages: `shader:entry`, and the variant's constants. */
  label: string;
  /** Tells its bind groups apart (each pipeline of layout 'auto' has its own bind group layout). */
  id: number;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A fallback adapter: WebGPU on the CPU or some other slow path. */
  fallback: boolean;
  features: string[];
  limits: Record<(typeof WANTED_LIMITS)[number], number>;
}

/** Limits the engine raises to the adapter's maximum when it creates the device. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

const UNIFORM_SLOTS = 4096;

export class Gpu {
  private readonly sources = new Map<string, string>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly kernels = new Map<AnyKernel, BoundKernel>();
  private pipelineCount = 0;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Each dispatch of the open batch: its op and its pipeline's label, to name the culprit of an error. */
  private batchOps: { op: string; pipeline: string }[] = [];
  private readonly uniformBytes: Uint8Array<ArrayBuffer>;
  private readonly uniformView: DataView;
  private readonly uniformBuffer: GPUBuffer;
  private readonly slotSize: number;
  private uniformSlots = 0;

  /** Errors found after the fact (async scopes, uncaptured, lost); thrown at the next flush. */
  private readonly pending: Promise<void>[] = [];
  private deferred: Error | null = null;
  private lostError: DeviceLostError | null = null;

  /** True once the device is lost: a new Gpu is needed. */
  get lost(): boolean {
    return this.lostError !== null;
  }
  private timer: Timer | null = null;

  readonly adapter: AdapterSummary;
  /** 16-byte stand-ins for optional bindings a kernel variant does not touch. */
  private dummies: Tensor[] = [];

  private constructor(
    readonly device: GPUDevice,
    adapterInfo: GPUAdapterInfo,
    fallback: boolean,
    /** The kernels' workgroup shapes on this device, chosen once (layout.ts). */
    readonly layout: KernelLayout,
    private readonly source: ShaderSource,
  ) {
    this.adapter = {
      vendor: adapterInfo.vendor,
      architecture: adapterInfo.architecture,
      device: adapterInfo.device,
      description: adapterInfo.description,
      fallback,
      features: [...device.features].sort(),
      limits: Object.fromEntries(WANTED_LIMITS.map((k) => [k, device.limits[k]])) as AdapterSummary['limits'],
    };
    this.slotSize = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
    this.uniformBytes = new Uint8Array(UNIFORM_SLOTS * this.slotSize);
    this.uniformView = new DataView(this.uniformBytes.buffer);
    this.uniformBuffer = device.createBuffer({
      label: 'uniforms',
      size: this.uniformBytes.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.lost.then((info) => {
      this.lostError = new DeviceLostError(info.reason ?? 'unknown', info.message || 'no details');
    });
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.deferred ??= new GpuError('validation', e.message);
    });
  }

  /** Creates the device with the limits and optional features the engine uses; `layout` forces the kernel layout. */
  static async fromAdapter(
    adapter: GPUAdapter,
    source: ShaderSource,
    options: { layout?: LayoutName } = {},
  ): Promise<Gpu> {
    const requiredLimits: Record<string, number> = {};
    for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k];
    const optional: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];
    const requiredFeatures = optional.filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'stochca' });
    // Older implementations have the flag on the adapter rather than in its info.
    const fallback =
      adapter.info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
    return new Gpu(device, adapter.info, fallback, chooseLayout(adapter.info, fallback, options.layout), source);
  }

  get hasTimestamps(): boolean {
    return this.device.features.has('timestamp-query');
  }

  // ---- memory -------------------------------------------------------------

  /** A new tensor in its own buffer. Out-of-memory is reported at the next flush. */
  tensor(shape: readonly number[], dtype: DType = 'f32', label = 'tensor'): Tensor {
    const size = Math.max(16, Math.ceil((4 * numel(shape)) / 16) * 16);
    return { buffer: this.buffer(size, `${label}${shapeStr(shape)}`), offset: 0, shape: [...shape], dtype, label };
  }

  /** A raw storage buffer; the planner carves tensors out of a few of these. */
  buffer(size: number, label: string): GPUBuffer {
    this.ensureAlive();
    const max = this.device.limits.maxBufferSize;
    if (size > max) {
      throw new GpuError(
        'out-of-memory',
        `${label}: ${size} bytes exceeds this adapter's largest buffer (${max} bytes); use a smaller batch or model`,
      );
    }
    this.device.pushErrorScope('out-of-memory');
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.pending.push(
      this.device.popErrorScope().then((e) => {
        if (e)
          throw new GpuError('out-of-memory', `out of GPU memory allocating ${label} (${size} bytes): ${e.message}`);
      }),
    );
    return buffer;
  }

  /** The i-th distinct 16-byte stand-in for a binding the kernel variant leaves unused. */
  dummy(i: number): Tensor {
    while (this.dummies.length <= i) this.dummies.push(this.tensor([4], 'f32', `unused${this.dummies.length}`));
    return this.dummies[i];
  }

  /** A new tensor holding `data`. */
  upload(data: HostArray, shape: readonly number[], label = 'tensor'): Tensor {
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Uint32Array ? 'u32' : 'i32';
    const t = this.tensor(shape, dtype, label);
    this.write(t, data);
    return t;
  }

  /** Overwrites `t` with `data`, after all work encoded so far. */
  write(t: Tensor, data: HostArray): void {
    if (data.length !== numel(t.shape)) {
      throw new GpuError('validation', `write ${t.label}${shapeStr(t.shape)}: got ${data.length} values`);
    }
    this.submit();
    this.device.queue.writeBuffer(t.buffer, t.offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Reads `t` back to the host after all work encoded so far. */
  async read(t: Tensor): Promise<HostArray> {
    return (await this.readAll([t]))[0];
  }

  /** Reads several tensors back with one copy, one submit and one mapping. */
  async readAll(ts: readonly Tensor[]): Promise<HostArray[]> {
    const offsets: number[] = [];
    let size = 0;
    for (const t of ts) {
      offsets.push(size);
      size += byteSize(t);
    }
    const staging = this.device.createBuffer({
      size: Math.max(4, size),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    ts.forEach((t, i) => this.copy(t.buffer, t.offset, staging, offsets[i], byteSize(t)));
    await this.flush();
    await this.unlessLost(staging.mapAsync(GPUMapMode.READ));
    const mapped = new Uint8Array(staging.getMappedRange());
    const out = ts.map((t, i) => {
      const host = hostArray(t.dtype, numel(t.shape));
      new Uint8Array(host.buffer).set(mapped.subarray(offsets[i], offsets[i] + byteSize(t)));
      return host;
    });
    staging.unmap();
    staging.destroy();
    return out;
  }

  async readF32(t: Tensor): Promise<Float32Array> {
    return (await this.read(t)) as Float32Array;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.endPass();
    this.encoderNow().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Sets every element of `t` to zero. */
  zero(t: Tensor): void {
    this.endPass();
    this.encoderNow().clearBuffer(t.buffer, t.offset, byteSize(t));
  }

  // ---- dispatch -----------------------------------------------------------

  dispatch<U extends UniformFields, V extends string>(d: Dispatch<U, V>): void {
    this.encoderNow(); // opens the error scopes that catch pipeline and bind group errors too
    const { pipeline, label, id } = this.pipeline(d.kernel, d.constants, d.op);
    const entries: GPUBindGroupEntry[] = [];
    const keyParts: number[] = [id];
    const size = d.kernel.uniformSize;
    if (size > 0) {
      if (this.uniformSlots === UNIFORM_SLOTS) this.submit();
      const offset = this.uniformSlots++ * this.slotSize;
      d.kernel.pack(d.uniforms, this.uniformView, offset, d.op);
      entries.push({ binding: 0, resource: { buffer: this.uniformBuffer, offset, size } });
      keyParts.push(offset);
    }
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    for (const t of d.tensors) {
      if (t.offset % align !== 0) {
        throw new GpuError('validation', `${d.op}: ${t.label} starts at byte ${t.offset}, not a multiple of ${align}`);
      }
      entries.push({ binding: entries.length, resource: { buffer: t.buffer, offset: t.offset, size: byteSize(t) } });
      keyParts.push(this.bufferId(t.buffer), t.offset, byteSize(t));
    }
    const key = keyParts.join(',');
    let bindGroup = this.bindGroups.get(key);
    if (!bindGroup) {
      if (this.bindGroups.size > 20000) this.bindGroups.clear();
      bindGroup = this.device.createBindGroup({ label: d.op, layout: pipeline.getBindGroupLayout(0), entries });
      this.bindGroups.set(key, bindGroup);
    }
    const [x, y = 1, z = 1] = d.workgroups;
    const maxWg = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new GpuError('validation', `${d.op}: ${x}x${y}x${z} workgroups exceed the limit of ${maxWg} per dimension`);
    }
    const pass = this.passNow(d.op);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.batchOps.push({ op: d.op, pipeline: label });
    if (this.timer) this.endPass();
  }

  /** Submits the work encoded so far; errors surface at the next flush(). */
  submit(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.timer) this.timer.resolve(this.encoder);
    if (this.uniformSlots > 0) {
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformBytes, 0, this.uniformSlots * this.slotSize);
    }
    this.device.queue.submit([this.encoder.finish()]);
    const ops = this.batchOps;
    const scopes = [this.device.popErrorScope(), this.device.popErrorScope(), this.device.popErrorScope()];
    this.pending.push(
      Promise.all(scopes).then(([internal, validation, oom]) => {
        const e = oom ?? validation ?? internal;
        if (!e) return;
        const kind = oom ? 'out-of-memory' : validation ? 'validation' : 'internal';
        const named = ops.find((o) => e.message.includes(o.op)) ?? ops.find((o) => e.message.includes(o.pipeline));
        const culprit = (named ?? ops.at(-1))?.op ?? 'a copy';
        throw new GpuError(kind, `${culprit}: ${e.message}`);
      }),
    );
    this.encoder = null;
    this.batchOps = [];
    this.uniformSlots = 0;
  }

  /** Submits pending work and throws the first error the device reported for it. */
  async flush(): Promise<void> {
    this.submit();
    const pending = this.pending.splice(0);
    await this.unlessLost(Promise.all(pending));
    this.ensureAlive();
  }

  /** flush() and wait until the GPU has finished everything submitted. */
  async sync(): Promise<void> {
    await this.flush();
    await this.unlessLost(this.device.queue.onSubmittedWorkDone());
    this.ensureAlive();
  }

  /**
   * Runs `fn` with every dispatch in its own timed compute pass and returns GPU
   * nanoseconds per op name (the first word of Dispatch.op). Needs timestamp-query.
   */
  async timed(fn: () => void | Promise<void>): Promise<Map<string, number>> {
    if (!this.hasTimestamps) throw new GpuError('validation', 'this adapter has no timestamp-query');
    this.submit();
    this.timer = new Timer(this.device);
    try {
      await fn();
      this.submit();
      return await this.timer.results();
    } finally {
      this.timer.destroy();
      this.timer = null;
    }
  }

  destroy(): void {
    this.device.destroy();
  }

  // ---- internals ----------------------------------------------------------

  /** `work`, whose failure is reported as the device's loss when the device is lost: a failed
   *  mapping or error scope often comes before `device.lost` settles, so that is awaited briefly. */
  private async unlessLost<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (e) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.device.lost, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
      throw this.lostError ?? e;
    }
  }

  private ensureAlive(): void {
    if (this.lostError) throw this.lostError;
    if (this.deferred) {
      const e = this.deferred;
      this.deferred = null;
      throw e;
    }
  }

  private encoderNow(): GPUCommandEncoder {
    if (!this.encoder) {
      this.ensureAlive();
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.device.pushErrorScope('internal');
      this.encoder = this.device.createCommandEncoder();
    }
    return this.encoder;
  }

  private passNow(op: string): GPUComputePassEncoder {
    if (!this.pass) {
      if (this.timer?.full) this.submit();
      const encoder = this.encoderNow();
      const timestampWrites = this.timer?.next(op.split(' ')[0]);
      this.pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    }
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private bufferId(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) this.bufferIds.set(b, (id = this.nextBufferId++));
    return id;
  }

  /** The pipeline of `k`'s variant `variant`; the first use of `k` checks it against its WGSL. */
  private pipeline(k: AnyKernel, variant: Readonly<Record<string, number>> | undefined, op: string): Pipeline {
    let bound = this.kernels.get(k);
    if (!bound) {
      const problem = kernelMismatch(k, parseWgsl(this.wgsl(k.shader)), this.layout);
      if (problem) throw new GpuError('validation', `${op}: ${problem}`);
      bound = { constants: k.constants(this.layout), pipelines: new Map() };
      this.kernels.set(k, bound);
    }
    let key = '';
    for (const name of k.variants) {
      const v = variant?.[name];
      if (v === undefined) throw new GpuError('validation', `${op}: ${k.name} needs the constant ${name}`);
      key += `${name}=${v} `;
    }
    let p = bound.pipelines.get(key);
    if (!p) {
      const label = `${k.name} ${key}`.trim();
      const pipeline = this.device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module: this.module(k.shader), entryPoint: k.entry, constants: { ...bound.constants, ...variant } },
      });
      p = { pipeline, label, id: this.pipelineCount++ };
      bound.pipelines.set(key, p);
    }
    return p;
  }

  /** A shader's WGSL, includes resolved. */
  private wgsl(name: string): string {
    let text = this.sources.get(name);
    if (text === undefined) this.sources.set(name, (text = resolveIncludes(name, this.source)));
    return text;
  }

  private module(name: string): GPUShaderModule {
    let m = this.modules.get(name);
    if (!m) {
      m = this.device.createShaderModule({ label: `${name}.wgsl`, code: this.wgsl(name) });
      this.modules.set(name, m);
    }
    return m;
  }
}
