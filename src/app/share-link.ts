// Share links: an experiment (and optionally its results) as a URL hash, and back.
//
//   #v=1&model=builtin:vit-fmnist&data=pack:mnist&method=stochca&p=0.1&lr=0.001&…&r=<results>
//
// Each setting is `<hash name>=<value>`, names and texts from PROPERTIES (experiment.ts), values
// percent-encoded (encodeURIComponent) except ':' and '/', which a fragment may hold as they are, so
// references stay readable: `model=url:https://example.com/vit.safetensors`,
// `data=local:my%20photos.zip:1048576:300:<sha256>`. `r` holds the results as JSON, deflated (raw
// DEFLATE, fflate) and base64url-encoded.
//
// A link is untrusted text. Reading one only ever yields validated plain data: every value passes its
// property's rule, results are rebuilt field by field from checked numbers and strings, and nothing is
// fetched or run (a url reference is returned for the page to ask about).
import { deflateSync, Inflate } from 'fflate';
import { visibleText } from '../data/visible-text.ts';
import {
  completeExperiment,
  defaultExperiment,
  experimentErrors,
  PROPERTIES,
  PROPERTY_LIST,
  relationError,
  type AnyProperty,
  type Checked,
  type Experiment,
  type ExperimentKey,
  type Property,
} from '../train/settings.ts';
import { errorMessage } from '../gpu/error-message.ts';

const LINK_VERSION = '1';
/** Points kept per curve in a link. */
export const MAX_CURVE_POINTS = 200;
const MAX_SHARED_RUNS = 32;
const MAX_LABEL_LENGTH = 100;
/** Longest `r` value read, and most bytes it may inflate to (a deflate bomb stops there). */
const MAX_RESULTS_TEXT = 1_000_000;
const MAX_RESULTS_BYTES = 2 * 2 ** 20;
/** Longest hash read: the longest results and room for every setting (a 2,000-character URL
 *  percent-encoded is at most 6,000). A longer one is no link this page wrote, and is not parsed. */
const MAX_HASH_LENGTH = MAX_RESULTS_TEXT + 16_384;
/** Most notices one link raises; one more line counts the rest, so that a link that repeats its
 *  mistakes shows a short list. */
const MAX_NOTICES = 10;
const KNOWN_KEYS = new Set(['v', 'r', ...PROPERTY_LIST.map((p) => p.hash)]);

/** [step, loss, accuracy] */
export type CurvePoint = [step: number, loss: number, accuracy: number];

export interface SharedRun {
  label: string;
  method: Experiment['method'];
  p: number;
  seed: number;
  summary: { bestValAccuracy: number; bestStep: number; finalAccuracy: number; seconds: number };
  curves: { train: CurvePoint[]; val: CurvePoint[] };
}

export interface SharedResults {
  runs: SharedRun[];
}

export interface OpenedLink {
  experiment: Experiment;
  results?: SharedResults;
  /** What in the link was not used and why, in words, for the page to show. */
  notices: string[];
}

/** At most `max` (≥ 2) of `points`: the first, the last, and an even spread between. */
export function downsample<T>(points: readonly T[], max: number): T[] {
  if (!Number.isInteger(max) || max < 2)
    throw new RangeError(`downsample keeps at least 2 points (first and last), not ${max}`);
  const n = points.length;
  if (n <= max) return points.slice();
  // n > max, so consecutive indices differ by more than 1: no point is taken twice.
  return Array.from({ length: max }, (_, i) => points[Math.round((i * (n - 1)) / (max - 1))]);
}

/** The experiment (and results) as a hash starting with '#'. Throws, with the broken rules in
 *  words, when the experiment is invalid or the results are not shareable (see readResults). */
export function experimentToHash(e: Experiment, results?: SharedResults): string {
  const errors = Object.values(experimentErrors(e));
  if (errors.length > 0) throw new Error(`This experiment cannot be shared until it is valid: ${errors.join('; ')}.`);
  const pairs = [`v=${LINK_VERSION}`, ...PROPERTY_LIST.map((p) => `${p.hash}=${encodeValue(formatField(p, e))}`)];
  if (results) pairs.push(`r=${packResults(results)}`);
  return `#${pairs.join('&')}`;
}

/** The experiment of a hash ('#…' or without '#'); whatever is missing takes its default, whatever is
 *  invalid takes its default with a notice (a derived default follows the link's own values: its
 *  steps give the warm-up and evaluation interval it does not set). */
export function experimentFromHash(hash: string): OpenedLink {
  const notices: string[] = [];
  const opened = readLink(hash.startsWith('#') ? hash.slice(1) : hash, notices);
  if (notices.length <= MAX_NOTICES) return { ...opened, notices };
  const more = notices.length - MAX_NOTICES;
  return {
    ...opened,
    notices: [
      ...notices.slice(0, MAX_NOTICES),
      `…and ${more} more ${more === 1 ? 'notice' : 'notices'} about this link.`,
    ],
  };
}

