// The experiment's property list against the settings written out by hand: defaults, each field's
// rule (accepted and refused text, with its message), references of every kind, cross-field rules.
import { describe, expect, it } from 'vitest';
import {
  completeExperiment,
  defaultExperiment,
  effectiveP,
  experimentErrors,
  experimentFromJson,
  headOnly,
  PROPERTIES,
  PROPERTY_LIST,
  validateField,
  type Experiment,
  type ExperimentKey,
} from '../../src/train/settings.ts';

const SHA = '0123456789abcdef'.repeat(4);

const EXPECTED_DEFAULTS: Experiment = {
  model: { kind: 'builtin', id: 'vit-mnist' },
  data: { kind: 'pack', id: 'opencv-digits' },
  method: 'stochca',
  p: 0.1,
  lr: 1e-3,
  batch: 16,
  steps: 200,
  warmup: 20,
  weightDecay: 0.05,
  wdExempt: false,
  clip: 0,
  imageSize: 0,
  fraction: 1,
  valFraction: 0.1,
  evalEvery: 20,
  crop: 'random',
  flip: false,
  seed: 0,
  seeds: 3,
};

describe('defaults', () => {
  it("are the demo's: the digits model on the OpenCV digits pack, and valid", () => {
    expect(defaultExperiment()).toStrictEqual(EXPECTED_DEFAULTS);
    expect(experimentErrors(defaultExperiment())).toStrictEqual({});
  });

  it('come as a fresh copy each time', () => {
    const a = defaultExperiment();
    (a.model as { id: string }).id = 'changed';
    a.p = 0.9;
    expect(defaultExperiment()).toStrictEqual(EXPECTED_DEFAULTS);
  });

  it('the list has one property per field, with distinct hash names', () => {
    expect(PROPERTY_LIST.map((p) => p.key).sort()).toStrictEqual(Object.keys(EXPECTED_DEFAULTS).sort());
    expect(new Set(PROPERTY_LIST.map((p) => p.hash)).size).toBe(PROPERTY_LIST.length);
    for (const p of PROPERTY_LIST) expect(PROPERTIES[p.key]).toBe(p);
  });
});

describe('methods as the engine runs them', () => {
  it('uses p for StochCA alone, and trains the head alone for the linear probe', () => {
    const run = (method: Experiment['method']) => ({
      p: effectiveP({ method, p: 0.3 }),
      headOnly: headOnly({ method }),
    });
    expect(run('stochca')).toStrictEqual({ p: 0.3, headOnly: false });
    expect(run('finetune')).toStrictEqual({ p: 0, headOnly: false });
    expect(run('linear-probe')).toStrictEqual({ p: 0, headOnly: true });
  });
});

