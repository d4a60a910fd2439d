// Which images train and which validate: a stratified validation split drawn with the run's seed
// when the dataset has no val/ folder, and the per-class training fraction (the paper's 15/30/50/100 %
// sampling rates). Every draw depends only on the seed, the class and the sorted paths of that class,
// so two runs with the same seed and data (StochCA and fine-tuning, say) see exactly the same images,
// whatever order the files arrived in. Fractions of one seed are nested: the 15 % lie inside the 30 %.
import { seededRng, type Rng } from '../nn/rng.ts';
import { compareCodePoints } from './entries.ts';
import type { ImageFolder, Sample } from './layout.ts';

export interface SplitOptions {
  seed: number;
  /** Fraction of each class drawn for validation when there is no val/ folder; 0 draws none. */
  valFraction: number;
  /** Fraction of each class's training images kept, in (0, 1]. */
  trainFraction: number;
}

export interface DatasetSplit {
  /** Each sorted by path. */
  train: Sample[];
  val: Sample[];
  test: Sample[];
  /** True when `val` was drawn from the training images rather than read from a val/ folder. */
  valDrawn: boolean;
}

const byPath = (a: Sample, b: Sample) => compareCodePoints(a.entry.path, b.entry.path) || a.label - b.label;

/** FNV-1a over the text, so each (purpose, class) pair gets a generator of its own. */
function classRng(seed: number, purpose: string, label: number): Rng {
  let h = 0x811c9dc5;
  for (const ch of `${purpose}:${label}`) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193);
  return seededRng((h ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0);
}

/** Each class's samples, sorted by path, then shuffled with that class's generator. */
function shuffledClasses(samples: Sample[], seed: number, purpose: string): Sample[][] {
  const classes = new Map<number, Sample[]>();
  for (const s of [...samples].sort(byPath)) {
    const items = classes.get(s.label);
    if (items) items.push(s);
    else classes.set(s.label, [s]);
  }
  return [...classes.keys()]
    .sort((a, b) => a - b)
    .map((label) => {
      const items = classes.get(label)!;
      const rng = classRng(seed, purpose, label);
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [items[i], items[j]] = [items[j], items[i]];
      }
      return items;
    });
}

// Rounds half up without being fooled by 0.15 * 30 = 4.499999….
const roundCount = (x: number) => Math.round(Number(x.toFixed(9)));

function checkFraction(name: string, f: number, lowOpen: boolean, highOpen: boolean) {
  const ok = Number.isFinite(f) && (lowOpen ? f > 0 : f >= 0) && (highOpen ? f < 1 : f <= 1);
  if (!ok) throw new RangeError(`${name} must be in ${lowOpen ? '(' : '['}0, 1${highOpen ? ')' : ']'}, got ${f}`);
}

/** Validation images per class of n: round(f·n), at least 1 and leaving at least 1 for training
 *  when the class has 2 or more; a class of 1 image stays in training. */
export function valCount(n: number, valFraction: number): number {
  if (n < 2 || valFraction === 0) return 0;
  return Math.min(n - 1, Math.max(1, roundCount(valFraction * n)));
}

/** Training images kept of a class of n: round(f·n), at least 1. */
export function keptCount(n: number, trainFraction: number): number {
  return n === 0 ? 0 : Math.max(1, roundCount(trainFraction * n));
}

/** A stratified split of `samples` into train and val, drawn with the seed. */
export function stratifiedSplit(
  samples: Sample[],
  valFraction: number,
  seed: number,
): { train: Sample[]; val: Sample[] } {
  checkFraction('the validation fraction', valFraction, false, true);
  const train: Sample[] = [];
  const val: Sample[] = [];
  for (const items of shuffledClasses(samples, seed, 'val')) {
    const k = valCount(items.length, valFraction);
    val.push(...items.slice(0, k));
    train.push(...items.slice(k));
  }
  return { train: train.sort(byPath), val: val.sort(byPath) };
}

/** The training images kept at a per-class fraction, chosen with the seed. */
export function sampleFraction(samples: Sample[], trainFraction: number, seed: number): Sample[] {
  checkFraction('the training fraction', trainFraction, true, false);
  return shuffledClasses(samples, seed, 'fraction')
    .flatMap((items) => items.slice(0, keptCount(items.length, trainFraction)))
    .sort(byPath);
}

/** The images each split of a run uses: the val/ folder when it has images, else a drawn split,
 *  then the training fraction. */
export function splitDataset(folder: ImageFolder, options: SplitOptions): DatasetSplit {
  const valDrawn = folder.val.length === 0 && options.valFraction > 0;
  const { train, val } = valDrawn
    ? stratifiedSplit(folder.train, options.valFraction, options.seed)
    : { train: folder.train, val: folder.val };
  return { train: sampleFraction(train, options.trainFraction, options.seed), val, test: folder.test, valDrawn };
}

/** Images per class: counts[label]. */
export function classCounts(samples: Sample[], numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const s of samples) counts[s.label]++;
  return counts;
}
