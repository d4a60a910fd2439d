// attention forward against a float64 reference; backward against finite differences.
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradClose, finiteDiff } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, sampleIndices } from '../helpers/random.ts';
import { attentionRef, type AttentionRefDims } from '../reference/attention.ts';

interface Case extends AttentionRefDims {
  /** q and kv are one tensor (self-attention); otherwise two (cross-attention). */
  self: boolean;
  /** Multiplies the inputs: 30 makes scores in the thousands, far past where exp overflows f32 without the running max. */
  gain?: number;
  /** Backward of a cross case: also dK/dV into a separate dkv. */
  dkv?: boolean;
  tol?: number;
}

const forward: Case[] = [
  { B: 1, N: 1, H: 1, hd: 16, self: false },
  { B: 2, N: 7, H: 3, hd: 16, self: true },
  { B: 2, N: 33, H: 2, hd: 64, self: false },
  { B: 1, N: 197, H: 3, hd: 16, self: true },
  { B: 1, N: 785, H: 2, hd: 64, self: false },
  { B: 1, N: 30, H: 2, hd: 80, self: true },
  // Scores near 3000: f32 rounding of the scores, ~1e-4 in each exponent, sets the tolerance.
  { B: 2, N: 40, H: 2, hd: 64, self: false, gain: 30, tol: 1e-4 },
];

// The class token's row of the probabilities. hd 20 (5 vec4s) and 80 (ViT-H) are not powers of two; N = 197
// (ViT/16 at 224 px) and 785 end on a partial workgroup in both layouts (64 and 8 keys). Scores
// are formed as the forward forms them, so even scores near 3000 need no looser tolerance.
const classToken: Case[] = [
  { B: 1, N: 1, H: 1, hd: 16, self: true },
  { B: 2, N: 7, H: 3, hd: 20, self: true },
  { B: 2, N: 33, H: 2, hd: 64, self: false },
  { B: 2, N: 197, H: 3, hd: 64, self: true },
  { B: 1, N: 785, H: 2, hd: 80, self: false },
  { B: 2, N: 40, H: 2, hd: 64, self: true, gain: 30 },
];

// hd 16 stages 64 rows per tile, hd 64 stages 32, hd 80 (ViT-H) 25: N = 30, 33 and 197 end on a
// partial tile, 197 also on a partial workgroup (64 rows).
const backward: Case[] = [
  { B: 2, N: 7, H: 2, hd: 16, self: false },
  { B: 1, N: 33, H: 2, hd: 64, self: false, dkv: true },
  { B: 2, N: 7, H: 2, hd: 16, self: true },
  { B: 1, N: 33, H: 1, hd: 64, self: true },
  { B: 1, N: 197, H: 2, hd: 16, self: true },
  { B: 1, N: 30, H: 1, hd: 80, self: false, dkv: true },
  { B: 1, N: 9, H: 2, hd: 16, self: true, gain: 30, tol: 3e-4 },
];

function name(c: Case): string {
  const kind = c.self ? 'self' : c.dkv ? 'cross, dq and dkv' : 'cross';
  return `B=${c.B} N=${c.N} H=${c.H} hd=${c.hd} ${kind}${c.gain ? ` ×${c.gain}` : ''}`;
}

function inputs(c: Case, seed: number): { q: Float64Array; kv: Float64Array } {
  const n = c.B * c.N * 3 * c.H * c.hd;
  const q = normal(n, seed, c.gain ?? 1);
  return { q, kv: c.self ? q : normal(n, seed + 1, c.gain ?? 1) };
}

/** Flat indices of a [B, N, 3D] tensor whose channel lies in one of the given thirds (0 q, 1 k, 2 v). */
function channels(c: Case, thirds: readonly number[]): number[] {
  const D = c.H * c.hd;
  const out: number[] = [];
  for (let i = 0; i < c.B * c.N * 3 * D; i++) if (thirds.includes(Math.floor((i % (3 * D)) / D))) out.push(i);
  return out;
}

describe('attention forward', () => {
  for (const c of forward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { q, kv } = inputs(c, 1);
      const out = await page.evaluate(
        async ({ q, kv, c }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const shape = [c.B, c.N, 3 * c.H * c.hd];
          const tq = up(q, shape);
          const tkv = c.self ? tq : up(kv, shape);
          const o = empty([c.B, c.N, c.H * c.hd]);
          const lse = empty([c.B, c.H, c.N]);
          ops.attention(gpu, tq, tkv, o, lse, c.H);
          return { o: await down(o), lse: await down(lse) };
        },
        { q: [...q], kv: [...kv], c },
      );
      const ref = attentionRef(q, kv, c);
      expect(out.o.every(Number.isFinite) && out.lse.every(Number.isFinite), 'finite').toBe(true);
      expectClose(out.o, ref.o, c.tol ?? 1e-5, `${name(c)} out`);
      expectClose(out.lse, ref.lse, 1e-5, `${name(c)} lse`);
    });
  }
});

