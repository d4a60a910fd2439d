// The one settings schema of a run, for the page, its share links, its worker and the command line.
// One typed list of properties (after tensorflow/playground's src/state.ts) gives every field its
// short name in the URL hash, its command-line flag, its default, how it is read from and written to
// text, and its rule in words; the page's form, the whole-experiment check, share links
// (src/app/share-link.ts), experiment.json files and `stochca train`'s flags all go through it.
//
// The defaults are the page's demo: the built-in digits model (vit-mnist) given a new head on the
// built-in OpenCV digits pack, 5 images per class, the setting of the new-head experiment
// (experiments/new-head/): batch 16 (the paper's) for 200 steps, a peak learning rate of 1e-3 with a
// 10 % warm-up, an evaluation every tenth of the run; random crops without flips, because a mirrored
// digit is another glyph; weight decay on every parameter and no clipping, as the method's reference
// recipe trains.
import type { AugmentOptions } from '../data/augment.ts';
import { isHttpUrl, MAX_URL_LENGTH } from '../data/download.ts';

export type ModelRef =
  | { kind: 'builtin'; id: string }
  | { kind: 'file'; name: string; size: number; sha256: string }
  | { kind: 'url'; url: string }
  /** A model of the zoo (src/checkpoint/zoo.ts), by its Hub repository. */
  | { kind: 'hub'; repo: string };

export type DataRef =
  | { kind: 'pack'; id: string }
  | { kind: 'local'; name: string; size: number; count: number; sha256: string }
  | { kind: 'url'; url: string };

/** StochCA; plain fine-tuning (p = 0); the linear probe: the classifier head alone on the frozen rest (p = 0). */
export const METHODS = ['stochca', 'finetune', 'linear-probe'] as const;
export const CROPS = ['random-resized', 'random', 'none'] as const satisfies readonly AugmentOptions['crop'][];

export interface Experiment {
  model: ModelRef;
  data: DataRef;
  method: (typeof METHODS)[number];
  /** Probability of cross-attention to the pretrained model per block; used when method is 'stochca'. */
  p: number;
  lr: number;
  batch: number;
  steps: number;
  warmup: number;
  weightDecay: number;
  /** Biases, LayerNorm parameters, the position embedding and the class token get no weight decay (timm's convention). */
  wdExempt: boolean;
  /** Global-norm gradient clipping; 0 clips nothing. */
  clip: number;
  /** Input size in pixels; 0 keeps the checkpoint's own. */
  imageSize: number;
  /** Share of the training images kept per class. */
  fraction: number;
  valFraction: number;
  evalEvery: number;
  crop: (typeof CROPS)[number];
  flip: boolean;
  seed: number;
  /** Compare's number of seeds: the page's Compare runs each method on seed, seed + 1, …; one run uses `seed` alone. */
  seeds: number;
}

/** The settings of one run: the experiment without its model and dataset. */
export type RunSettings = Omit<Experiment, 'model' | 'data'>;

export type ExperimentKey = keyof Experiment;
type NumberKey = { [K in ExperimentKey]: Experiment[K] extends number ? K : never }[ExperimentKey];

export type Checked<T> = { value: T } | { error: string };

export interface Property<K extends ExperimentKey> {
  key: K;
  /** Its name in the URL hash. */
  hash: string;
  /** Its command-line flag, without the dashes; a boolean also takes `--no-<flag>`. */
  flag: string;
  /** The field in words, as messages name it. */
  label: string;
  type: 'integer' | 'number' | 'choice' | 'boolean' | 'model' | 'data';
  default: Experiment[K];
  /** The default when the other fields are known (warm-up and evaluation interval follow the steps). */
  derive?: (e: Experiment) => Experiment[K];
  /** Text (a form input or a hash value) to a checked value. */
  parse(raw: string): Checked<Experiment[K]>;
  format(value: Experiment[K]): string;
  /** The field's own rule on a value of any type: a message in words, or undefined when it holds. */
  check(value: unknown): string | undefined;
  /** Cross-field rule: the value may not exceed this other field's. */
  atMost?: NumberKey;
  /** Bounds and options, for the form's inputs. */
  min?: number;
  max?: number;
  choices?: readonly string[];
}

