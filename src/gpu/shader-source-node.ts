// Shaders read from shaders/*.wgsl on disk (Node: CLI, tests, benchmarks).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ShaderSource } from './shader-source.ts';

const dir = fileURLToPath(new URL('../../shaders/', import.meta.url));
const cache = new Map<string, string>();

export const nodeShaders: ShaderSource = (name) => {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(`${dir}${name}.wgsl`, 'utf8');
    cache.set(name, text);
  }
  return text;
};
