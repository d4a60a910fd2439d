// The docs hold together: the README stays a front door (at most 260 lines), and every relative link in it,
// in docs/ and in the experiments' records names a file of the repository, and an #anchor into a Markdown
// file names one of its headings as GitHub slugs them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const FILES = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...readdirSync('experiments', { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`experiments/${d.name}/README.md`))
    .map((d) => `experiments/${d.name}/README.md`),
];

/** The text outside fenced code blocks, line for line (fences blanked, so nothing in them is read). */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (line.startsWith('```')) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/** GitHub's anchor for a heading (github-slugger): the rendered text in lower case, punctuation and
 *  symbols dropped, each space a hyphen; a repeated slug gets -1, -2, … in order. */
function slug(heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'); // a link renders as its text
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every link and image target outside code, with the line its target is on. */
function links(markdown: string): { href: string; line: number }[] {
  const lines = prose(markdown).map((l) => l.replace(/`[^`]*`/g, ''));
  const text = lines.join('\n');
  const out: { href: string; line: number }[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
    out.push({ href: m[1], line: text.slice(0, m.index).split('\n').length });
  return out;
}

/** What is wrong with each relative link of a file: a missing file, or an anchor that is no heading. */
function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const { href, line } of links(readFileSync(file, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto: — not in the repository
    const [path, anchor] = href.split('#', 2);
    const target = path === '' ? resolve(file) : resolve(dirname(file), decodeURIComponent(path));
    const where = `${file}:${line} ${href}`;
    if (relative(ROOT, target).startsWith('..') || !existsSync(target)) broken.push(`${where}: no such file`);
    else if (anchor !== undefined && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(anchor))
      broken.push(`${where}: no heading '${anchor}' in ${relative(ROOT, target)}`);
  }
  return broken;
}

describe('the docs', () => {
  it('slug headings as GitHub does', () => {
    // Anchors GitHub gives these headings.
    expect(slug('`vit-mnist`: a digits generalist')).toBe('vit-mnist-a-digits-generalist');
    expect(slug('The counter-example: Fashion-MNIST to MNIST (unconverged)')).toBe(
      'the-counter-example-fashion-mnist-to-mnist-unconverged',
    );
    expect(slug("What's new? C++ & Rust")).toBe('whats-new-c--rust');
    expect([...anchors('# A\n```\n# A\n```\n## A\n### B')]).toEqual(['a', 'a-1', 'b']);
  });

  it('find links, images and anchors outside code only', () => {
    const md = '[a](x.md#y) ![b](img.png) `[c](not.md)`\n```\n[d](no.md)\n```\n[e\nf](z.md "t")';
    expect(links(md)).toEqual([
      { href: 'x.md#y', line: 1 },
      { href: 'img.png', line: 1 },
      { href: 'z.md', line: 6 },
    ]);
  });

  it('keep the README at most 260 lines', () => {
    const lines = readFileSync('README.md', 'utf8').replace(/\n$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(260);
  });

  it('have every relative link resolve to a file, and every anchor to a heading there', () => {
    expect(FILES).toEqual(expect.arrayContaining(['README.md', 'docs/method.md']));
    expect(FILES.flatMap(brokenLinks)).toEqual([]);
  });

  it('link every docs file and experiment record from another of them', () => {
    const linked = new Set(
      FILES.flatMap((file) =>
        links(readFileSync(file, 'utf8'))
          .map(({ href }) => href.split('#')[0])
          .filter((path) => path !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(path))
          .map((path) => relative(ROOT, resolve(dirname(file), decodeURIComponent(path))))
          .filter((target) => target !== file),
      ),
    );
    expect(FILES.filter((f) => f !== 'README.md' && !linked.has(f))).toEqual([]);
  });
});
