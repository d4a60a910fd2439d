// A kernel, described once: its shader and entry point, its workgroup size (the shader's
// `override WG`), its other override constants, and its uniforms by name and type in the order
// of the WGSL struct its entry point binds. Gpu.dispatch packs a dispatch's named uniforms by it
// and, before it first makes a pipeline of it, checks it against the WGSL (kernel-check.ts).

import { grid1d } from './grid.ts';
import type { KernelLayout } from './layout.ts';

/** The types a uniform field may have: 4-byte scalars, which a WGSL uniform struct packs back to back. */
export type UniformType = 'u32' | 'i32' | 'f32';

/** A uniform struct's fields in order: `{ M: 'u32', alpha: 'f32' }`. */
export type UniformFields = Readonly<Record<string, UniformType>>;

/** A dispatch's uniforms: a number for every field of its kernel. */
export type UniformValues<U extends UniformFields> = { readonly [K in keyof U]: number };

/** A value fixed for the kernel, or one per kernel layout (src/gpu/layout.ts). */
type PerLayout<T> = T | ((layout: KernelLayout) => T);

export interface KernelSpec<U extends UniformFields, V extends string> {
  /** File name in shaders/ without `.wgsl`. */
  shader: string;
  entry: string;
  /** The shader's `override WG`: threads per workgroup (per side, where the shader squares it). */
  workgroupSize: PerLayout<number>;
  /** Other override constants, fixed for the kernel or the layout. */
  constants?: PerLayout<Readonly<Record<string, number>>>;
  /** Override constants each dispatch sets (a variant: a flag, a head size); each set is its own pipeline. */
  variants?: readonly V[];
  /** The fields of the uniform struct the entry point binds, in the struct's order; `{}` when it binds none. */
  uniforms: U;
}

/** Any kernel, whatever its uniforms and variants. */
export type AnyKernel = Kernel<UniformFields, string>;

/** The integers a u32 or i32 field takes; an f32 field takes any number, rounded to the nearest float. */
const RANGE: Record<UniformType, [min: number, max: number]> = {
  u32: [0, 2 ** 32 - 1],
  i32: [-(2 ** 31), 2 ** 31 - 1],
  f32: [-Infinity, Infinity],
};

export class Kernel<U extends UniformFields = UniformFields, V extends string = never> {
  readonly shader: string;
  readonly entry: string;
  /** `shader:entry`, as errors and pipeline labels name it. */
  readonly name: string;
  readonly uniforms: U;
  readonly variants: readonly V[];
  /** Bytes the uniform binding covers: the struct's size rounded up to 16, 0 without uniforms. */
  readonly uniformSize: number;
  private readonly fields: readonly { name: string; type: UniformType; offset: number; min: number; max: number }[];

  constructor(private readonly spec: KernelSpec<U, V>) {
    this.shader = spec.shader;
    this.entry = spec.entry;
    this.name = `${spec.shader}:${spec.entry}`;
    this.uniforms = spec.uniforms;
    this.variants = spec.variants ?? [];
    this.fields = Object.entries(spec.uniforms).map(([name, type], i) => {
      const [min, max] = RANGE[type];
      return { name, type, offset: 4 * i, min, max };
    });
    this.uniformSize = Math.ceil(this.fields.length / 4) * 16;
  }

  workgroupSize(layout: KernelLayout): number {
    const wg = this.spec.workgroupSize;
    return typeof wg === 'number' ? wg : wg(layout);
  }

  /** Workgroups for one invocation per item of a flat range of `count`, folded into x and y (grid1d). */
  flatGrid(layout: KernelLayout, count: number): [number, number] {
    return grid1d(count, this.workgroupSize(layout));
  }

  /** The override constants the layout fixes: WG and the spec's constants. */
  constants(layout: KernelLayout): Record<string, number> {
    const c = this.spec.constants;
    return { ...(typeof c === 'function' ? c(layout) : c), WG: this.workgroupSize(layout) };
  }

  /** Writes `values` into `view` from byte `at`, in the struct's order; an integer field takes an integer of its range. */
  pack(values: UniformValues<U>, view: DataView, at: number, op: string): void {
    for (const f of this.fields) {
      const v = (values as Record<string, number>)[f.name];
      const ok = f.type === 'f32' ? typeof v === 'number' : Number.isInteger(v) && v >= f.min && v <= f.max;
      if (!ok) throw this.badUniform(op, f.name, f.type, v);
      if (f.type === 'f32') view.setFloat32(at + f.offset, v, true);
      else if (f.type === 'u32') view.setUint32(at + f.offset, v, true);
      else view.setInt32(at + f.offset, v, true);
    }
  }

  private badUniform(op: string, field: string, type: UniformType, v: unknown): RangeError {
    return new RangeError(
      `${op}: uniform ${field} of ${this.name} must be ${type === 'f32' ? 'a number' : `a ${type}`}, got ${v}`,
    );
  }
}
