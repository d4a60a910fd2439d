// Class token + position embedding (with and without register tokens), and class-token gathering,
// against float64 references; their backward passes against finite differences.
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradClose, finiteDiff } from '../helpers/compare.ts';
import { harnessPage } from '../helpers/browser.ts';
import { normal, sampleIndices } from '../helpers/random.ts';
import { embedTokensParamGradsRef, embedTokensRef, gatherClassTokenRef } from '../reference/tokens.ts';

interface Case {
  B: number;
  P: number;
  D: number;
}

// N = P + 1 = 1, 7, 33, 197, 785 tokens.
const forward: Case[] = [
  { B: 2, P: 0, D: 5 },
  { B: 3, P: 6, D: 13 },
  { B: 1, P: 32, D: 33 },
  { B: 2, P: 196, D: 17 },
  { B: 1, P: 784, D: 9 },
];

const backward: Case[] = [
  { B: 3, P: 0, D: 7 },
  { B: 2, P: 6, D: 5 },
  { B: 3, P: 32, D: 11 },
  { B: 2, P: 196, D: 3 },
];

const name = (c: Case) => `B=${c.B} N=${c.P + 1} D=${c.D}`;

describe('embedTokens forward', () => {
  for (const c of forward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { B, P, D } = c;
      const x = normal(B * P * D, 1);
      const cls = normal(D, 2);
      const pos = normal((P + 1) * D, 3);
      const out = await page.evaluate(
        async ({ x, cls, pos, B, P, D }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const h = empty([B, P + 1, D]);
          ops.embedTokens(gpu, up(x, [B, P, D]), up(cls, [D]), up(pos, [P + 1, D]), h);
          return down(h);
        },
        { x: [...x], cls: [...cls], pos: [...pos], ...c },
      );
      expectClose(out, embedTokensRef(x, cls, pos, B, P, D), 1e-5, name(c));
    });
  }
});

describe('embedTokens backward', () => {
  for (const c of backward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { B, P, D } = c;
      const x = normal(B * P * D, 4);
      const cls = normal(D, 5);
      const pos = normal((P + 1) * D, 6);
      const dh = normal(B * (P + 1) * D, 7);
      const g = await page.evaluate(
        async ({ dh, B, P, D }) => {
          const { gpu, ops, up, down } = window.stochca!;
          // Outputs start as garbage: every element must be written.
          const garbage = (shape: number[]) =>
            up(
              Array.from({ length: shape.reduce((a, b) => a * b) }, () => 1e3),
              shape,
            );
          const dx = garbage([B, P, D]);
          const dcls = garbage([D]);
          const dpos = garbage([P + 1, D]);
          ops.embedTokensBackward(gpu, up(dh, [B, P + 1, D]), dx, dcls, dpos);
          return [await down(dx), await down(dcls), await down(dpos)];
        },
        { dh: [...dh], ...c },
      );
      const f = ([x, cls, pos]: Float64Array[]) => embedTokensRef(x, cls, pos, B, P, D);
      const inputs = [x, cls, pos];
      ['x', 'cls', 'pos'].forEach((what, k) => {
        if (inputs[k].length === 0) return expect(g[k]).toEqual([]);
        const idx = sampleIndices(inputs[k].length, 48, 10 + k);
        expectGradClose(g[k], finiteDiff(f, inputs, k, dh, idx), idx, 1e-4, `${name(c)} d${what}`);
      });
    });
  }
});

// DINOv2's register tokens between the class token and the patches: N = 1 + R + P.
const withRegisters: (Case & { R: number })[] = [
  { B: 2, P: 0, D: 5, R: 4 },
  { B: 3, P: 6, D: 13, R: 1 },
  { B: 2, P: 256, D: 9, R: 4 },
];