describe('class token attention', () => {
  for (const c of classToken) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { q, kv } = inputs(c, 3);
      const probs = await page.evaluate(
        async ({ q, kv, c }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const shape = [c.B, c.N, 3 * c.H * c.hd];
          const tq = up(q, shape);
          const tkv = c.self ? tq : up(kv, shape);
          const lse = empty([c.B, c.H, c.N]);
          ops.attention(gpu, tq, tkv, empty([c.B, c.N, c.H * c.hd]), lse, c.H);
          const probs = empty([c.B, c.H, c.N]);
          ops.classTokenAttention(gpu, tq, tkv, lse, probs, c.H);
          return down(probs);
        },
        { q: [...q], kv: [...kv], c },
      );
      expect(probs.every(Number.isFinite), 'finite').toBe(true);
      expectClose(probs, attentionRef(q, kv, c).cls, c.tol ?? 1e-5, `${name(c)} probs`);
    });
  }
});

describe('attention backward', () => {
  for (const c of backward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { q, kv } = inputs(c, 2);
      const dout = normal(c.B * c.N * c.H * c.hd, 4);
      // Gradient tensors start with noise: channels a kernel does not own must keep it.
      const start = Float32Array.from(normal(q.length, 5));
      const g = await page.evaluate(
        async ({ q, kv, dout, start, c }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const shape = [c.B, c.N, 3 * c.H * c.hd];
          const tq = up(q, shape);
          const tkv = c.self ? tq : up(kv, shape);
          const o = empty([c.B, c.N, c.H * c.hd]);
          const lse = empty([c.B, c.H, c.N]);
          ops.attention(gpu, tq, tkv, o, lse, c.H);
          const dq = up(start, shape);
          const dkv = c.self ? dq : c.dkv ? up(start, shape) : undefined;
          ops.attentionBackward(gpu, tq, tkv, o, lse, up(dout, o.shape), dq, dkv, c.H);
          return { dq: await down(dq), dkv: dkv && !c.self ? await down(dkv) : [] };
        },
        { q: [...q], kv: [...kv], dout: [...dout], start: [...start], c },
      );

      const tol = c.tol ?? 1e-4;
      const check = (
        grad: number[],
        f: (x: Float64Array[]) => Float64Array,
        x: Float64Array[],
        which: number,
        owned: number[],
        what: string,
      ) => {
        const idx = sampleIndices(owned.length, 48, 10 + which).map((k) => owned[k]);
        expect(grad.every(Number.isFinite), `${what} finite`).toBe(true);
        expectGradClose(grad, finiteDiff(f, x, which, dout, idx), idx, tol, `${name(c)} ${what}`);
      };
      const untouched = (grad: number[], thirds: number[], what: string) => {
        const bad = channels(c, thirds).find((i) => grad[i] !== start[i]);
        expect(bad, `${what}: channel of flat index ${bad} was overwritten`).toBeUndefined();
      };

      if (c.self) {
        const f = ([x]: Float64Array[]) => attentionRef(x, x, c).o;
        check(g.dq, f, [q], 0, channels(c, [0, 1, 2]), 'dqkv');
        return;
      }
      const f = ([x, y]: Float64Array[]) => attentionRef(x, y, c).o;
      check(g.dq, f, [q, kv], 0, channels(c, [0]), 'dq');
      untouched(g.dq, [1, 2], 'dq');
      if (c.dkv) {
        check(g.dkv, f, [q, kv], 1, channels(c, [1, 2]), 'dkv');
        untouched(g.dkv, [0], 'dkv');
      }
    });
  }
});

describe('attention shape checks', () => {
  it('refuses mismatched q and kv, an unsupported head size and a misshapen output, before dispatching', async () => {
    const page = await harnessPage();
    const messages = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      const attempt = (fn: () => void) => {
        try {
          fn();
          return 'no error';
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      };
      const q = { ...empty([2, 5, 96]), label: 'q' };
      return [
        attempt(() =>
          ops.attention(gpu, q, { ...empty([2, 6, 96]), label: 'kv' }, empty([2, 5, 32]), empty([2, 2, 5]), 2),
        ),
        attempt(() => ops.attention(gpu, q, q, empty([2, 5, 32]), empty([2, 2, 5]), 16)),
        attempt(() => ops.classTokenAttention(gpu, q, q, empty([2, 2, 5]), { ...empty([2, 5, 5]), label: 'probs' }, 2)),
      ];
    });
    expect(messages).toEqual([
      'ShapeError: attention q[2x5x96]·kv[2x6x96] heads=2: kv must be [2x5x96], got kv[2x6x96]',
      'ShapeError: attention q[2x5x96]·q[2x5x96] heads=16: head size 2 (96 channels / 3 / 16 heads) must be a multiple of 4 and at most 128',
      'ShapeError: classTokenAttention q[2x5x96]·q[2x5x96] heads=2: probs must be [2x2x5], got probs[2x5x5]',
    ]);
  });
});
