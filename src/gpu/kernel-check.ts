// Checks a kernel's description (kernel.ts) against its WGSL, once, before the first pipeline
// is made of it: the entry point exists and sizes its workgroups by the override WG; every
// override constant the description sets is declared; the uniform struct the entry point binds
// (through the `var<uniform>` it or a function it calls names, so one shader may bind other
// structs in other entry points) has the description's fields, by name and type, in order.
// Only 4-byte scalar fields are packed, so any other field type is refused here.

import type { AnyKernel } from './kernel.ts';
import type { KernelLayout } from './layout.ts';

interface WgslFunction {
  /** The attributes before `fn` (`@compute @workgroup_size(WG)`). */
  attributes: string;
  body: string;
}

interface WgslField {
  name: string;
  type: string;
  attributes: string;
}

interface WgslUniform {
  name: string;
  struct: string;
  attributes: string;
}

export interface WgslModule {
  functions: Map<string, WgslFunction>;
  structs: Map<string, WgslField[]>;
  uniforms: WgslUniform[];
  overrides: Set<string>;
}

const ATTRIBUTES = String.raw`((?:@\w+(?:\s*\([^()]*\))?\s*)*)`;
const FUNCTION = /\bfn\s+(\w+)\s*\(/g;
const STRUCT = /\bstruct\s+(\w+)\s*\{([^}]*)\}/g;
const UNIFORM = new RegExp(String.raw`${ATTRIBUTES}var\s*<\s*uniform\s*>\s*(\w+)\s*:\s*(\w+)\s*;`, 'g');
const OVERRIDE = /\boverride\s+(\w+)/g;
const FIELD = new RegExp(String.raw`^${ATTRIBUTES}(\w+)\s*:\s*([\s\S]+)$`);
const TRAILING_ATTRIBUTES = new RegExp(`${ATTRIBUTES}$`);
const IDENTIFIER = /\b[A-Za-z_]\w*\b/g;
const SCALARS = new Set(['u32', 'i32', 'f32']);

/** The declarations of a shader (after includes) that a kernel's description must match. */
export function parseWgsl(source: string): WgslModule {
  const text = stripComments(source);
  const functions = new Map<string, WgslFunction>();
  for (const m of text.matchAll(FUNCTION)) {
    const attributes = TRAILING_ATTRIBUTES.exec(text.slice(Math.max(0, m.index - 300), m.index))![1];
    const open = text.indexOf('{', closing(text, m.index + m[0].length - 1, '(', ')'));
    functions.set(m[1], { attributes, body: text.slice(open + 1, closing(text, open, '{', '}')) });
  }
  const structs = new Map<string, WgslField[]>();
  for (const m of text.matchAll(STRUCT)) {
    const fields = splitTopLevel(m[2]).map((member) => {
      const f = FIELD.exec(member);
      return f
        ? { attributes: f[1].trim(), name: f[2], type: f[3].replace(/\s+/g, '') }
        : { attributes: '', name: member, type: '?' };
    });
    structs.set(m[1], fields);
  }
  const uniforms = [...text.matchAll(UNIFORM)].map((m) => ({ attributes: m[1].trim(), name: m[2], struct: m[3] }));
  const overrides = new Set([...text.matchAll(OVERRIDE)].map((m) => m[1]));
  return { functions, structs, uniforms, overrides };
}

/** The names of the shader's compute entry points. */
export function computeEntries(module: WgslModule): string[] {
  return [...module.functions].filter(([, f]) => /@compute\b/.test(f.attributes)).map(([name]) => name);
}

/**
 * Why `kernel` does not fit `module` (its shader, parsed) under `layout`, naming the kernel and
 * the field or constant at fault; undefined when it fits.
 */