/** The experiment and results of a hash without its '#', adding what was not used to `notices`:
 *  one pass over the text, and one notice per setting and mistake however often the link repeats it. */
function readLink(text: string, notices: string[]): Omit<OpenedLink, 'notices'> {
  let experiment = defaultExperiment();
  if (text === '') return { experiment };
  if (text.length > MAX_HASH_LENGTH) {
    notices.push(
      `The link is ${text.length.toLocaleString('en')} characters long, more than the ${MAX_HASH_LENGTH.toLocaleString('en')} this page reads, so none of its settings were used; the defaults are shown.`,
    );
    return { experiment };
  }

  const params = new Map<string, string>();
  const unknown: string[] = [];
  // By setting and kind (given twice, broken %-encoding), in the order first met.
  const mistakes = new Map<string, string>();
  const mistake = (id: string, notice: () => string) => void (mistakes.has(id) || mistakes.set(id, notice()));
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeValue(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeValue(eq < 0 ? '' : pair.slice(eq + 1));
    if (key === undefined || !KNOWN_KEYS.has(key)) {
      unknown.push(key ?? pair);
    } else if (params.has(key)) {
      mistake(`twice ${key}`, () => `The link gives ${key} more than once; the first value was used.`);
    } else if (value === undefined) {
      mistake(`broken ${key}`, () => `The link's ${key} has broken %-encoding (${quote(pair)}); it was not used.`);
    } else {
      params.set(key, value);
    }
  }
  notices.push(...mistakes.values());
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).map(quote).join(', ');
    const more = unknown.length > 5 ? ` and ${unknown.length - 5} more` : '';
    notices.push(`The link has settings this page does not know, which were ignored: ${shown}${more}.`);
  }

  const version = params.get('v');
  if (version !== LINK_VERSION) {
    notices.push(
      version === undefined
        ? `The link does not say its version (v=${LINK_VERSION}), so none of its settings were used; the defaults are shown.`
        : `The link is of version ${quote(version)}, which this page does not read, so none of its settings were used; the defaults are shown.`,
    );
    return { experiment };
  }

  const given: Partial<Record<ExperimentKey, unknown>> = {};
  const broken: { prop: AnyProperty; raw: string; error: string }[] = [];
  for (const prop of PROPERTY_LIST) {
    const raw = params.get(prop.hash);
    if (raw === undefined) continue;
    const r = prop.parse(raw);
    if ('value' in r) given[prop.key] = r.value;
    else broken.push({ prop, raw, error: r.error });
  }
  experiment = completeExperiment(given as Partial<Experiment>);
  for (const { prop, raw, error } of broken) {
    notices.push(
      `The link's ${prop.hash}=${quote(raw)} was not used: ${error}. Using the default, ${prop.format(experiment[prop.key] as never)}.`,
    );
  }
  for (const prop of PROPERTY_LIST) {
    const error = relationError(prop, experiment[prop.key], experiment);
    if (error === undefined || !prop.atMost) continue;
    const fallback = Math.min((prop.derive?.(experiment) ?? prop.default) as number, experiment[prop.atMost]);
    notices.push(
      params.has(prop.hash)
        ? `The link's ${prop.hash}=${experiment[prop.key]} was not used: ${error}. Using ${fallback}.`
        : `The default ${prop.label}, ${experiment[prop.key]}, does not fit this link: ${error}. Using ${fallback}.`,
    );
    setField(experiment, prop.key, fallback);
  }

  const packed = params.get('r');
  if (packed === undefined) return { experiment };
  const results = unpackResults(packed);
  if ('error' in results) {
    notices.push(`The results in the link could not be read (${results.error}); the link opens without them.`);
    return { experiment };
  }
  return { experiment, results: results.value };
}

function formatField<K extends ExperimentKey>(prop: Property<K>, e: Experiment): string {
  return prop.format(e[prop.key]);
}

function setField<K extends ExperimentKey>(e: Experiment, key: K, value: Experiment[K]): void {
  e[key] = value;
}

function encodeValue(s: string): string {
  return encodeURIComponent(s).replace(/%3A/g, ':').replace(/%2F/g, '/');
}

