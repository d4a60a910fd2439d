// A seeded pseudo-random generator (mulberry32) and a hash of words that gives each purpose its own
// seed: the same seed gives the same masks, splits, shuffles and initialisation on every machine.

export type Rng = () => number;

export function seededRng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An FNV-1a-style hash of 32-bit words, so each (seed, epoch, position, purpose) has a generator of its own. */
export function mix(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}
