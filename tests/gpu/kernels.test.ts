// Kernel descriptions (src/gpu/kernel.ts) against their WGSL, without a device: every kernel of
// src/nn/ops fits the uniform struct its entry point binds under both layouts, every compute entry
// point of shaders/ has a description, and one that does not fit is refused naming the kernel and
// the field. Named uniforms are packed as the WGSL struct lays them out.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeEntries, kernelMismatch, parseWgsl } from '../../src/gpu/kernel-check.ts';
import { Kernel, type AnyKernel, type UniformFields } from '../../src/gpu/kernel.ts';
import { LAYOUTS } from '../../src/gpu/layout.ts';
import { resolveIncludes } from '../../src/gpu/shader-source.ts';
import { nodeShaders } from '../../src/gpu/shader-source-node.ts';

const opModules = import.meta.glob('../../src/nn/ops/*.ts', { eager: true }) as Record<string, Record<string, unknown>>;

/** Every kernel the ops export, alone or in an object of kernels. */
const kernels: AnyKernel[] = Object.values(opModules)
  .flatMap((m) => Object.values(m))
  .flatMap((v) => (v instanceof Kernel ? [v] : v && typeof v === 'object' ? Object.values(v) : []))
  .filter((v): v is AnyKernel => v instanceof Kernel);

const shader = (name: string) => parseWgsl(resolveIncludes(name, nodeShaders));
const mismatch = (k: AnyKernel, source = shader(k.shader)) => kernelMismatch(k, source, LAYOUTS.cpu);
const byName = (name: string) => kernels.find((k) => k.name === name)!;

/** `k` with other uniforms, or other constants. */
function withUniforms(k: AnyKernel, uniforms: UniformFields, constants?: Record<string, number>): AnyKernel {
  return new Kernel({ shader: k.shader, entry: k.entry, workgroupSize: 4, constants, uniforms, variants: k.variants });
}

/** `fields` with the i-th and j-th swapped. */
function swap(fields: UniformFields, i: number, j: number): UniformFields {
  const entries = Object.entries(fields);
  [entries[i], entries[j]] = [entries[j], entries[i]];
  return Object.fromEntries(entries);
}

describe('kernel descriptions', () => {
  it('fit their shaders under both layouts', () => {
    expect(kernels.length).toBeGreaterThan(0);
    for (const k of kernels) {
      for (const layout of Object.values(LAYOUTS)) expect(kernelMismatch(k, shader(k.shader), layout)).toBeUndefined();
    }
  });

  it('cover every compute entry point of shaders/, once each', () => {
    const entries = readdirSync(new URL('../../shaders/', import.meta.url))
      .map((f) => f.replace(/\.wgsl$/, ''))
      .flatMap((name) => computeEntries(shader(name)).map((entry) => `${name}:${entry}`));
    expect(entries.length).toBeGreaterThan(20);
    expect(kernels.map((k) => k.name).sort()).toEqual(entries.sort());
  });

  it('refuses uniforms out of order, naming the kernel and both fields', () => {
    const matmul = byName('matmul:matmul');
    expect(Object.keys(matmul.uniforms).slice(3, 5)).toEqual(['strideA', 'strideB']);
    expect(mismatch(withUniforms(matmul, swap(matmul.uniforms, 3, 4)))).toBe(
      'kernel matmul:matmul: uniforms out of order: struct Params (matmul.wgsl) has strideA where the kernel has strideB',
    );
  });

  it('refuses a misnamed, a missing and an extra uniform, naming the field', () => {
    const matmul = byName('matmul:matmul');
    const { strideC, ...noStrideC } = matmul.uniforms;
    expect(strideC).toBe('u32');
    expect(mismatch(withUniforms(matmul, { ...noStrideC, strideD: 'u32' }))).toBe(
      'kernel matmul:matmul: uniform strideD is not a field of struct Params (matmul.wgsl)',
    );
    expect(mismatch(withUniforms(matmul, noStrideC))).toBe(
      "kernel matmul:matmul: field strideC of struct Params (matmul.wgsl) is missing from the kernel's uniforms",
    );
  });

  it('refuses a uniform of another type, naming both types', () => {
    const forward = byName('layernorm:layernorm_forward');
    expect(mismatch(withUniforms(forward, { ...forward.uniforms, eps: 'u32' }))).toBe(
      'kernel layernorm:layernorm_forward: uniform eps is u32, but f32 in struct ForwardParams (layernorm.wgsl)',
    );
  });

  it("checks each entry point against the struct it binds, where a shader's entry points bind different ones", () => {
    const sumSquares = byName('adamw:sum_squares');
    const adamw = byName('adamw:adamw');
    expect(mismatch(withUniforms(adamw, sumSquares.uniforms))).toBe(
      'kernel adamw:adamw: uniform n is not a field of struct AdamParams (adamw.wgsl)',
    );
    expect(mismatch(withUniforms(sumSquares, adamw.uniforms))).toBe(
      'kernel adamw:sum_squares: uniform offset is not a field of struct NormParams (adamw.wgsl)',
    );
  });

  it('refuses an entry point the shader lacks and a constant it does not declare', () => {
    const colsum = byName('reduce:colsum');
    const lost = new Kernel({ shader: 'reduce', entry: 'no_such_entry', workgroupSize: 64, uniforms: colsum.uniforms });
    expect(mismatch(lost)).toBe('kernel reduce:no_such_entry: reduce.wgsl has no @compute entry point no_such_entry');
    expect(mismatch(withUniforms(colsum, colsum.uniforms, { LANES: 8 }))).toBe(
      'kernel reduce:colsum: sets the override constant LANES, which reduce.wgsl does not declare',
    );
  });
});

