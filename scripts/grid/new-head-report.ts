// The new-head grid's results (results.json) and its tables (results.md), made from results.json alone so
// that a test can check one against the other.
import { pairedDifference, type PairedDifference } from '../../src/train/seed-stats.ts';
import { cell, mean, methodLabel, pct, plateauedAtBest, table } from './stats.ts';

/** Converged, in the new-head grid: plateaued, and the final validation within the tolerance of the best
 *  (stats.ts). */
export const converged = plateauedAtBest;

export interface NewHeadSettings {
  /** Target → the steps of its runs (a run not converged is run again with twice them, `again` times at
   *  most); warm-up and the interval between validations are a tenth of a run's steps. */
  steps: Record<string, number>;
  batch: number;
  /** Training images per class the target's pool holds; validation is drawn from it per seed. */
  pool: number;
  valFraction: number;
  weightDecay: number;
  crop: string;
}

export interface TargetInfo {
  name: string;
  domain: string;
  model: string;
  modelSha256: string;
  test: string;
}

/** One run, as results.json holds it. Accuracies are fractions (0..1). */
export interface NewHeadRun {
  id: string;
  target: string;
  images_per_class: number;
  method: string;
  p: number;
  lr: number;
  seed: number;
  steps: number;
  /** The starting model with the run's new head, before training (chance level). */
  pretrained_target_accuracy: number;
  /** With the best-validation checkpoint; null (as every score) for a run replaced by a longer one. */
  target_test_accuracy: number | null;
  final_target_test_accuracy: number | null;
  /** By set name (uci); empty where the target has no unseen set. */
  unseen_accuracy: Record<string, number>;
  /** null where the new head has none of the source's classes (far). */
  source_test_accuracy: number | null;
  best_val_accuracy: number;
  /** [step, validation accuracy] at every evaluation. */
  val_curve: [number, number][];
  converged: boolean;
  engine: 'webgpu' | 'pytorch';
  counts: { train: number; val: number; test: number };
  settings: NewHeadSettings;
  seconds: { train: number; eval: number };
}

export interface NewHeadResults {
  settings: NewHeadSettings;
  /** The convergence tolerance, as a fraction (0.01 = 1 point). */
  flat: number;
  targets: TargetInfo[];
  counts: number[];
  methods: string[];
  seeds: number[];
  lrs: number[];
  lr_count: number;
  /** target → method → the learning rate chosen and [lr, best validation accuracy] of each tried. */
  lr_choice: Record<string, Record<string, { lr: number; tried: [number, number][] }>>;
  /** How many times at most a run not converged was run again, each time with twice the steps. */
  again: number;
  argv: string[];
  /** The grid's runs, and the cells also run in the engine (engine 'webgpu'). */
  runs: NewHeadRun[];
  /** The learning-rate choice's runs at the rates not chosen. */
  lr_sweep: NewHeadRun[];
  /** Runs not converged, each replaced (in `runs`, or here by a longer one) by its run with twice the steps. */
  replaced: NewHeadRun[];
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;

/** 'mean [low, high] (k/n > 0)' in points; bold when the interval excludes 0. */
export function differenceCell(d: PairedDifference): string {
  if (d.n === 0) return '–';
  const interval = d.low === undefined ? '' : ` [${signed(d.low)}, ${signed(d.high!)}]`;
  const text = `${signed(d.mean)}${interval} (${d.above}/${d.n} > 0)`;
  return d.differs ? `**${text}**` : text;
}

/** 'far fine-tuning ×3, near StochCA p = 0.5 ×1': how often each text occurs, in order of first occurrence. */
function countBy(texts: string[]): string {
  const counts = new Map<string, number>();
  for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([t, n]) => `${t} ×${n}`).join(', ');
}

