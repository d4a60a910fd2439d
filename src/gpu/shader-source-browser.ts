// Shaders bundled into the browser build from shaders/*.wgsl.
import type { ShaderSource } from './shader-source.ts';

const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

export const browserShaders: ShaderSource = (name) => {
  const text = files[`../../shaders/${name}.wgsl`];
  if (text === undefined) throw new Error(`no shader named ${name}.wgsl`);
  return text;
};