describe('uniform structs the packing does not lay out', () => {
  const probe = (struct: string, extra = '') =>
    parseWgsl(`
      override WG: u32;
      struct P {
        ${struct}
      }
      @group(0) @binding(${extra || '0'}) var<uniform> p: P;
      /* a block comment /* nested */ with fn other() { p } */
      @compute @workgroup_size(WG)
      fn main() {
        _ = p.a;
      }
    `);
  const k = (uniforms: UniformFields) => new Kernel({ shader: 'probe', entry: 'main', workgroupSize: 4, uniforms });

  it('accepts 4-byte scalars, a trailing comma and commented-out fields', () => {
    expect(
      mismatch(k({ a: 'u32', b: 'i32', c: 'f32' }), probe('a: u32, // z: f32,\n b: i32,\n c: f32,')),
    ).toBeUndefined();
  });

  it('refuses vectors, arrays and f16, naming the field and its type', () => {
    expect(mismatch(k({ a: 'u32', v: 'f32' }), probe('a: u32, v: vec4f'))).toBe(
      'kernel probe:main: field v of struct P (probe.wgsl) is vec4f; only u32, i32 and f32 fields are packed',
    );
    expect(mismatch(k({ a: 'u32', v: 'f32' }), probe('a: u32, v: array<vec4f, 2>'))).toMatch(
      /field v of struct P \(probe\.wgsl\) is array<vec4f,2>;/,
    );
    expect(mismatch(k({ a: 'f32' }), probe('a: f16'))).toMatch(/field a of struct P \(probe\.wgsl\) is f16;/);
  });

  it('refuses explicit alignment or size, and a uniform not at binding 0', () => {
    expect(mismatch(k({ a: 'u32', b: 'f32' }), probe('a: u32, @align(16) b: f32'))).toBe(
      'kernel probe:main: field b of struct P (probe.wgsl) has @align(16), a layout the packing does not follow',
    );
    expect(mismatch(k({ a: 'u32' }), probe('a: u32', '1'))).toBe(
      'kernel probe:main: uniform p must be @group(0) @binding(0), not @group(0) @binding(1)',
    );
  });
});

describe('uniform packing', () => {
  const probe = (uniforms: UniformFields) => new Kernel({ shader: 'probe', entry: 'main', workgroupSize: 1, uniforms });
  const kernel = probe({ a: 'u32', b: 'i32', c: 'f32', d: 'u32', e: 'f32' });

  it('writes each field as its type at 4 bytes a field, the binding rounded up to 16 bytes', () => {
    const bytes = new ArrayBuffer(512);
    kernel.pack({ e: -2.5, d: 2 ** 32 - 1, c: 0.1, b: -3, a: 7 }, new DataView(bytes), 256, 'probe');
    expect(Array.from(new Uint32Array(bytes, 256, 5))).toEqual([7, 2 ** 32 - 3, 1036831949, 2 ** 32 - 1, 3223322624]);
    expect(new Int32Array(bytes, 260, 1)[0]).toBe(-3);
    expect(Array.from(new Float32Array(bytes, 264, 1))).toEqual([Math.fround(0.1)]);
    expect(new Float32Array(bytes, 272, 1)[0]).toBe(-2.5);
    expect(new Uint8Array(bytes, 0, 256).every((x) => x === 0)).toBe(true);
    expect(kernel.uniformSize).toBe(32);
    expect(probe({ n: 'u32' }).uniformSize).toBe(16);
    expect(probe({}).uniformSize).toBe(0);
  });

  it('refuses an integer field that is not an integer of its range, or missing, naming the op, kernel and field', () => {
    const view = new DataView(new ArrayBuffer(32));
    const ok = { a: 1, b: 1, c: 1, d: 1, e: 1 };
    expect(() => kernel.pack({ ...ok, a: 1.5 }, view, 0, 'probe x[4]')).toThrow(
      new RangeError('probe x[4]: uniform a of probe:main must be a u32, got 1.5'),
    );
    expect(() => kernel.pack({ ...ok, d: -1 }, view, 0, 'op')).toThrow('uniform d of probe:main must be a u32, got -1');
    expect(() => kernel.pack({ ...ok, b: 2 ** 31 }, view, 0, 'op')).toThrow('uniform b of probe:main must be a i32');
    const { c: _, ...noC } = ok;
    expect(() => kernel.pack(noC as typeof ok, view, 0, 'op')).toThrow(
      'uniform c of probe:main must be a number, got undefined',
    );
  });
});