/** [field, accepted text → value, refused text, the message for refused text] */
const RULES: [ExperimentKey, Record<string, unknown>, string[], string][] = [
  [
    'p',
    { '0': 0, '1': 1, '0.25': 0.25, '.5': 0.5, '1e-1': 0.1 },
    ['-0.1', '1.01', 'abc', '', 'NaN', 'Infinity', '0x1', ' 0.5', '1,5', '1e999'],
    'p must be between 0 and 1',
  ],
  [
    'lr',
    { '1': 1, '1e-7': 1e-7, '0.001': 0.001 },
    ['0', '-1e-3', '1.5', '1e-999x'],
    'learning rate must be greater than 0 and at most 1',
  ],
  [
    'batch',
    { '1': 1, '512': 512, '32.0': 32 },
    ['0', '513', '3.5', '-1'],
    'batch size must be a whole number from 1 to 512',
  ],
  [
    'steps',
    { '1': 1, '100000': 100000, '1e3': 1000 },
    ['0', '100001', '9'.repeat(400)],
    'steps must be a whole number from 1 to 100000',
  ],
  ['warmup', { '0': 0, '100000': 100000 }, ['-1', '0.5', '100001'], 'warmup must be a whole number from 0 to 100000'],
  ['weightDecay', { '0': 0, '1': 1, '0.05': 0.05 }, ['-0.01', '2'], 'weight decay must be between 0 and 1'],
  [
    'imageSize',
    { '0': 0, '8': 8, '224': 224, '1024': 1024 },
    ['7', '1', '1025', '-8', '32.5'],
    "image size must be 0 (the checkpoint's own) or a whole number from 8 to 1024",
  ],
  [
    'fraction',
    { '1': 1, '0.15': 0.15 },
    ['0', '1.0001', '-0.5'],
    'training fraction must be greater than 0 and at most 1',
  ],
  ['valFraction', { '0': 0, '0.9': 0.9 }, ['0.91', '-0.1', '1'], 'validation fraction must be between 0 and 0.9'],
  [
    'evalEvery',
    { '1': 1, '100000': 100000 },
    ['0', '1.5'],
    'evaluation interval must be a whole number from 1 to 100000',
  ],
  [
    'seed',
    { '0': 0, '2147483647': 2 ** 31 - 1 },
    ['-1', '2147483648', '1.5'],
    'seed must be a whole number from 0 to 2147483647',
  ],
  ['seeds', { '1': 1, '5': 5, '3.0': 3 }, ['0', '6', '2.5', '-1'], 'seeds must be a whole number from 1 to 5'],
  [
    'method',
    { stochca: 'stochca', finetune: 'finetune', 'linear-probe': 'linear-probe' },
    ['StochCA', 'sgd', 'linear_probe', ''],
    "method must be 'stochca', 'finetune' or 'linear-probe'",
  ],
  [
    'crop',
    { 'random-resized': 'random-resized', random: 'random', none: 'none' },
    ['centre', 'Random'],
    "crop must be 'random-resized', 'random' or 'none'",
  ],
  ['flip', { true: true, false: false }, ['1', 'yes', 'True', ''], 'flip must be true or false'],
  [
    'wdExempt',
    { true: true, false: false },
    ['1', 'no'],
    'no decay on biases, norms and embeddings must be true or false',
  ],
  [
    'clip',
    { '0': 0, '1': 1, '0.5': 0.5, '1e6': 1e6 },
    ['-1', '1e7', 'x'],
    'gradient clipping must be 0 (no clipping) or greater than 0 and at most 1000000',
  ],
];

describe('validateField', () => {
  for (const [key, accepted, refused, message] of RULES) {
    it(`${key}: accepts ${Object.keys(accepted).join(', ')}; refuses the rest with its rule`, () => {
      for (const [text, value] of Object.entries(accepted)) expect(validateField(key, text)).toStrictEqual({ value });
      for (const text of refused) expect(validateField(key, text), text).toStrictEqual({ error: message });
    });
  }

  it('text written by format reads back to the same value', () => {
    for (const [key, accepted] of RULES) {
      const prop = PROPERTIES[key];
      for (const value of Object.values(accepted)) {
        expect(validateField(key, (prop.format as (v: unknown) => string)(value))).toStrictEqual({ value });
      }
    }
  });
});

