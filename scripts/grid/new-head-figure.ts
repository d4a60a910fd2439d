// The new-head grid's figure (figure.svg): target test accuracy against training images per class, one
// panel per target, a line per method at its mean over the seeds with the 95 % interval of that mean as a
// band. Made from results.json alone, as results.md is, so a test can check it.
import { mean, std, t95 } from '../../src/train/seed-stats.ts';
import type { NewHeadResults } from './new-head-report.ts';
import { methodLabel } from './stats.ts';

const COLOURS: Record<string, string> = {
  'linear-probe': '#7f7f7f',
  finetune: '#1f77b4',
};
const STOCHCA = ['#d62728', '#ff7f0e', '#9467bd', '#2ca02c'];

const W = 360;
const H = 260;
const M = { left: 46, right: 12, top: 28, bottom: 40 };
const LEGEND = 22;

const f1 = (x: number) => x.toFixed(1);

export function newHeadFigure(x: NewHeadResults): string {
  const runs = x.runs.filter((r) => r.engine === 'pytorch');
  const colour = (m: string) => COLOURS[m] ?? STOCHCA[x.methods.filter((n) => !(n in COLOURS)).indexOf(m) % 4];
  const logs = x.counts.map(Math.log);
  const px = (count: number) =>
    M.left +
    ((Math.log(count) - Math.min(...logs)) / (Math.max(...logs) - Math.min(...logs) || 1)) * (W - M.left - M.right);
  const py = (accuracy: number) => M.top + (1 - accuracy) * (H - M.top - M.bottom);
  const panels = x.targets.map((t, k) => {
    const lines = x.methods.map((m) => {
      const points = x.counts.map((c) => {
        const a = runs
          .filter((r) => r.target === t.name && r.images_per_class === c && r.method === m)
          .flatMap((r) => r.target_test_accuracy ?? []);
        const s = std(a);
        const half = s === undefined ? 0 : (t95(a.length) * s) / Math.sqrt(a.length);
        return { c, m: mean(a), lo: Math.max(0, mean(a) - half), hi: Math.min(1, mean(a) + half) };
      });
      const band = [
        ...points.map((p) => `${f1(px(p.c))},${f1(py(p.hi))}`),
        ...points.reverse().map((p) => `${f1(px(p.c))},${f1(py(p.lo))}`),
      ];
      points.reverse();
      return [
        `<polygon points="${band.join(' ')}" fill="${colour(m)}" fill-opacity="0.15" stroke="none"/>`,
        `<polyline points="${points.map((p) => `${f1(px(p.c))},${f1(py(p.m))}`).join(' ')}" fill="none" stroke="${colour(m)}" stroke-width="2"/>`,
        ...points.map((p) => `<circle cx="${f1(px(p.c))}" cy="${f1(py(p.m))}" r="2.5" fill="${colour(m)}"/>`),
      ].join('\n');
    });
    const grid = [0, 0.2, 0.4, 0.6, 0.8, 1].map(
      (a) =>
        `<line x1="${M.left}" x2="${W - M.right}" y1="${f1(py(a))}" y2="${f1(py(a))}" stroke="#ddd"/>` +
        `<text x="${M.left - 6}" y="${f1(py(a) + 4)}" text-anchor="end">${100 * a}</text>`,
    );
    const ticks = x.counts.map(
      (c) => `<text x="${f1(px(c))}" y="${H - M.bottom + 16}" text-anchor="middle">${c}</text>`,
    );
    return [
      `<g transform="translate(${k * W},0)">`,
      `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${t.name}: ${t.domain}</text>`,
      ...grid,
      ...ticks,
      `<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">training images per class</text>`,
      `<text transform="translate(12,${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">test accuracy, %</text>`,
      ...lines,
      '</g>',
    ].join('\n');
  });
  const legend = x.methods.map(
    (m, k) =>
      `<g transform="translate(${M.left + k * 150},${H + 8})"><line x1="0" x2="18" y1="0" y2="0" stroke="${colour(m)}" stroke-width="2"/>` +
      `<text x="24" y="4">${methodLabel(m)}</text></g>`,
  );
  const width = W * x.targets.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + LEGEND}" viewBox="0 0 ${width} ${H + LEGEND}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