/** Reads text into a value of the property's type, or a message; `check` then applies the rule. */
type Reader<T> = (raw: string) => Checked<T>;

function property<K extends ExperimentKey>(
  p: Omit<Property<K>, 'parse'> & { read: Reader<Experiment[K]> },
): Property<K> {
  const { read, ...rest } = p;
  return {
    ...rest,
    parse(raw) {
      const r = read(raw);
      if ('error' in r) return r;
      const error = rest.check(r.value);
      return error === undefined ? r : { error };
    },
  };
}

// Plain decimal or exponent notation only: Number() would also take '', ' 1 ', '0x10' and 'Infinity'.
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

// Text that is not a number reads as NaN, so it gets the range's own message.
const readNumber: Reader<number> = (raw) => ({ value: NUMBER_TEXT.test(raw) ? Number(raw) : NaN });

interface RangeSpec<K extends NumberKey> {
  key: K;
  hash: string;
  flag: string;
  label: string;
  default: number;
  derive?: (e: Experiment) => number;
  min: number;
  max: number;
  /** The minimum itself is not allowed. */
  aboveMin?: boolean;
  /** A value allowed outside the range, and what it means. */
  special?: { value: number; meaning: string };
  atMost?: NumberKey;
}

function range<K extends NumberKey>(type: 'integer' | 'number', s: RangeSpec<K>): Property<K> {
  const whole = type === 'integer';
  const span = whole
    ? `a whole number from ${s.min} to ${s.max}`
    : s.aboveMin
      ? `greater than ${s.min} and at most ${s.max}`
      : `between ${s.min} and ${s.max}`;
  const rule = s.special
    ? `${s.label} must be ${s.special.value} (${s.special.meaning}) or ${span}`
    : `${s.label} must be ${span}`;
  const inRange = (v: number) => (s.aboveMin ? v > s.min : v >= s.min) && v <= s.max && (!whole || Number.isInteger(v));
  return property<K>({
    key: s.key,
    hash: s.hash,
    flag: s.flag,
    label: s.label,
    type,
    default: s.default as Experiment[K],
    atMost: s.atMost,
    derive: s.derive as Property<K>['derive'],
    min: s.min,
    max: s.max,
    read: readNumber as Reader<Experiment[K]>,
    format: (v) => String(v),
    check: (v) => (typeof v === 'number' && (inRange(v) || v === s.special?.value) ? undefined : rule),
  });
}