describe('references', () => {
  const models: [string, Experiment['model']][] = [
    ['builtin:vit-fmnist', { kind: 'builtin', id: 'vit-fmnist' }],
    [
      `file:vit_base.safetensors:343000000:${SHA}`,
      { kind: 'file', name: 'vit_base.safetensors', size: 343000000, sha256: SHA },
    ],
    // The name is free text: colons, '&', '#', '%' and any script stay in it.
    [
      `file:模型 v2: été & co #1 100%.safetensors:0:${SHA}`,
      { kind: 'file', name: '模型 v2: été & co #1 100%.safetensors', size: 0, sha256: SHA },
    ],
    [
      'url:https://example.com/m.safetensors?x=1&y=2#z',
      { kind: 'url', url: 'https://example.com/m.safetensors?x=1&y=2#z' },
    ],
    ['url:http://[::1]:8080/a:b.onnx', { kind: 'url', url: 'http://[::1]:8080/a:b.onnx' }],
    [
      'hub:timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k',
      { kind: 'hub', repo: 'timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k' },
    ],
  ];
  const data: [string, Experiment['data']][] = [
    ['pack:fashion-mnist', { kind: 'pack', id: 'fashion-mnist' }],
    [
      `local:my photos:2024.zip:1048576:300:${SHA}`,
      { kind: 'local', name: 'my photos:2024.zip', size: 1048576, count: 300, sha256: SHA },
    ],
    ['url:https://example.org/flowers.zip', { kind: 'url', url: 'https://example.org/flowers.zip' }],
  ];

  it('every kind reads and writes back the same text', () => {
    for (const [key, cases] of [
      ['model', models],
      ['data', data],
    ] as const) {
      for (const [text, value] of cases) {
        expect(validateField(key, text), text).toStrictEqual({ value });
        expect((PROPERTIES[key].format as (v: unknown) => string)(value)).toBe(text);
      }
    }
  });

  it('refuses malformed references, saying which part is wrong', () => {
    const cases: [ExperimentKey, string, string][] = [
      ['model', 'pack:mnist', 'model must be builtin:<id>, file:<name>:<size>:<sha256>, url:<url>, hub:<repo>'],
      ['data', 'builtin:vit-fmnist', 'data must be pack:<id>, local:<name>:<size>:<count>:<sha256>, url:<url>'],
      ['model', 'vit-fmnist', 'model must be builtin:<id>, file:<name>:<size>:<sha256>, url:<url>, hub:<repo>'],
      ['model', `file:x:${SHA}`, 'model must be builtin:<id>, file:<name>:<size>:<sha256>, url:<url>, hub:<repo>'],
      ['model', 'builtin:', 'model id must be 1 to 64 lower-case letters, digits, dots, dashes or underscores'],
      [
        'model',
        'builtin:<script>alert(1)</script>',
        'model id must be 1 to 64 lower-case letters, digits, dots, dashes or underscores',
      ],
      ['data', 'pack:MNIST', 'data id must be 1 to 64 lower-case letters, digits, dots, dashes or underscores'],
      ['model', `file::1:${SHA}`, 'model file name must be 1 to 255 characters without control characters or slashes'],
      [
        'model',
        `file:../etc/passwd:1:${SHA}`,
        'model file name must be 1 to 255 characters without control characters or slashes',
      ],
      [
        'model',
        `file:a\u0000b:1:${SHA}`,
        'model file name must be 1 to 255 characters without control characters or slashes',
      ],
      [
        'model',
        `file:${'n'.repeat(256)}:1:${SHA}`,
        'model file name must be 1 to 255 characters without control characters or slashes',
      ],
      ['model', `file:x:-1:${SHA}`, 'model size must be a whole number of bytes'],
      ['model', `file:x:1.5:${SHA}`, 'model size must be a whole number of bytes'],
      ['model', `file:x:99999999999999999:${SHA}`, 'model size must be a whole number of bytes'],
      ['model', 'file:x:1:abc', 'model sha256 must be 64 lower-case hexadecimal digits'],
      ['model', `file:x:1:${SHA.toUpperCase()}`, 'model sha256 must be 64 lower-case hexadecimal digits'],
      ['data', `local:x.zip:10:0:${SHA}`, 'data image count must be a whole number, at least 1'],
      [
        'model',
        'hub:facebook',
        'model Hub repository must be <org>/<name>, each 1 to 96 letters, digits, dots, dashes or underscores',
      ],
      [
        'model',
        'hub:../../etc/passwd',
        'model Hub repository must be <org>/<name>, each 1 to 96 letters, digits, dots, dashes or underscores',
      ],
      [
        'model',
        'hub:timm/..',
        'model Hub repository must be <org>/<name>, each 1 to 96 letters, digits, dots, dashes or underscores',
      ],
      [
        'model',
        'hub:a/b/c',
        'model Hub repository must be <org>/<name>, each 1 to 96 letters, digits, dots, dashes or underscores',
      ],
      [
        'model',
        'url:javascript:alert(1)',
        'model URL must be an http:// or https:// address of at most 2000 characters',
      ],
      [
        'data',
        'url:ftp://example.com/a.zip',
        'data URL must be an http:// or https:// address of at most 2000 characters',
      ],
      [
        'data',
        'url:https://exa mple.com/',
        'data URL must be an http:// or https:// address of at most 2000 characters',
      ],
      ['data', 'url:not a url', 'data URL must be an http:// or https:// address of at most 2000 characters'],
      [
        'data',
        `url:https://example.com/${'a'.repeat(1981)}`,
        'data URL must be an http:// or https:// address of at most 2000 characters',
      ],
    ];
    for (const [key, text, error] of cases) expect(validateField(key, text), text).toStrictEqual({ error });
    // 2,000 characters exactly is still fine.
    expect(validateField('data', `url:https://example.com/${'a'.repeat(1980)}`)).toHaveProperty('value');
  });

  it('a reference object with a missing, extra or mistyped field is refused', () => {
    const bad: unknown[] = [
      { kind: 'builtin' },
      { kind: 'builtin', id: 'vit', extra: 1 },
      { kind: 'file', name: 'x', size: '1', sha256: SHA },
      { kind: 'nope', id: 'x' },
      null,
      'builtin:vit-fmnist',
      [],
    ];
    for (const model of bad) {
      const e = { ...defaultExperiment(), model } as Experiment;
      expect(Object.keys(experimentErrors(e)), JSON.stringify(model)).toStrictEqual(['model']);
    }
  });
});

