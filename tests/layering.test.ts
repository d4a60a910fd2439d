// The layers of src/ import only downwards (shaders → gpu → nn → checkpoint → data → train → the
// hosts: worker, node, bench, cli, app; src/torch/, the exported PyTorch script, is read by cli and app),
// and the layout table (docs/layout.md) names every folder.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');
const BASE = ['gpu', 'nn', 'checkpoint', 'data', 'train'];
/** What each folder of src/ may import, besides itself. */
const ALLOWED: Record<string, string[]> = {
  gpu: [],
  nn: BASE.slice(0, 1),
  checkpoint: BASE.slice(0, 2),
  data: BASE.slice(0, 3),
  train: BASE.slice(0, 4),
  worker: BASE,
  node: BASE,
  bench: [...BASE, 'node'],
  cli: [...BASE, 'node', 'torch'],
  app: [...BASE, 'worker', 'torch'],
  // The PyTorch script an experiment is exported with: Python, read as text by the hosts.
  torch: [],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Relative module specifiers of a file: static imports and exports, dynamic imports, worker URLs. */
function specifiers(text: string): string[] {
  const found = [...text.matchAll(/(?:from|import\(|new URL\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return [...new Set(found)];
}

const layerOf = (path: string) => relative(SRC, path).split('/')[0];

describe('layering', () => {
  it('every folder of src/ has a place in the order', () => {
    const folders = readdirSync(SRC)
      .filter((f) => statSync(join(SRC, f)).isDirectory())
      .sort();
    expect(folders).toEqual(Object.keys(ALLOWED).sort());
  });

  it('no module imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const file of sources(SRC)) {
      const from = layerOf(file);
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(SRC)) continue; // shaders/, the checkout's public/
        const to = layerOf(target);
        if (to !== from && !ALLOWED[from].includes(to)) upward.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('the layout table of docs/layout.md names every folder of src/', () => {
    const table = readFileSync('docs/layout.md', 'utf8');
    for (const folder of Object.keys(ALLOWED)) expect(table, folder).toContain(`\`src/${folder}/\``);
  });
});