function decodeValue(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Link text shown in a notice: at most 40 characters, quoted, invisible and direction-changing
 *  characters written as escapes so that a link cannot disguise what it holds. */
function quote(s: string): string {
  const chars = Array.from(s);
  return visibleText(JSON.stringify(chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : s));
}

// ---- results ----

const round4 = (x: number) => Number(x.toPrecision(4));

function packResults(results: SharedResults): string {
  const shareable = (points: readonly CurvePoint[]): CurvePoint[] =>
    downsample(
      points.filter((pt) => pt.every(Number.isFinite)),
      MAX_CURVE_POINTS,
    ).map(([s, l, a]) => [s, round4(l), round4(a)]);
  const rounded = {
    runs: results.runs.map((r) => ({
      label: r.label,
      method: r.method,
      p: r.p,
      seed: r.seed,
      summary: {
        bestValAccuracy: round4(r.summary.bestValAccuracy),
        bestStep: r.summary.bestStep,
        finalAccuracy: round4(r.summary.finalAccuracy),
        seconds: round4(r.summary.seconds),
      },
      curves: { train: shareable(r.curves.train), val: shareable(r.curves.val) },
    })),
  };
  const checked = readResults(rounded);
  if ('error' in checked) throw new Error(`These results cannot be shared: ${checked.error}.`);
  return toBase64url(deflateSync(new TextEncoder().encode(JSON.stringify(checked.value)), { level: 9 }));
}

function unpackResults(text: string): Checked<SharedResults> {
  if (text.length > MAX_RESULTS_TEXT) return { error: `more than ${MAX_RESULTS_TEXT} characters` };
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return { error: 'not base64url text' };
  let json: unknown;
  try {
    const bytes = inflateAtMost(fromBase64url(text), MAX_RESULTS_BYTES);
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    return { error: errorMessage(err) };
  }
  return readResults(json);
}

function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    throw new Error('not base64url text');
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Raw DEFLATE data inflated, fed 1 KiB at a time (at most ~1 MiB out per push, DEFLATE's ratio
 *  being ≤ 1032:1), stopping as soon as the output passes `cap` bytes. */
function inflateAtMost(data: Uint8Array, cap: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > cap) throw new Error(`it inflates to more than ${cap} bytes`);
    chunks.push(chunk);
  });
  try {
    for (let i = 0; i < data.length; i += 1024) inflater.push(data.subarray(i, i + 1024), i + 1024 >= data.length);
  } catch (err) {
    if (total > cap) throw err;
    throw new Error('not DEFLATE data', { cause: err });
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Results rebuilt from parsed JSON, field by field, or what is wrong with them. Nothing but the
 *  fields below is copied, so no key of the input (`__proto__` included) reaches the page. */
function readResults(json: unknown): Checked<SharedResults> {
  const o = record(json);
  if (!o || !Array.isArray(o.runs) || o.runs.length < 1 || o.runs.length > MAX_SHARED_RUNS) {
    return { error: `results must hold 1 to ${MAX_SHARED_RUNS} runs` };
  }
  const runs: SharedRun[] = [];
  for (const [i, raw] of o.runs.entries()) {
    const run = readRun(raw);
    if (typeof run === 'string') return { error: `run ${i + 1}: ${run}` };
    runs.push(run);
  }
  return { value: { runs } };
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

const isIn = (v: unknown, lo: number, hi: number, whole = false): v is number =>
  typeof v === 'number' && v >= lo && v <= hi && (!whole || Number.isInteger(v));

const MAX_STEP = PROPERTIES.steps.max as number;

function readRun(raw: unknown): SharedRun | string {
  const r = record(raw);
  if (!r) return 'not an object';
  const { label } = r;
  if (typeof label !== 'string' || label.length < 1 || label.length > MAX_LABEL_LENGTH || /\p{Cc}/u.test(label)) {
    return `label must be 1 to ${MAX_LABEL_LENGTH} characters without control characters`;
  }
  const setting = (['method', 'p', 'seed'] as const).map((k) => PROPERTIES[k].check(r[k])).find((m) => m !== undefined);
  if (setting) return setting;
  const s = record(r.summary);
  if (
    !s ||
    !isIn(s.bestValAccuracy, 0, 1) ||
    !isIn(s.finalAccuracy, 0, 1) ||
    !isIn(s.bestStep, 0, MAX_STEP, true) ||
    !isIn(s.seconds, 0, Number.MAX_VALUE)
  ) {
    return 'summary must hold accuracies from 0 to 1, a best step and seconds';
  }
  const c = record(r.curves);
  const train = readCurve(c?.train);
  const val = readCurve(c?.val);
  if (!train || !val) {
    return `curves must be train and val lists of at most ${MAX_CURVE_POINTS} [step, loss, accuracy] points`;
  }
  return {
    label,
    method: r.method as SharedRun['method'],
    p: r.p as number,
    seed: r.seed as number,
    summary: {
      bestValAccuracy: s.bestValAccuracy,
      bestStep: s.bestStep,
      finalAccuracy: s.finalAccuracy,
      seconds: s.seconds,
    },
    curves: { train, val },
  };
}

function readCurve(v: unknown): CurvePoint[] | undefined {
  if (!Array.isArray(v) || v.length > MAX_CURVE_POINTS) return undefined;
  const points: CurvePoint[] = [];
  for (const pt of v) {
    if (!Array.isArray(pt) || pt.length !== 3) return undefined;
    const [step, loss, accuracy] = pt as unknown[];
    if (!isIn(step, 0, MAX_STEP, true) || !isIn(loss, -Number.MAX_VALUE, Number.MAX_VALUE) || !isIn(accuracy, 0, 1))
      return undefined;
    points.push([step, loss, accuracy]);
  }
  return points;
}