function choice<K extends 'method' | 'crop'>(
  key: K,
  label: string,
  choices: readonly Experiment[K][],
  def: Experiment[K],
): Property<K> {
  const quoted = choices.map((c) => `'${c}'`);
  const rule = `${label} must be ${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
  const valid = (v: unknown): v is Experiment[K] => (choices as readonly unknown[]).includes(v);
  return property<K>({
    key,
    hash: key,
    flag: key,
    label,
    type: 'choice',
    default: def,
    choices,
    read: (raw) => (valid(raw) ? { value: raw } : { error: rule }),
    format: (v) => v,
    check: (v) => (valid(v) ? undefined : rule),
  });
}

function flag<K extends 'flip' | 'wdExempt'>(
  key: K,
  hash: string,
  cliFlag: string,
  label: string,
  def: boolean,
): Property<K> {
  const rule = `${label} must be true or false`;
  return property<K>({
    key,
    hash,
    flag: cliFlag,
    label,
    type: 'boolean',
    default: def,
    read: (raw) => (raw === 'true' || raw === 'false' ? { value: raw === 'true' } : { error: rule }),
    format: (v) => String(v),
    check: (v) => (typeof v === 'boolean' ? undefined : rule),
  });
}

// A reference as text is `<kind>:<field>:<field>…`, fields in the order of REF_FIELDS:
//   builtin:<id>   pack:<id>   url:<http(s) address>   hub:<org>/<name>
//   file:<name>:<size>:<sha256>   local:<name>:<size>:<count>:<sha256>
// The first field is free text and may itself hold ':' (a URL always does); every later field is
// digits or hex, so splitting those off from the right is unambiguous without any escaping.
const REF_FIELDS = {
  builtin: ['id'],
  pack: ['id'],
  url: ['url'],
  hub: ['repo'],
  file: ['name', 'size', 'sha256'],
  local: ['name', 'size', 'count', 'sha256'],
} as const;
type RefKind = keyof typeof REF_FIELDS;
type RefField = (typeof REF_FIELDS)[RefKind][number];

const NUMERIC_FIELDS: ReadonlySet<RefField> = new Set(['size', 'count']);

/** Each field's rule, as a message completing "<label> …", or undefined when it holds. */
const FIELD_RULES: Record<RefField, (v: unknown) => string | undefined> = {
  id: (v) =>
    typeof v === 'string' && /^[a-z0-9][a-z0-9._-]{0,63}$/.test(v)
      ? undefined
      : 'id must be 1 to 64 lower-case letters, digits, dots, dashes or underscores',
  // No control characters and no path separators: a name is what a file picker reports.
  name: (v) =>
    typeof v === 'string' && v.length >= 1 && v.length <= 255 && !/[\p{Cc}/\\]/u.test(v)
      ? undefined
      : 'file name must be 1 to 255 characters without control characters or slashes',
  size: (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'size must be a whole number of bytes'),
  count: (v) =>
    Number.isSafeInteger(v) && (v as number) >= 1 ? undefined : 'image count must be a whole number, at least 1',
  sha256: (v) =>
    typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? undefined : 'sha256 must be 64 lower-case hexadecimal digits',
  url: (v) =>
    typeof v === 'string' && isHttpUrl(v)
      ? undefined
      : `URL must be an http:// or https:// address of at most ${MAX_URL_LENGTH} characters`,
  // The Hub's rule for repository names; no '..', as a repository names a folder of the model cache.
  repo: (v) =>
    typeof v === 'string' && /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/.test(v) && !v.includes('..')
      ? undefined
      : 'Hub repository must be <org>/<name>, each 1 to 96 letters, digits, dots, dashes or underscores',
};

function reference<K extends 'model' | 'data'>(
  key: K,
  kinds: readonly (Experiment[K]['kind'] & RefKind)[],
  def: Experiment[K],
): Property<K> {
  const shape = `${key} must be ${kinds.map((k) => `${k}:${REF_FIELDS[k].map((f) => `<${f}>`).join(':')}`).join(', ')}`;
  const known = (kind: unknown): kind is RefKind => (kinds as readonly unknown[]).includes(kind);
  const check = (v: unknown): string | undefined => {
    if (typeof v !== 'object' || v === null || !known((v as { kind?: unknown }).kind)) return shape;
    const ref = v as Record<string, unknown>;
    const fields: readonly string[] = REF_FIELDS[ref.kind as RefKind];
    if (Object.keys(ref).length !== fields.length + 1) return shape;
    for (const f of fields as readonly RefField[]) {
      if (!Object.hasOwn(ref, f)) return shape;
      const error = FIELD_RULES[f](ref[f]);
      if (error) return `${key} ${error}`;
    }
    return undefined;
  };
  return property<K>({
    key,
    hash: key,
    flag: key,
    label: key,
    type: key,
    default: def,
    read: (raw) => {
      const colon = raw.indexOf(':');
      const kind = raw.slice(0, colon);
      if (colon < 0 || !known(kind)) return { error: shape };
      const fields = REF_FIELDS[kind];
      const parts = raw.slice(colon + 1).split(':');
      if (parts.length < fields.length) return { error: shape };
      const tail = parts.splice(parts.length - (fields.length - 1));
      const ref: Record<string, unknown> = { kind };
      fields.forEach((f, i) => {
        const text = i === 0 ? parts.join(':') : tail[i - 1];
        ref[f] = NUMERIC_FIELDS.has(f) ? (/^\d{1,16}$/.test(text) ? Number(text) : NaN) : text;
      });
      return { value: ref as Experiment[K] };
    },
    format: (v) => {
      const ref = v as unknown as Record<string, string | number>;
      return [v.kind, ...REF_FIELDS[v.kind as RefKind].map((f) => ref[f])].join(':');
    },
    check,
  });
}

