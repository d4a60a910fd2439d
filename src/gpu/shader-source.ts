// Where WGSL text comes from. The browser build bundles shaders/*.wgsl through
// Vite; Node reads the same files from disk. A line `//#include "name.wgsl"`
// pastes another file of shaders/ once (shared helpers such as erf and the flat indices).

export type ShaderSource = (name: string) => string;

const INCLUDE = /^\s*\/\/#include "([\w-]+)\.wgsl"\s*$/;

export function resolveIncludes(name: string, source: ShaderSource, seen = new Set<string>()): string {
  seen.add(name);
  return source(name)
    .split('\n')
    .map((line) => {
      const m = INCLUDE.exec(line);
      if (!m) return line;
      return seen.has(m[1]) ? '' : resolveIncludes(m[1], source, seen);
    })
    .join('\n');
}