describe('embedTokens with registers', () => {
  for (const c of withRegisters) {
    const label = `B=${c.B} R=${c.R} P=${c.P} D=${c.D}`;
    it(`forward ${label}`, async () => {
      const page = await harnessPage();
      const { B, P, D, R } = c;
      const [x, cls, pos, reg] = [normal(B * P * D, 21), normal(D, 22), normal((P + 1) * D, 23), normal(R * D, 24)];
      const out = await page.evaluate(
        async ({ x, cls, pos, reg, B, P, D, R }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const h = empty([B, 1 + R + P, D]);
          ops.embedTokens(gpu, up(x, [B, P, D]), up(cls, [D]), up(pos, [P + 1, D]), h, up(reg, [R, D]));
          return down(h);
        },
        { x: [...x], cls: [...cls], pos: [...pos], reg: [...reg], ...c },
      );
      expectClose(out, embedTokensRef(x, cls, pos, B, P, D, reg), 1e-5, label);
    });

    it(`backward ${label}`, async () => {
      const page = await harnessPage();
      const { B, P, D, R } = c;
      const [x, cls, pos, reg] = [normal(B * P * D, 25), normal(D, 26), normal((P + 1) * D, 27), normal(R * D, 28)];
      const dh = normal(B * (1 + R + P) * D, 29);
      const g = await page.evaluate(
        async ({ dh, B, P, D, R }) => {
          const { gpu, ops, up, down } = window.stochca!;
          const garbage = (shape: number[]) =>
            up(
              Array.from({ length: shape.reduce((a, b) => a * b) }, () => 1e3),
              shape,
            );
          const grads = [garbage([B, P, D]), garbage([D]), garbage([P + 1, D]), garbage([R, D])];
          ops.embedTokensBackward(gpu, up(dh, [B, 1 + R + P, D]), ...grads);
          return Promise.all(grads.map(down));
        },
        { dh: [...dh], ...c },
      );
      const f = ([x, cls, pos, reg]: Float64Array[]) => embedTokensRef(x, cls, pos, B, P, D, reg);
      const inputs = [x, cls, pos, reg];
      ['x', 'cls', 'pos', 'registers'].forEach((what, k) => {
        if (inputs[k].length === 0) return expect(g[k]).toEqual([]);
        const idx = sampleIndices(inputs[k].length, 48, 30 + k);
        expectGradClose(g[k], finiteDiff(f, inputs, k, dh, idx), idx, 1e-4, `${label} d${what}`);
      });
    });
  }
});

// The class token's, position embedding's and registers' gradients over micro-batches: they hold a previous
// micro-batch's and gain this one's; dx is written.
describe('embedTokens backward accumulating', () => {
  for (const c of [{ ...backward[2], R: 0 }, withRegisters[2]]) {
    const label = `B=${c.B} R=${c.R} P=${c.P} D=${c.D}`;
    it(label, async () => {
      const page = await harnessPage();
      const { B, P, D, R } = c;
      const dh = normal(B * (1 + R + P) * D, 41);
      const before = { dcls: normal(D, 42, 4), dpos: normal((P + 1) * D, 43, 4), dregisters: normal(R * D, 44, 4) };
      const g = await page.evaluate(
        async ({ dh, dcls, dpos, dregisters, B, P, D, R }) => {
          const { gpu, ops, up, down } = window.stochca!;
          const dx = up(new Array(B * P * D).fill(1e3), [B, P, D]);
          const grads = [up(dcls, [D]), up(dpos, [P + 1, D]), ...(R > 0 ? [up(dregisters, [R, D])] : [])];
          ops.embedTokensBackward(gpu, up(dh, [B, 1 + R + P, D]), dx, grads[0], grads[1], grads[2], true);
          return Promise.all([dx, ...grads].map(down));
        },
        { dh: [...dh], dcls: [...before.dcls], dpos: [...before.dpos], dregisters: [...before.dregisters], ...c },
      );
      const want = embedTokensParamGradsRef(dh, B, P, D, R);
      const plus = (x: Float64Array, y: Float64Array) => x.map((v, i) => v + y[i]);
      expectClose(g[1], plus(before.dcls, want.dcls), 1e-5, `${label} dcls`);
      expectClose(g[2], plus(before.dpos, want.dpos), 1e-5, `${label} dpos`);
      if (R > 0) expectClose(g[3], plus(before.dregisters, want.dregisters), 1e-5, `${label} dregisters`);
      const dx = Array.from({ length: B * P * D }, (_, i) => {
        const [b, r] = [Math.floor(i / (P * D)), i % (P * D)];
        return dh[(b * (1 + R + P) + 1 + R) * D + r];
      });
      expect(g[0]).toEqual(dx.map(Math.fround));
    });
  }
});