/** Every setting, in the order of the URL hash; a field's `derive` reads only fields before it. */
export const PROPERTIES: { readonly [K in ExperimentKey]: Property<K> } = {
  model: reference('model', ['builtin', 'file', 'url', 'hub'], { kind: 'builtin', id: 'vit-mnist' }),
  data: reference('data', ['pack', 'local', 'url'], { kind: 'pack', id: 'opencv-digits' }),
  method: choice('method', 'method', METHODS, 'stochca'),
  p: range('number', { key: 'p', hash: 'p', flag: 'p', label: 'p', default: 0.1, min: 0, max: 1 }),
  lr: range('number', {
    key: 'lr',
    hash: 'lr',
    flag: 'lr',
    label: 'learning rate',
    default: 1e-3,
    min: 0,
    max: 1,
    aboveMin: true,
  }),
  batch: range('integer', {
    key: 'batch',
    hash: 'batch',
    flag: 'batch',
    label: 'batch size',
    default: 16,
    min: 1,
    max: 512,
  }),
  steps: range('integer', {
    key: 'steps',
    hash: 'steps',
    flag: 'steps',
    label: 'steps',
    default: 200,
    min: 1,
    max: 100_000,
  }),
  warmup: range('integer', {
    key: 'warmup',
    hash: 'warmup',
    flag: 'warmup',
    label: 'warmup',
    default: 20,
    min: 0,
    max: 100_000,
    atMost: 'steps',
    derive: (e) => Math.round(e.steps / 10),
  }),
  weightDecay: range('number', {
    key: 'weightDecay',
    hash: 'wd',
    flag: 'wd',
    label: 'weight decay',
    default: 0.05,
    min: 0,
    max: 1,
  }),
  wdExempt: flag('wdExempt', 'wdx', 'wd-exempt', 'no decay on biases, norms and embeddings', false),
  clip: range('number', {
    key: 'clip',
    hash: 'clip',
    flag: 'clip',
    label: 'gradient clipping',
    default: 0,
    min: 0,
    max: 1e6,
    aboveMin: true,
    special: { value: 0, meaning: 'no clipping' },
  }),
  imageSize: range('integer', {
    key: 'imageSize',
    hash: 'size',
    flag: 'image-size',
    label: 'image size',
    default: 0,
    min: 8,
    max: 1024,
    special: { value: 0, meaning: "the checkpoint's own" },
  }),
  fraction: range('number', {
    key: 'fraction',
    hash: 'frac',
    flag: 'fraction',
    label: 'training fraction',
    default: 1,
    min: 0,
    max: 1,
    aboveMin: true,
  }),
  valFraction: range('number', {
    key: 'valFraction',
    hash: 'val',
    flag: 'val-fraction',
    label: 'validation fraction',
    default: 0.1,
    min: 0,
    max: 0.9,
  }),
  evalEvery: range('integer', {
    key: 'evalEvery',
    hash: 'every',
    flag: 'eval-every',
    label: 'evaluation interval',
    default: 20,
    min: 1,
    max: 100_000,
    atMost: 'steps',
    derive: (e) => Math.max(1, Math.round(e.steps / 10)),
  }),
  crop: choice('crop', 'crop', CROPS, 'random'),
  flip: flag('flip', 'flip', 'flip', 'flip', false),
  seed: range('integer', {
    key: 'seed',
    hash: 'seed',
    flag: 'seed',
    label: 'seed',
    default: 0,
    min: 0,
    max: 2 ** 31 - 1,
  }),
  seeds: range('integer', { key: 'seeds', hash: 'seeds', flag: 'seeds', label: 'seeds', default: 3, min: 1, max: 5 }),
};