describe('cross-field rules', () => {
  it('validateField checks warmup and evaluation interval against steps only when given the form', () => {
    const within = { ...defaultExperiment(), steps: 100 };
    expect(validateField('warmup', '200')).toStrictEqual({ value: 200 });
    expect(validateField('warmup', '200', within)).toStrictEqual({ error: 'warmup must be at most steps (100)' });
    expect(validateField('warmup', '100', within)).toStrictEqual({ value: 100 });
    expect(validateField('evalEvery', '101', within)).toStrictEqual({
      error: 'evaluation interval must be at most steps (100)',
    });
  });

  it('experimentErrors names every broken field, own rules first', () => {
    const d = defaultExperiment();
    expect(experimentErrors({ ...d, steps: 10 })).toStrictEqual({
      warmup: 'warmup must be at most steps (10)',
      evalEvery: 'evaluation interval must be at most steps (10)',
    });
    // With steps itself invalid only steps is reported.
    expect(experimentErrors({ ...d, steps: 0 })).toStrictEqual({
      steps: 'steps must be a whole number from 1 to 100000',
    });
    expect(
      experimentErrors({
        ...d,
        p: NaN,
        lr: Infinity,
        batch: 2.5,
        flip: 'no' as unknown as boolean,
        crop: 'x' as 'none',
      }),
    ).toStrictEqual({
      p: 'p must be between 0 and 1',
      lr: 'learning rate must be greater than 0 and at most 1',
      batch: 'batch size must be a whole number from 1 to 512',
      flip: 'flip must be true or false',
      crop: "crop must be 'random-resized', 'random' or 'none'",
    });
  });
});

describe('derived defaults and experiment files', () => {
  it('gives every setting a distinct command-line flag', () => {
    const flags = PROPERTY_LIST.map((p) => p.flag);
    expect(new Set(flags).size).toBe(flags.length);
    for (const f of flags) expect(f).toMatch(/^[a-z][a-z-]*$/);
  });

  it('warm-up and evaluation interval follow the steps when not given, and stay as given when they are', () => {
    expect(completeExperiment({ steps: 1000 })).toMatchObject({ steps: 1000, warmup: 100, evalEvery: 100 });
    expect(completeExperiment({ steps: 1 })).toMatchObject({ warmup: 0, evalEvery: 1 });
    expect(completeExperiment({ steps: 1000, warmup: 3, evalEvery: 7 })).toMatchObject({ warmup: 3, evalEvery: 7 });
    expect(experimentErrors(completeExperiment({ steps: 3 }))).toStrictEqual({});
  });

  it("reads the page's experiment.json: every field checked, unknown keys refused, missing ones defaulted", () => {
    const e = { ...defaultExperiment(), lr: 3e-4, clip: 1, wdExempt: true };
    expect(experimentFromJson(JSON.parse(JSON.stringify(e)))).toStrictEqual({ value: e });
    expect(experimentFromJson({ steps: 20 })).toStrictEqual({ value: completeExperiment({ steps: 20 }) });
    expect(experimentFromJson({ lr: '0.1' })).toStrictEqual({
      error: 'learning rate must be greater than 0 and at most 1',
    });
    expect(experimentFromJson({ steps: 10, warmup: 20 })).toStrictEqual({ error: 'warmup must be at most steps (10)' });
    expect(experimentFromJson({ lr: 0.1, __proto__x: 1, optimizer: 'sgd' })).toStrictEqual({
      error: 'unknown settings: __proto__x, optimizer',
    });
    expect(experimentFromJson([1])).toStrictEqual({ error: 'an experiment must be a JSON object' });
    expect(experimentFromJson(JSON.parse('{"__proto__": {"lr": 5}}'))).toStrictEqual({
      error: 'unknown settings: __proto__',
    });
  });
});
