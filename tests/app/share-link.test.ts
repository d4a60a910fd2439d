// Share links: the hash written out by hand, round trips of every field and reference kind, every bad
// value falling back to its default with a notice, hostile links (script-looking values, prototype
// keys, huge numbers, broken or oversized results, a deflate bomb, a setting repeated 250,000 times, a
// 2 MB hash) changing nothing else and raising few notices, results within 4 significant digits, and
// downsample's endpoints and spread.
import { deflateSync, inflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { defaultExperiment, type Experiment } from '../../src/train/settings.ts';
import {
  downsample,
  experimentFromHash,
  experimentToHash,
  MAX_CURVE_POINTS,
  type CurvePoint,
  type SharedResults,
} from '../../src/app/share-link.ts';
import { seededRng } from '../../src/nn/rng.ts';
import { builtinModel } from '../../src/train/builtins.ts';
import { measured } from '../helpers/measure.ts';

const SHA = '0123456789abcdef'.repeat(4);
const DEFAULT_HASH =
  '#v=1&model=builtin:vit-mnist&data=pack:opencv-digits&method=stochca&p=0.1&lr=0.001&batch=16&steps=200' +
  '&warmup=20&wd=0.05&wdx=false&clip=0&size=0&frac=1&val=0.1&every=20&crop=random&flip=false&seed=0&seeds=3';

/** Results as the page would send them, the way Node's Buffer and fflate spell them (independent of
 *  the module's own base64url). */
const packJson = (json: unknown) =>
  Buffer.from(deflateSync(new TextEncoder().encode(JSON.stringify(json)))).toString('base64url');
const withR = (r: string) => `${DEFAULT_HASH}&r=${r}`;

describe('experimentToHash', () => {
  it('writes the defaults as readable key=value pairs, version first', () => {
    expect(experimentToHash(defaultExperiment())).toBe(DEFAULT_HASH);
  });

  it('keeps references readable and escapes what would break the hash', () => {
    const e: Experiment = {
      ...defaultExperiment(),
      model: { kind: 'url', url: 'https://example.com/vit.safetensors?a=1&b=2#c' },
      data: { kind: 'local', name: 'my photos & 100%.zip', size: 2048, count: 12, sha256: SHA },
    };
    const hash = experimentToHash(e);
    expect(hash).toContain('&model=url:https://example.com/vit.safetensors%3Fa%3D1%26b%3D2%23c&');
    expect(hash).toContain(`&data=local:my%20photos%20%26%20100%25.zip:2048:12:${SHA}&`);
    expect(hash.slice(1)).not.toContain('#');
  });

  it('refuses an invalid experiment, saying what is wrong', () => {
    expect(() => experimentToHash({ ...defaultExperiment(), p: 2, steps: 10 })).toThrow(
      'This experiment cannot be shared until it is valid: p must be between 0 and 1; warmup must be at most steps (10); ' +
        'evaluation interval must be at most steps (10).',
    );
  });
});

describe('experimentFromHash round trips', () => {
  const models: Experiment['model'][] = [
    { kind: 'builtin', id: 'vit-fmnist' },
    { kind: 'file', name: 'ViT-B 16 «fine»: 日本語 🐱 #1 & 50%=ok?.safetensors', size: 343_000_000, sha256: SHA },
    { kind: 'url', url: 'https://huggingface.co/x/resolve/main/model.safetensors?download=true' },
    { kind: 'hub', repo: 'facebook/deit-tiny-patch16-224' },
  ];
  const datas: Experiment['data'][] = [
    { kind: 'pack', id: 'fashion-mnist' },
    {
      kind: 'local',
      name: 'données: été/hiver'.replace('/', '-') + ' 🌸.zip',
      size: 9_007_199_254_740_991,
      count: 1,
      sha256: SHA,
    },
    { kind: 'url', url: 'http://192.168.1.2:8000/flowers.zip' },
  ];
  const others: Omit<Experiment, 'model' | 'data'> = {
    method: 'finetune',
    p: 0.375,
    lr: 3e-5,
    batch: 512,
    steps: 100_000,
    warmup: 100_000,
    weightDecay: 0,
    wdExempt: true,
    clip: 2.5,
    imageSize: 224,
    fraction: 0.15,
    valFraction: 0.9,
    evalEvery: 7,
    crop: 'random-resized',
    flip: true,
    seed: 2 ** 31 - 1,
    seeds: 5,
  };

  it('every field, every model and data kind, unicode names', () => {
    for (const model of models) {
      for (const data of datas) {
        const e: Experiment = { model, data, ...others };
        expect(experimentFromHash(experimentToHash(e))).toStrictEqual({ experiment: e, notices: [] });
      }
    }
  });

  it('each field alone differs from the default and comes back', () => {
    for (const [key, value] of Object.entries(others)) {
      const e = { ...defaultExperiment(), [key]: value, steps: 100_000 } as Experiment;
      expect(experimentFromHash(experimentToHash(e)).experiment).toStrictEqual(e);
    }
  });

  it('reads the hash with or without #, in any order, with unencoded unicode as pasted', () => {
    const e = experimentFromHash(`seed=7&data=local:été 🌸.zip:10:2:${SHA}&v=1&p=0.5`);
    expect(e.notices).toStrictEqual([]);
    expect(e.experiment).toStrictEqual({
      ...defaultExperiment(),
      seed: 7,
      p: 0.5,
      data: { kind: 'local', name: 'été 🌸.zip', size: 10, count: 2, sha256: SHA },
    });
  });

  it('an empty hash, or one with only the version, is the defaults without a notice', () => {
    for (const hash of ['', '#', '#v=1', '#v=1&&']) {
      expect(experimentFromHash(hash)).toStrictEqual({ experiment: defaultExperiment(), notices: [] });
    }
  });
});

describe('bad values fall back to their default with a notice', () => {
  /** [hash name, field, bad value as written in the link, its default as the notice writes it] */
  const cases: [string, keyof Experiment, string, string][] = [
    ['model', 'model', 'url:javascript:alert(document.cookie)', 'builtin:vit-mnist'],
    ['model', 'model', 'builtin:%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'builtin:vit-mnist'],
    ['data', 'data', 'url:data:text/html,%3Cscript%3E', 'pack:opencv-digits'],
    ['data', 'data', `local:x.zip:1:1:${'z'.repeat(64)}`, 'pack:opencv-digits'],
    ['method', 'method', 'eval', 'stochca'],
    ['p', 'p', 'NaN', '0.1'],
    ['p', 'p', '1e999', '0.1'],
    ['lr', 'lr', '-0.001', '0.001'],
    ['batch', 'batch', '99999999999999999999999', '16'],
    ['steps', 'steps', '1.5', '200'],
    ['warmup', 'warmup', '-3', '20'],
    ['wd', 'weightDecay', 'Infinity', '0.05'],
    ['size', 'imageSize', '4', '0'],
    ['frac', 'fraction', '0', '1'],
    ['val', 'valFraction', '0.95', '0.1'],
    ['every', 'evalEvery', '0', '20'],
    ['crop', 'crop', 'constructor', 'random'],
    ['flip', 'flip', '1', 'false'],
    ['seed', 'seed', '0x10', '0'],
    ['seed', 'seed', '', '0'],
    ['seeds', 'seeds', '0', '3'],
    ['seeds', 'seeds', '6', '3'],
  ];

  for (const [hashName, key, bad, shown] of cases) {
    it(`${hashName}=${bad.slice(0, 40)}`, () => {
      // One valid setting beside the bad one, which must still be read.
      const valid = hashName === 'seed' ? { p: 0.5 } : { seed: 5 };
      const [[validName, validValue]] = Object.entries(valid);
      const { experiment, results, notices } = experimentFromHash(`#v=1&${hashName}=${bad}&${validName}=${validValue}`);
      expect(experiment).toStrictEqual({ ...defaultExperiment(), ...valid });
      expect(experiment[key]).toStrictEqual(defaultExperiment()[key]);
      expect(results).toBeUndefined();
      expect(notices).toHaveLength(1);
      const quoted = JSON.stringify(decodeURIComponent(bad)).slice(0, 30);
      expect(notices[0]).toMatch(/^The link's \S+ was not used: .+\. Using the default, .+\.$/);
      expect(notices[0]).toContain(`The link's ${hashName}=${quoted}`);
      expect(notices[0]).toContain(`Using the default, ${shown}.`);
    });
  }

  it('a long value is cut short in the notice', () => {
    const { notices } = experimentFromHash(`#v=1&model=url:https://example.com/${'a'.repeat(100_000)}`);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`"${`url:https://example.com/${'a'.repeat(100)}`.slice(0, 40)}…"`);
    expect(notices[0].length).toBeLessThan(250);
  });

  it('a value that would be invisible or reverse the text is shown escaped', () => {
    const { notices } = experimentFromHash('#v=1&crop=%E2%80%AEnone%00');
    expect(notices[0]).toContain('crop="\\u202enone\\u0000" was not used');
  });

  it('warmup or evaluation interval beyond steps: the default for those steps, with a notice', () => {
    const a = experimentFromHash('#v=1&steps=100&warmup=200&every=150');
    expect(a.experiment).toStrictEqual({ ...defaultExperiment(), steps: 100, warmup: 10, evalEvery: 10 });
    expect(a.notices).toStrictEqual([
      "The link's warmup=200 was not used: warmup must be at most steps (100). Using 10.",
      "The link's every=150 was not used: evaluation interval must be at most steps (100). Using 10.",
    ]);
  });

  it('warmup and evaluation interval the link does not give follow its steps, as on the command line', () => {
    const b = experimentFromHash('#v=1&steps=10');
    expect(b.experiment).toStrictEqual({ ...defaultExperiment(), steps: 10, warmup: 1, evalEvery: 1 });
    expect(b.notices).toStrictEqual([]);
    const c = experimentFromHash('#v=1&steps=10&warmup=x');
    expect(c.experiment.warmup).toBe(1);
    expect(c.notices).toStrictEqual([
      'The link\'s warmup="x" was not used: warmup must be a whole number from 0 to 100000. Using the default, 1.',
    ]);
  });

  it('an unknown or missing version: the defaults and a notice, nothing else read', () => {
    const newer = experimentFromHash('#v=2&p=0.5&seed=3');
    expect(newer.experiment).toStrictEqual(defaultExperiment());
    expect(newer.notices).toStrictEqual([
      'The link is of version "2", which this page does not read, so none of its settings were used; the defaults are shown.',
    ]);
    const none = experimentFromHash('#p=0.5');
    expect(none.experiment).toStrictEqual(defaultExperiment());
    expect(none.notices).toStrictEqual([
      'The link does not say its version (v=1), so none of its settings were used; the defaults are shown.',
    ]);
  });
});

describe('hostile links change nothing else', () => {
  it('unknown and prototype keys are ignored with one notice; the object prototype is untouched', () => {
    const hash =
      '#v=1&__proto__=x&__proto__[polluted]=1&constructor=y&prototype=z&toString=1&hasOwnProperty=2' +
      '&%E0%A4%A=bad&p=0.2&onload=alert(1)';
    const { experiment, results, notices } = experimentFromHash(hash);
    expect(experiment).toStrictEqual({ ...defaultExperiment(), p: 0.2 });
    expect(results).toBeUndefined();
    expect(notices).toStrictEqual([
      'The link has settings this page does not know, which were ignored: "__proto__", "__proto__[polluted]", "constructor", ' +
        '"prototype", "toString" and 3 more.',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(experiment)).toBe(Object.prototype);
    expect(Object.keys(experiment).sort()).toStrictEqual(Object.keys(defaultExperiment()).sort());
  });

  it('a setting given twice keeps the first, with a notice; broken %-encoding is refused', () => {
    const a = experimentFromHash('#v=1&p=0.2&p=0.9');
    expect(a.experiment.p).toBe(0.2);
    expect(a.notices).toStrictEqual(['The link gives p more than once; the first value was used.']);
    const b = experimentFromHash('#v=1&p=%E0%A4%A&seed=4');
    expect(b.experiment).toStrictEqual({ ...defaultExperiment(), seed: 4 });
    expect(b.notices).toStrictEqual(['The link\'s p has broken %-encoding ("p=%E0%A4%A"); it was not used.']);
  });

  it('100,000 unknown keys make one notice', () => {
    const { notices } = experimentFromHash(`#v=1&${Array.from({ length: 100_000 }, (_, i) => `k${i}=1`).join('&')}`);
    expect(notices).toStrictEqual([
      'The link has settings this page does not know, which were ignored: "k0", "k1", "k2", "k3", "k4" and 99995 more.',
    ]);
  });

  it('a setting repeated 250,000 times (a 1 MB link) makes one notice, in linear time', async () => {
    const hash = `#${Array(250_000).fill('v=1').join('&')}`;
    const { ms, mb, result } = await measured(() => experimentFromHash(hash));
    console.log(
      `a link repeating v=1 250,000 times (${(hash.length / 1e6).toFixed(1)} MB): read in ${ms.toFixed(0)} ms, memory +${mb.toFixed(1)} MB`,
    );
    expect(result.experiment).toStrictEqual(defaultExperiment());
    expect(result.notices).toStrictEqual(['The link gives v more than once; the first value was used.']);
    expect(ms).toBeLessThan(2000);
    expect(mb).toBeLessThan(100);
  });

  it('each setting broken or repeated is noticed once, and at most 10 notices then how many more', () => {
    const keys = ['p', 'lr', 'batch', 'steps', 'wd', 'frac', 'val', 'seed', 'crop', 'flip', 'size', 'clip'];
    const pairs = keys.flatMap((k) => [`${k}=%ZZ`, `${k}=%ZZ2`]);
    const { notices } = experimentFromHash(`#v=1&${Array(1000).fill(pairs.join('&')).join('&')}`);
    expect(notices).toHaveLength(11);
    expect(notices[0]).toBe('The link\'s p has broken %-encoding ("p=%ZZ"); it was not used.');
    expect(notices[9]).toBe('The link\'s flip has broken %-encoding ("flip=%ZZ"); it was not used.');
    expect(notices[10]).toBe('…and 2 more notices about this link.');
  });

  it('a link longer than any this page writes is not read: one notice, the defaults', async () => {
    const hash = `#v=1&p=0.5&${'x'.repeat(2_000_000)}`;
    const { ms, result } = await measured(() => experimentFromHash(hash));
    console.log(`a 2 MB link: refused in ${ms.toFixed(1)} ms`);
    expect(result.experiment).toStrictEqual(defaultExperiment());
    expect(result.notices).toStrictEqual([
      'The link is 2,000,010 characters long, more than the 1,016,384 this page reads, so none of its settings were used; the defaults are shown.',
    ]);
    expect(ms).toBeLessThan(100);
  });

  it('a built-in model or pack named after an Object property passes the link, to be refused by name when loaded', () => {
    const { experiment, notices } = experimentFromHash('#v=1&model=builtin:constructor&data=pack:constructor');
    expect(notices).toStrictEqual([]);
    expect(experiment.model).toStrictEqual({ kind: 'builtin', id: 'constructor' });
    expect(experiment.data).toStrictEqual({ kind: 'pack', id: 'constructor' });
    expect(builtinModel('constructor')).toBeUndefined();
    expect(builtinModel('toString')).toBeUndefined();
    expect(builtinModel('vit-fmnist')).toBeDefined();
  });
});

/** A run with `n` training points and n/10 validation points, noisy, seeded. */
function run(label: string, n: number, seed: number): SharedResults['runs'][number] {
  const r = seededRng(seed);
  const train: CurvePoint[] = Array.from({ length: n }, (_, i) => [
    i + 1,
    2.3 * Math.exp(-i / 300) + 0.1 * r(),
    Math.min(1, i / n + 0.05 * r()),
  ]);
  const val: CurvePoint[] = Array.from({ length: Math.ceil(n / 10) }, (_, i) => [(i + 1) * 10, 1 + r(), r()]);
  return {
    label,
    method: seed % 2 ? 'finetune' : 'stochca',
    p: seed % 2 ? 0 : 0.1,
    seed,
    summary: { bestValAccuracy: r(), bestStep: 10 * seed, finalAccuracy: r(), seconds: 100 * r() + 1 },
    curves: { train, val },
  };
}

/** Each number within 4 significant digits of the original (relative error ≤ 5e-4). */
function expectRounded(got: number, want: number) {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(5e-4 * Math.abs(want) + 1e-300);
}

describe('results', () => {
  const results: SharedResults = {
    runs: [run('StochCA p=0.1 « 🐱 »', 1000, 2), run('fine-tuning', 150, 3), run('tiny', 1, 4)],
  };

  it('round-trip within 4 significant digits, curves downsampled keeping their ends', () => {
    const hash = experimentToHash(defaultExperiment(), results);
    const r = new URLSearchParams(hash.slice(1)).get('r')!;
    console.log(`three runs (1000, 150 and 1 training points) in r: ${r.length} characters`);
    const opened = experimentFromHash(hash);
    expect(opened.notices).toStrictEqual([]);
    expect(opened.experiment).toStrictEqual(defaultExperiment());
    const got = opened.results!.runs;
    expect(got).toHaveLength(3);
    for (const [i, want] of results.runs.entries()) {
      const { label, method, p, seed, summary, curves } = got[i];
      expect({ label, method, p, seed, bestStep: summary.bestStep }).toStrictEqual({
        label: want.label,
        method: want.method,
        p: want.p,
        seed: want.seed,
        bestStep: want.summary.bestStep,
      });
      expectRounded(summary.bestValAccuracy, want.summary.bestValAccuracy);
      expectRounded(summary.finalAccuracy, want.summary.finalAccuracy);
      expectRounded(summary.seconds, want.summary.seconds);
      for (const split of ['train', 'val'] as const) {
        const kept = downsample(want.curves[split], MAX_CURVE_POINTS);
        expect(curves[split]).toHaveLength(kept.length);
        expect(curves[split].length).toBeLessThanOrEqual(MAX_CURVE_POINTS);
        expect(curves[split][0][0]).toBe(want.curves[split][0][0]);
        expect(curves[split].at(-1)![0]).toBe(want.curves[split].at(-1)![0]);
        curves[split].forEach(([step, loss, acc], j) => {
          expect(step).toBe(kept[j][0]);
          expectRounded(loss, kept[j][1]);
          expectRounded(acc, kept[j][2]);
        });
      }
    }
  });

  it('r is JSON, raw DEFLATE, base64url, readable with other tools', () => {
    const r = new URLSearchParams(experimentToHash(defaultExperiment(), results).slice(1)).get('r')!;
    expect(r).toMatch(/^[A-Za-z0-9_-]+$/);
    const json = JSON.parse(new TextDecoder().decode(inflateSync(Buffer.from(r, 'base64url'))));
    expect(json.runs[0].label).toBe(results.runs[0].label);
    expect(json.runs[0].curves.train[1][1]).toBe(Number(results.runs[0].curves.train[5][1].toPrecision(4)));
  });

  it('points with a non-finite loss are left out; a non-finite summary cannot be shared', () => {
    const diverged = run('diverged', 10, 5);
    diverged.curves.train[4][1] = NaN;
    diverged.curves.train[9][1] = Infinity;
    const got = experimentFromHash(experimentToHash(defaultExperiment(), { runs: [diverged] })).results!;
    expect(got.runs[0].curves.train.map((pt) => pt[0])).toStrictEqual([1, 2, 3, 4, 6, 7, 8, 9]);
    const unevaluated = { ...diverged, summary: { ...diverged.summary, bestValAccuracy: NaN } };
    expect(() => experimentToHash(defaultExperiment(), { runs: [unevaluated] })).toThrow(
      'These results cannot be shared: run 1: summary must hold accuracies from 0 to 1, a best step and seconds.',
    );
  });

  const good = JSON.parse(JSON.stringify({ runs: [run('ok', 20, 6)] }));
  const broken: [string, unknown, string][] = [
    ['no runs', { runs: [] }, 'results must hold 1 to 32 runs'],
    ['too many runs', { runs: Array(33).fill(good.runs[0]) }, 'results must hold 1 to 32 runs'],
    ['not an object', [1, 2, 3], 'results must hold 1 to 32 runs'],
    [
      'a string point',
      { runs: [{ ...good.runs[0], curves: { train: [['1', 0.5, 0.5]], val: [] } }] },
      'run 1: curves must be',
    ],
    [
      'a 4-number point',
      { runs: [{ ...good.runs[0], curves: { train: [[1, 0.5, 0.5, 9]], val: [] } }] },
      'run 1: curves must be',
    ],
    [
      '201 points',
      { runs: [{ ...good.runs[0], curves: { train: Array(201).fill([1, 1, 0.5]), val: [] } }] },
      'run 1: curves must be',
    ],
    ['accuracy 2', { runs: [{ ...good.runs[0], curves: { train: [[1, 1, 2]], val: [] } }] }, 'run 1: curves must be'],
    [
      'null loss (NaN in JSON)',
      { runs: [{ ...good.runs[0], curves: { train: [[1, null, 0.5]], val: [] } }] },
      'run 1: curves must be',
    ],
    ['missing val', { runs: [{ ...good.runs[0], curves: { train: [] } }] }, 'run 1: curves must be'],
    ['p 7', { runs: [{ ...good.runs[0], p: 7 }] }, 'run 1: p must be between 0 and 1'],
    [
      'method eval()',
      { runs: [{ ...good.runs[0], method: 'eval()' }] },
      "run 1: method must be 'stochca', 'finetune' or 'linear-probe'",
    ],
    ['label a function', { runs: [{ ...good.runs[0], label: { toString: 'alert(1)' } }] }, 'run 1: label must be'],
    ['label 101 characters', { runs: [{ ...good.runs[0], label: 'x'.repeat(101) }] }, 'run 1: label must be'],
    [
      'negative seconds',
      { runs: [{ ...good.runs[0], summary: { ...good.runs[0].summary, seconds: -1 } }] },
      'run 1: summary must',
    ],
  ];
  for (const [what, json, message] of broken) {
    it(`refuses ${what}: a notice, no results, the rest of the link used`, () => {
      const {
        experiment,
        results: got,
        notices,
      } = experimentFromHash(`${DEFAULT_HASH.replace('seed=0', 'seed=9')}&r=${packJson(json)}`);
      expect(experiment).toStrictEqual({ ...defaultExperiment(), seed: 9 });
      expect(got).toBeUndefined();
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^The results in the link could not be read \(.*\); the link opens without them\.$/);
      expect(notices[0]).toContain(message);
    });
  }

  it('accepts plain results written elsewhere and copies only the known fields', () => {
    const hostile = JSON.parse(
      '{"runs":[{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"extra":"<img onerror>",' +
        '"label":"x","method":"stochca","p":0.1,"seed":1,"summary":{"bestValAccuracy":0.5,"bestStep":10,"finalAccuracy":0.4,"seconds":3,"__proto__":{}},' +
        '"curves":{"train":[[1,2.3,0.1]],"val":[[10,1.5,0.5]],"__proto__":{"polluted":1}}}],"__proto__":{"polluted":1}}',
    );
    const { results: got, notices } = experimentFromHash(withR(packJson(hostile)));
    expect(notices).toStrictEqual([]);
    expect(got).toStrictEqual({
      runs: [
        {
          label: 'x',
          method: 'stochca',
          p: 0.1,
          seed: 1,
          summary: { bestValAccuracy: 0.5, bestStep: 10, finalAccuracy: 0.4, seconds: 3 },
          curves: { train: [[1, 2.3, 0.1]], val: [[10, 1.5, 0.5]] },
        },
      ],
    });
    expect(Object.keys(got!.runs[0])).toStrictEqual(['label', 'method', 'p', 'seed', 'summary', 'curves']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  const garbage: [string, string, string][] = [
    ['empty', '', 'not base64url text'],
    ['not base64url', '<script>alert(1)</script>', 'not base64url text'],
    ['base64url that is not DEFLATE', 'AAAAAAAAAAAA', 'not DEFLATE data'],
    ['a length base64 cannot have', 'QUJDR', 'not base64url text'],
    [
      'DEFLATE of text that is not JSON',
      Buffer.from(deflateSync(new TextEncoder().encode('alert(1)'))).toString('base64url'),
      'JSON',
    ],
    [
      'DEFLATE of bytes that are not UTF-8',
      Buffer.from(deflateSync(new Uint8Array([0x22, 0xff, 0xfe, 0x22]))).toString('base64url'),
      'encoded data was not valid',
    ],
    ['DEFLATE cut short', packJson(good).slice(0, 40), 'not DEFLATE data'],
    [
      'JSON nested 100,000 deep',
      Buffer.from(deflateSync(new TextEncoder().encode('['.repeat(100_000) + ']'.repeat(100_000)))).toString(
        'base64url',
      ),
      'results must hold 1 to 32 runs',
    ],
    ['over a million characters', 'A'.repeat(1_000_001), 'more than 1000000 characters'],
  ];
  for (const [what, r, reason] of garbage) {
    it(`r=${what}: a notice and no results`, () => {
      const {
        experiment,
        results: got,
        notices,
      } = experimentFromHash(`${DEFAULT_HASH.replace('p=0.1', 'p=0.3')}&r=${r}`);
      expect(experiment).toStrictEqual({ ...defaultExperiment(), p: 0.3 });
      expect(got).toBeUndefined();
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^The results in the link could not be read \(.*\); the link opens without them\.$/);
      expect(notices[0]).toContain(reason);
    });
  }

  it('a deflate bomb (50 MB of zeros) is stopped at 2 MiB as it inflates', () => {
    const bomb = deflateSync(new Uint8Array(50 * 2 ** 20), { level: 9 });
    const r = Buffer.from(bomb).toString('base64url');
    // Cut short, the stream is broken near its end: reading it all would report that instead, so the
    // size message shows that inflating stopped well before the end.
    const cut = Buffer.from(bomb.subarray(0, bomb.length - 16)).toString('base64url');
    for (const text of [r, cut]) {
      const t0 = performance.now();
      const { experiment, results: got, notices } = experimentFromHash(withR(text));
      console.log(`deflate bomb, ${bomb.length} bytes → 50 MiB: refused in ${(performance.now() - t0).toFixed(1)} ms`);
      expect(experiment).toStrictEqual(defaultExperiment());
      expect(got).toBeUndefined();
      expect(notices).toStrictEqual([
        'The results in the link could not be read (it inflates to more than 2097152 bytes); the link opens without them.',
      ]);
    }
  });
});

describe('downsample', () => {
  it('returns a copy when the points fit', () => {
    const pts = [1, 2, 3];
    const got = downsample(pts, 3);
    expect(got).toStrictEqual(pts);
    expect(got).not.toBe(pts);
    expect(downsample([], 5)).toStrictEqual([]);
  });

  it('keeps the first and last point and spreads the rest evenly', () => {
    for (const [n, max] of [
      [1000, 200],
      [201, 200],
      [7, 2],
      [10_000, 3],
      [999, 998],
    ]) {
      const idx = downsample(
        Array.from({ length: n }, (_, i) => i),
        max,
      );
      expect(idx).toHaveLength(max);
      expect(idx[0]).toBe(0);
      expect(idx.at(-1)).toBe(n - 1);
      // Gaps between kept indices are the ideal spacing rounded down or up: strictly increasing, even.
      const ideal = (n - 1) / (max - 1);
      for (let i = 1; i < max; i++) {
        const gap = idx[i] - idx[i - 1];
        expect(gap).toBeGreaterThanOrEqual(Math.floor(ideal));
        expect(gap).toBeLessThanOrEqual(Math.ceil(ideal));
      }
    }
  });

  it('refuses a maximum below 2', () => {
    expect(() => downsample([1, 2, 3], 1)).toThrow('downsample keeps at least 2 points (first and last), not 1');
    expect(() => downsample([1, 2, 3], 2.5)).toThrow(RangeError);
  });
});