export type AnyProperty = { [K in ExperimentKey]: Property<K> }[ExperimentKey];
export const PROPERTY_LIST = Object.values(PROPERTIES) as readonly AnyProperty[];

/** A fresh copy of the defaults, safe to change. */
export function defaultExperiment(): Experiment {
  return completeExperiment({});
}

/** The given fields, the others at their defaults: a derived default follows the fields it reads
 *  (`steps` alone gives its warm-up and evaluation interval). The values are not checked. */
export function completeExperiment(given: Partial<Experiment>): Experiment {
  const e = {} as Record<ExperimentKey, unknown>;
  for (const p of PROPERTY_LIST) {
    e[p.key] = Object.hasOwn(given, p.key)
      ? given[p.key]
      : structuredClone(p.derive ? p.derive(e as unknown as Experiment) : p.default);
  }
  return e as unknown as Experiment;
}

/** An experiment.json (as the page exports it) read field by field: unknown keys and broken values are
 *  errors in words, missing fields take their defaults. Nothing but the schema's fields is copied. */
export function experimentFromJson(json: unknown): Checked<Experiment> {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { error: 'an experiment must be a JSON object' };
  const o = json as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !Object.hasOwn(PROPERTIES, k));
  if (unknown.length) return { error: `unknown settings: ${unknown.slice(0, 10).join(', ')}` };
  const given: Partial<Record<ExperimentKey, unknown>> = {};
  for (const p of PROPERTY_LIST) if (Object.hasOwn(o, p.key)) given[p.key] = o[p.key];
  const e = completeExperiment(given as Partial<Experiment>);
  const errors = Object.values(experimentErrors(e));
  return errors.length ? { error: errors.join('; ') } : { value: e };
}

/** An experiment.json's text, as the page exports it (alone, or for PyTorch) and `stochca train --experiment` reads it. */
export const experimentJson = (e: Experiment): string => JSON.stringify(e, null, 2);

/** A run's settings as the engine uses them: p is 0 for fine-tuning and the linear probe. */
export const effectiveP = (s: Pick<RunSettings, 'method' | 'p'>): number => (s.method === 'stochca' ? s.p : 0);

/** Whether a run trains the classifier head alone (the linear probe). */
export const headOnly = (s: Pick<RunSettings, 'method'>): boolean => s.method === 'linear-probe';

/** The cross-field rule of a property against the other fields of `e`: a message, or undefined
 *  (also when the other field is itself invalid: its own message says so). */
export function relationError(prop: AnyProperty, value: unknown, e: Experiment): string | undefined {
  if (!prop.atMost || typeof value !== 'number') return undefined;
  const other = PROPERTIES[prop.atMost];
  const limit = e[prop.atMost];
  if (other.check(limit) !== undefined) return undefined;
  return value > limit ? `${prop.label} must be at most ${other.label} (${limit})` : undefined;
}

/** One form field's text: its value, or the message to show. With `within` (the rest of the form),
 *  cross-field rules (warmup ≤ steps, evaluation interval ≤ steps) apply too. */
export function validateField<K extends ExperimentKey>(
  key: K,
  raw: string,
  within?: Experiment,
): Checked<Experiment[K]> {
  const prop = PROPERTIES[key] as Property<K>;
  const r = prop.parse(raw);
  const error = 'value' in r && within ? relationError(prop as AnyProperty, r.value, within) : undefined;
  return error === undefined ? r : { error };
}

/** Every broken rule of an experiment, by field; empty when it can run. */
export function experimentErrors(e: Experiment): Partial<Record<ExperimentKey, string>> {
  const errors: Partial<Record<ExperimentKey, string>> = {};
  for (const prop of PROPERTY_LIST) {
    const value: unknown = e[prop.key];
    const error = prop.check(value) ?? relationError(prop, value, e);
    if (error !== undefined) errors[prop.key] = error;
  }
  return errors;
}