/** '3 h 05 min': the runs' own training and scoring seconds, summed. */
function hours(runs: NewHeadRun[]): string {
  const minutes = Math.round(runs.reduce((a, r) => a + r.seconds.train + r.seconds.eval, 0) / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

type Measure = [title: string, get: (r: NewHeadRun) => number | null];

/** Each run replaced, beside the run of twice its steps that replaced it: [shorter, longer]. */
function doublings(x: NewHeadResults): [NewHeadRun, NewHeadRun][] {
  const byId = new Map([...x.runs, ...x.replaced].filter((r) => r.engine === 'pytorch').map((r) => [r.id, r]));
  return x.replaced.flatMap((r) => {
    const longer = byId.get(`${r.id.replace(/_t\d+$/, '')}_t${2 * r.steps}`);
    return longer ? [[r, longer] as [NewHeadRun, NewHeadRun]] : [];
  });
}

/** What twice the steps changed in the runs run again, by target, method and length: the validation
 *  accuracy of the final and of the best evaluation, in points (one evaluation is noisy: 400 images). */
function doublingTable(x: NewHeadResults): string[] {
  const order = (r: NewHeadRun) => [
    x.targets.findIndex((t) => t.name === r.target),
    x.methods.indexOf(r.method),
    r.steps,
  ];
  const sorted = doublings(x).sort(([a], [b]) => {
    const [oa, ob] = [order(a), order(b)];
    return oa[0] - ob[0] || oa[1] - ob[1] || oa[2] - ob[2];
  });
  const groups = new Map<string, [NewHeadRun, NewHeadRun][]>();
  for (const pair of sorted) {
    const [a, b] = pair;
    const key = `${a.target}, ${methodLabel(a.method)}, ${a.steps} → ${b.steps}`;
    groups.set(key, [...(groups.get(key) ?? []), pair]);
  }
  const change = (pairs: [NewHeadRun, NewHeadRun][], get: (r: NewHeadRun) => number) =>
    differenceCell(
      pairedDifference(new Map(pairs.map(([, b], i) => [i, get(b)])), new Map(pairs.map(([a], i) => [i, get(a)]))),
    );
  const final = (r: NewHeadRun) => r.val_curve[r.val_curve.length - 1][1];
  return table(
    ['runs run again (target, method, steps)', 'runs', 'final validation', 'best validation', 'converged after'],
    [...groups].map(([key, pairs]) => [
      key,
      String(pairs.length),
      change(pairs, final),
      change(pairs, (r) => r.best_val_accuracy),
      String(pairs.filter(([, b]) => b.converged).length),
    ]),
  );
}

export function newHeadReport(x: NewHeadResults): string {
  const grid = x.runs.filter((r) => r.engine === 'pytorch');
  const n = x.seeds.length;
  const of = (target: string, count: number, method: string) =>
    grid.filter((r) => r.target === target && r.images_per_class === count && r.method === method);
  const values = (rs: NewHeadRun[], get: Measure[1]) => rs.map(get).filter((v): v is number => v !== null);
  const header = ['images per class', ...x.methods.map(methodLabel)];
  const out: string[] = [];
  for (const t of x.targets) {
    const measures: Measure[] = [
      [`target test accuracy (${t.test}, best-validation checkpoint)`, (r) => r.target_test_accuracy],
      ['target test accuracy of the final checkpoint', (r) => r.final_target_test_accuracy],
      ...Object.keys(grid.find((r) => r.target === t.name)?.unseen_accuracy ?? {}).map((set): Measure => [
        `unseen: ${set.toUpperCase()} digits`,
        (r) => r.unseen_accuracy[set],
      ]),
      ...(grid.some((r) => r.target === t.name && r.source_test_accuracy !== null)
        ? [['source: MNIST test images (100 per class)', (r) => r.source_test_accuracy] as Measure]
        : []),
    ];
    const before = values(
      grid.filter((r) => r.target === t.name),
      (r) => r.pretrained_target_accuracy,
    );
    out.push(
      `## ${t.name}: ${t.domain}`,
      '',
      `Before training, the pretrained model with a new head scores ${pct(Math.min(...before))}–${pct(Math.max(...before))} % ` +
        `on the target's test split (chance: ${pct(1 / 10)} %).`,
      '',
    );
    for (const [title, get] of measures) {
      out.push(
        `${title}, % (mean ± std over ${n} seeds):`,
        '',
        ...table(
          header,
          x.counts.map((c) => [String(c), ...x.methods.map((m) => cell(values(of(t.name, c, m), get), n))]),
        ),
        '',
      );
    }
    const others = x.methods.filter((m) => m !== 'finetune');
    out.push(
      `Paired difference to fine-tuning on the target's test split (points, mean [95 % interval] over the seeds ` +
        `both have, and how many are above 0; **bold**: the interval excludes 0):`,
      '',
      ...table(
        ['images per class', ...others.map((m) => `${methodLabel(m)} − fine-tuning`)],
        x.counts.map((c) => [
          String(c),
          ...others.map((m) => {
            const bySeed = (rs: NewHeadRun[]) =>
              new Map(rs.flatMap((r) => (r.target_test_accuracy === null ? [] : [[r.seed, r.target_test_accuracy]])));
            return differenceCell(pairedDifference(bySeed(of(t.name, c, m)), bySeed(of(t.name, c, 'finetune'))));
          }),
        ]),
      ),
      '',
    );
  }
  out.push(
    `Learning rate chosen per target and method on validation (seed 0, ${x.lr_count} images per class; best validation ` +
      `accuracy of each rate tried, %):`,
    '',
    ...table(
      ['target', ...x.methods.map(methodLabel)],
      x.targets.map((t) => [
        t.name,
        ...x.methods.map((m) => {
          const c = x.lr_choice[t.name]?.[m];
          return c ? c.tried.map(([lr, a]) => `${lr === c.lr ? `**${lr}**` : lr}: ${pct(a)}`).join(', ') : '–';
        }),
      ]),
    ),
    '',
  );
  const engine = x.runs.filter((r) => r.engine === 'webgpu');
  if (engine.length) {
    out.push(
      'The same cells in the engine (WebGPU) and in the exported train.py (PyTorch), target test accuracy %:',
      '',
      ...table(
        ['run', 'engine', 'PyTorch', 'engine best validation', 'PyTorch best validation'],
        engine.map((e) => {
          const twin = grid.find(
            (r) =>
              r.target === e.target &&
              r.images_per_class === e.images_per_class &&
              r.method === e.method &&
              r.seed === e.seed,
          );
          return [
            `${e.target}, ${e.images_per_class} per class, ${methodLabel(e.method)}, seed ${e.seed}, ${e.steps} steps`,
            pct(e.target_test_accuracy!),
            twin?.target_test_accuracy != null ? pct(twin.target_test_accuracy) : '–',
            pct(e.best_val_accuracy),
            twin ? pct(twin.best_val_accuracy) : '–',
          ];
        }),
      ),
      '',
    );
  }
  const unconverged = grid.filter((r) => !r.converged);
  const base = Object.entries(x.settings.steps).map(([t, s]) => `${s} (${t})`);
  const lengths = [...new Set(grid.map((r) => r.steps / x.settings.steps[r.target]))].sort((a, b) => a - b);
  out.push(
    `Steps: ${base.join(', ')}; a run not converged was run again from the start with twice the steps, ` +
      `${x.again === 1 ? 'once' : `up to ${x.again} times`}. Runs in the tables by length: ` +
      lengths
        .map((f) => {
          const rs = grid.filter((r) => r.steps === f * x.settings.steps[r.target]);
          return (
            `${f === 1 ? "the target's steps" : `${f}×`} ${rs.length}` +
            (f > 1 ? ` (${countBy(rs.map((r) => `${r.target} ${methodLabel(r.method)}`))})` : '')
          );
        })
        .join('; ') +
      '.',
    '',
  );
  if (x.replaced.length)
    out.push(
      'What twice the steps changed in the runs run again (points, mean [95 % interval], and how many rose):',
      '',
      ...doublingTable(x),
      '',
    );
  out.push(
    `Converged (the last third's best validation accuracy at most ${100 * x.flat} point above the best before it, ` +
      `and the final within ${100 * x.flat} point of the best): ${grid.length - unconverged.length} of ${grid.length} runs` +
      (unconverged.length ? `; not: ${unconverged.map((r) => r.id).join(', ')}` : '') +
      '.',
    '',
    `${grid.length + engine.length + x.lr_sweep.length + x.replaced.length} runs (${x.lr_sweep.length} of them the ` +
      `learning-rate choice's, ${x.replaced.length} replaced by longer ones), ` +
      `${hours([...grid, ...engine, ...x.lr_sweep, ...x.replaced])} of training and scoring in all; training ${Math.round(mean(grid.map((r) => r.seconds.train)))} s ` +
      `and scoring ${Math.round(mean(grid.map((r) => r.seconds.eval)))} s a run on average.`,
    '',
  );
  return out.join('\n');
}
