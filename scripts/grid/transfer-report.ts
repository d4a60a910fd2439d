// The transfer grid's results (results.json) and its tables (results.md), made from results.json
// alone so that a test can check one against the other.
import type { RunSettingsOfGrid } from './options.ts';
import { cell, mean, methodLabel, pairedCell, pct, plateaued, table } from './stats.ts';

/** Converged, in the head-kept grid: the validation curve plateaued (stats.ts). */
export const converged = plateaued;

export interface TransferSettings extends RunSettingsOfGrid {
  sourcePerClass: number;
}

/** One run, as results.json holds it. Accuracies are fractions (0..1). */
export interface TransferRun {
  id: string;
  fraction: number;
  method: string;
  p: number;
  seed: number;
  steps: number;
  target_test_accuracy: number;
  /** By set name (uci). */
  unseen_accuracy: Record<string, number>;
  source_test_accuracy: number;
  best_val_accuracy: number;
  best_val_step: number;
  /** [step, validation accuracy] at every evaluation. */
  val_curve: [number, number][];
  converged: boolean;
  counts: { train: number; val: number; test: number };
  settings: TransferSettings;
  command: string[];
  adapter: string;
  seconds: { train: number; eval: number };
}

export interface TransferResults {
  settings: TransferSettings;
  /** The convergence tolerance, as a fraction (0.01 = 1 point). */
  flat: number;
  fractions: number[];
  methods: string[];
  seeds: number[];
  /** The pretrained model's accuracy on each set before any fine-tuning, by set name. */
  pretrained: Record<string, number>;
  /** The seed that drew the OpenCV test split. */
  testSeed: number;
  argv: string[];
  wallSeconds: number;
  runs: TransferRun[];
}

type Measure = [title: string, get: (r: TransferRun) => number];

export function transferReport(x: TransferResults): string {
  const { settings: s, runs } = x;
  const n = x.seeds.length;
  const of = (f: number, m: string) => runs.filter((r) => r.fraction === f && r.method === m);
  const fractionLabel = (f: number) => {
    const train = runs.find((r) => r.fraction === f)?.counts.train;
    return `${+(100 * f).toFixed(4)} %${train === undefined ? '' : ` (${train} images)`}`;
  };
  const measures: Measure[] = [
    ['OpenCV test (target)', (r) => r.target_test_accuracy],
    ...Object.keys(runs[0]?.unseen_accuracy ?? {}).map((name): Measure => [
      `${name.toUpperCase()} digits (unseen)`,
      (r) => r.unseen_accuracy[name],
    ]),
    ['MNIST test (source)', (r) => r.source_test_accuracy],
  ];
  const header = ['training fraction (images)', ...x.methods.map(methodLabel)];
  const accuracy = measures.flatMap(([title, get]) => [
    `### ${title}`,
    '',
    ...table(
      header,
      x.fractions.map((f) => [fractionLabel(f), ...x.methods.map((m) => cell(of(f, m).map(get), n))]),
    ),
    '',
  ]);
  // Each other method − fine-tuning on the same fraction and seed: the same validation images and training subset.
  const others = x.methods.filter((m) => m !== 'finetune');
  const paired = measures.flatMap(([title, get]) => [
    `### ${title}`,
    '',
    ...table(
      ['training fraction', ...others.map((m) => `${methodLabel(m)} − fine-tuning`)],
      x.fractions.map((f) => [
        fractionLabel(f),
        ...others.map((m) =>
          pairedCell(
            of(f, m).flatMap((r) => {
              const base = runs.find((b) => b.method === 'finetune' && b.fraction === f && b.seed === r.seed);
              return base ? [get(r) - get(base)] : [];
            }),
          ),
        ),
      ]),
    ),
    '',
  ]);
  const unconverged = runs.filter((r) => !r.converged);
  const first = runs[0];
  const pretrained = Object.entries(x.pretrained)
    .map(([k, a]) => `${k} ${pct(a)} %`)
    .join(', ');
  return [
    '# Few-shot transfer from MNIST to the OpenCV digits: StochCA against fine-tuning',
    '',
    `Every run starts from ${s.model} (sha256 ${s.modelSha256.slice(0, 16)}…; before fine-tuning: ${pretrained}) ` +
      'and is scored with its best-validation checkpoint. ' +
      `Target: the OpenCV test split (${first?.counts.test ?? '?'} digits drawn once, seed ${x.testSeed}); unseen: the UCI 8×8 digits; ` +
      `source: the first ${s.sourcePerClass} test images of each MNIST class (${10 * s.sourcePerClass}). Validation: ${first?.counts.val ?? '?'} ` +
      `images (${s.valFraction} of each class of the OpenCV training split, drawn with the run's seed), the fraction then taken of the rest. ` +
      `Mean ± std over seeds ${x.seeds.join(', ')} (n = ${n}; std with n − 1), in %.`,
    '',
    '## Accuracy (%)',
    '',
    ...accuracy,
    '## StochCA − fine-tuning, paired by seed (points; how many seeds are above 0)',
    '',
    ...paired,
    '## Convergence',
    '',
    `A run has converged when its best validation accuracy over the last third of its evaluations is at most ${pct(x.flat)} points above ` +
      `the best before them. ${runs.length - unconverged.length} of ${runs.length} runs meet it` +
      (unconverged.length ? `; not: ${unconverged.map((r) => r.id).join(', ')}.` : '.'),
    '',
    '## Settings',
    '',
    `- every run: ${s.steps} steps, batch ${s.batch}, peak learning rate ${s.lr}, validation every ${s.evalEvery} steps; ` +
      `the CLI's defaults otherwise (AdamW weight decay 0.05, warm-up a tenth of the steps then cosine); crop ${s.crop}, no flip`,
    `- a run (the first): \`node bin/stochca.mjs ${first?.command.join(' ') ?? ''}\`, then \`node bin/stochca.mjs eval --model RUN/best.safetensors ` +
      '--data uci-digits.zip --data mnist-test.zip --json`',
    `- the grid: \`npx tsx scripts/transfer-grid.ts ${x.argv.join(' ')}\``,
    `- adapter: ${first?.adapter ?? '?'}`,
    `- time: ${runs.length} runs, ${runs.reduce((a, r) => a + r.seconds.train + r.seconds.eval, 0)} s in all ` +
      `(${runs.length ? Math.round(mean(runs.map((r) => r.seconds.train))) : 0} s training and ` +
      `${runs.length ? Math.round(mean(runs.map((r) => r.seconds.eval))) : 0} s scoring a run); the last invocation ${x.wallSeconds} s, data included`,
    '',
  ].join('\n');
}