// timm's register models (VitArch.classPosition false): the class token's position row gets no gradient,
// written or accumulated; the other gradients are the plain backward's.
describe('embedTokens backward without a class position', () => {
  for (const accumulate of [false, true]) {
    const c = withRegisters[2];
    const label = `B=${c.B} R=${c.R} P=${c.P} D=${c.D}${accumulate ? ', accumulating' : ''}`;
    it(label, async () => {
      const page = await harnessPage();
      const { B, P, D, R } = c;
      const dh = normal(B * (1 + R + P) * D, 51);
      const before = { dcls: normal(D, 52, 4), dpos: normal((P + 1) * D, 53, 4), dregisters: normal(R * D, 54, 4) };
      const g = await page.evaluate(
        async ({ dh, dcls, dpos, dregisters, B, P, D, R, accumulate }) => {
          const { gpu, ops, up, down } = window.stochca!;
          const dx = up(new Array(B * P * D).fill(1e3), [B, P, D]);
          const grads = [up(dcls, [D]), up(dpos, [P + 1, D]), up(dregisters, [R, D])] as const;
          ops.embedTokensBackward(gpu, up(dh, [B, 1 + R + P, D]), dx, ...grads, accumulate, false);
          return Promise.all(grads.map(down));
        },
        {
          dh: [...dh],
          dcls: [...before.dcls],
          dpos: [...before.dpos],
          dregisters: [...before.dregisters],
          ...c,
          accumulate,
        },
      );
      const want = embedTokensParamGradsRef(dh, B, P, D, R);
      want.dpos.fill(0, 0, D);
      const held = (x: Float64Array, y: Float64Array) => (accumulate ? x.map((v, i) => v + y[i]) : y);
      expectClose(g[0], held(before.dcls, want.dcls), 1e-5, `${label} dcls`);
      expectClose(g[1], held(before.dpos, want.dpos), 1e-5, `${label} dpos`);
      expectClose(g[2], held(before.dregisters, want.dregisters), 1e-5, `${label} dregisters`);
      expect(g[1].slice(0, D)).toEqual(
        accumulate ? [...before.dpos.slice(0, D)].map(Math.fround) : new Array(D).fill(0),
      );
    });
  }
});

describe('gatherClassToken forward', () => {
  for (const c of forward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { B, D } = c;
      const N = c.P + 1;
      const h = normal(B * N * D, 8);
      const out = await page.evaluate(
        async ({ h, B, N, D }) => {
          const { gpu, ops, up, empty, down } = window.stochca!;
          const y = empty([B, D]);
          ops.gatherClassToken(gpu, up(h, [B, N, D]), y);
          return down(y);
        },
        { h: [...h], B, N, D },
      );
      expectClose(out, gatherClassTokenRef(h, B, N, D), 1e-5, name(c));
    });
  }
});

describe('gatherClassToken backward', () => {
  for (const c of backward) {
    it(name(c), async () => {
      const page = await harnessPage();
      const { B, D } = c;
      const N = c.P + 1;
      const h = normal(B * N * D, 9);
      const dy = normal(B * D, 10);
      const dh = await page.evaluate(
        async ({ dy, B, N, D }) => {
          const { gpu, ops, up, down } = window.stochca!;
          const dh = up(
            Array.from({ length: B * N * D }, () => 1e3),
            [B, N, D],
          );
          ops.gatherClassTokenBackward(gpu, up(dy, [B, D]), dh);
          return down(dh);
        },
        { dy: [...dy], B, N, D },
      );
      const f = ([h]: Float64Array[]) => gatherClassTokenRef(h, B, N, D);
      // Sample the class-token rows and the rest alike: the rest must be exactly zero.
      const idx = sampleIndices(h.length, 64, 11);
      expectGradClose(dh, finiteDiff(f, [h], 0, dy, idx), idx, 1e-4, `${name(c)} dh`);
      dh.forEach((v, i) => {
        if (i % (N * D) >= D) expect(v, `dh[${i}]`).toBe(0);
      });
    });
  }
});

describe('tokens shape checks', () => {
  it('refuses a position embedding for another token count', async () => {
    const page = await harnessPage();
    const message = await page.evaluate(() => {
      const { gpu, ops, empty } = window.stochca!;
      try {
        ops.embedTokens(
          gpu,
          { ...empty([2, 196, 8]), label: 'x' },
          empty([8]),
          { ...empty([50, 8]), label: 'pos' },
          empty([2, 197, 8]),
        );
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(message).toBe('ShapeError: embedTokens x[2x196x8]: pos must be [197x8], got pos[50x8]');
  });
});
