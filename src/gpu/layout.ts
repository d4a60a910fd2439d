// Workgroup shapes of the kernels, chosen once per device (`gpu.layout`): one set for GPUs,
// one for CPU implementations of WebGPU (SwiftShader), where a workgroup barrier costs far
// more and wide workgroups only add to it. STOCHCA_LAYOUT=gpu|cpu (in a page driven from
// Node, `?layout=`) forces either, so both run on any machine.

export type LayoutName = 'gpu' | 'cpu';

export interface KernelLayout {
  readonly name: LayoutName;
  /**
   * matmul.wgsl: threads per workgroup side (WG) and 4x4 output blocks per thread side (RB);
   * both give a 64x64 tile of C. SwiftShader runs four invocations per SIMD group and reads
   * workgroup memory by per-lane gathers, so on CPUs 16 threads with 16x16 outputs each beat
   * 256 with 4x4.
   */
  readonly matmul: { readonly wg: number; readonly rb: number };
  /** layernorm.wgsl WG, threads that share one row: on CPUs a barrier costs more than the strided loop saves (4 is 10× faster there). */
  readonly layernormRowThreads: number;
  /** attention.wgsl WG, rows (queries, or keys in the dK/dV kernel) per workgroup: fewer on CPUs, where barriers are dear. */
  readonly attentionRows: number;
  /** WG of the 1-D reductions (adamw.wgsl, cross-entropy.wgsl): on CPUs wider groups only add barrier cost. */
  readonly reduceWorkgroup: number;
}

export const LAYOUTS: Readonly<Record<LayoutName, KernelLayout>> = {
  gpu: { name: 'gpu', matmul: { wg: 16, rb: 1 }, layernormRowThreads: 64, attentionRows: 64, reduceWorkgroup: 256 },
  cpu: { name: 'cpu', matmul: { wg: 4, rb: 4 }, layernormRowThreads: 4, attentionRows: 8, reduceWorkgroup: 64 },
};

/** The names an adapter reports (GPUAdapterInfo). */
export type AdapterNames = Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>;

/** `forced` when given; else 'cpu' for SwiftShader (by name) or any fallback adapter, 'gpu' for the rest. */
export function chooseLayout(info: AdapterNames, isFallback: boolean, forced?: LayoutName): KernelLayout {
  if (forced) return LAYOUTS[forced];
  const swiftshader = /swiftshader/i.test(`${info.architecture} ${info.description} ${info.device}`);
  return LAYOUTS[swiftshader || isFallback ? 'cpu' : 'gpu'];
}

/**
 * The layout a setting forces (`where` names the setting, e.g. STOCHCA_LAYOUT): undefined when
 * it is unset or empty, an error naming the allowed values when it is anything else.
 */
export function parseLayoutName(value: string | null | undefined, where: string): LayoutName | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Object.hasOwn(LAYOUTS, value)) return value as LayoutName;
  throw new RangeError(`${where} must be ${Object.keys(LAYOUTS).join(' or ')}, got '${value}'`);
}