export function kernelMismatch(kernel: AnyKernel, module: WgslModule, layout: KernelLayout): string | undefined {
  const where = `kernel ${kernel.name}`;
  const file = `${kernel.shader}.wgsl`;
  const entry = module.functions.get(kernel.entry);
  if (!entry || !/@compute\b/.test(entry.attributes))
    return `${where}: ${file} has no @compute entry point ${kernel.entry}`;
  if (!/@workgroup_size\s*\(\s*WG\b/.test(entry.attributes)) {
    return `${where}: the entry point's @workgroup_size must start with the override WG the kernel sets`;
  }
  for (const name of [...Object.keys(kernel.constants(layout)), ...kernel.variants]) {
    if (!module.overrides.has(name))
      return `${where}: sets the override constant ${name}, which ${file} does not declare`;
  }

  const used = namesUsed(module, kernel.entry);
  const bound = module.uniforms.filter((u) => used.has(u.name));
  const want = Object.entries(kernel.uniforms);
  if (bound.length > 1)
    return `${where}: the entry point reads ${bound.length} uniforms (${bound.map((u) => u.name).join(', ')}), not one`;
  if (bound.length === 0) {
    return want.length === 0
      ? undefined
      : `${where}: has uniform ${want[0][0]}, but the entry point reads no var<uniform>`;
  }
  const { name, struct, attributes } = bound[0];
  if (!/@group\(0\)\s*@binding\(0\)/.test(attributes))
    return `${where}: uniform ${name} must be @group(0) @binding(0), not ${attributes}`;
  const fields = module.structs.get(struct);
  if (!fields) return `${where}: no struct ${struct} in ${file} for uniform ${name}`;

  const of = `struct ${struct} (${file})`;
  for (const f of fields) {
    if (f.attributes)
      return `${where}: field ${f.name} of ${of} has ${f.attributes}, a layout the packing does not follow`;
    if (!SCALARS.has(f.type))
      return `${where}: field ${f.name} of ${of} is ${f.type}; only u32, i32 and f32 fields are packed`;
  }
  const has = new Set(fields.map((f) => f.name));
  const extra = want.find(([n]) => !has.has(n));
  if (extra) return `${where}: uniform ${extra[0]} is not a field of ${of}`;
  const missing = fields.find((f) => !Object.hasOwn(kernel.uniforms, f.name));
  if (missing) return `${where}: field ${missing.name} of ${of} is missing from the kernel's uniforms`;
  for (const [i, f] of fields.entries()) {
    const [n, type] = want[i];
    if (n !== f.name) return `${where}: uniforms out of order: ${of} has ${f.name} where the kernel has ${n}`;
    if (type !== f.type) return `${where}: uniform ${n} is ${type}, but ${f.type} in ${of}`;
  }
  return undefined;
}

/** Every identifier the entry point's body and the functions it calls (transitively) name. */
function namesUsed(module: WgslModule, entry: string): Set<string> {
  const names = new Set<string>();
  const pending = [entry];
  for (let fn = pending.pop(); fn !== undefined; fn = pending.pop()) {
    for (const id of module.functions.get(fn)!.body.match(IDENTIFIER) ?? []) {
      if (module.functions.has(id) && !names.has(id)) pending.push(id);
      names.add(id);
    }
  }
  return names;
}

/** WGSL without its comments (line comments, and block comments, which nest). */
function stripComments(source: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const two = source.slice(i, i + 2);
    if (two === '/*') {
      depth++;
      i++;
    } else if (depth > 0 && two === '*/') {
      depth--;
      i++;
    } else if (depth === 0 && two === '//') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
    } else if (depth === 0) {
      out += source[i];
    }
  }
  return out;
}

/** The index of the bracket that closes the one at `open`. */
function closing(text: string, open: number, left: string, right: string): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === left) depth++;
    else if (text[i] === right && --depth === 0) return i;
  }
  return text.length;
}

/** A struct body's members: split at the commas outside <> and (), empty ones (a trailing comma) dropped. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    const ch = body[i];
    if (ch === '<' || ch === '(') depth++;
    else if (ch === '>' || ch === ')') depth--;
    else if ((ch === ',' && depth === 0) || i === body.length) {
      const part = body.slice(start, i).trim();
      if (part) parts.push(part);
      start = i + 1;
    }
  }
  return parts;
}
