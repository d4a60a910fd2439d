// Command-line pieces the experiment scripts share: checked numbers and lists, the methods compared
// (fine-tuning or StochCA at a p) and the error that ends a script with one line instead of a stack.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export class GridError extends Error {}

export interface Method {
  /** 'finetune' or 'stochca:P'. */
  name: string;
  /** The cross-attention probability: 0 for fine-tuning. */
  p: number;
  /** The flags that select it in `stochca train`. */
  args: string[];
}

export function parseMethod(text: string): Method {
  if (text === 'finetune') return { name: text, p: 0, args: ['--method', 'finetune'] };
  const m = /^stochca:(.+)$/.exec(text);
  const p = m ? Number(m[1]) : NaN;
  if (!(p >= 0 && p <= 1)) throw new GridError(`--methods: '${text}' is not finetune or stochca:P with P in [0, 1]`);
  return { name: `stochca:${p}`, p, args: ['--method', 'stochca', '--p', String(p)] };
}

export interface Range {
  int?: boolean;
  min?: number;
  max?: number;
  above?: number;
}

export function number(flag: string, text: string, o: Range = {}): number {
  const n = Number(text);
  const ok = text.trim() !== '' && Number.isFinite(n) && (!o.int || Number.isInteger(n)) &&
    (o.min === undefined || n >= o.min) && (o.max === undefined || n <= o.max) && (o.above === undefined || n > o.above);
  if (!ok) throw new GridError(`--${flag}: '${text}' is not ${o.int ? 'a whole number' : 'a number'} in range`);
  return n;
}

export const list = (flag: string, text: string, o: Range) => text.split(',').map((t) => number(flag, t, o));

export const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

export const CROPS = ['random-resized', 'random', 'none'];

export function crop(text: string): string {
  if (!CROPS.includes(text)) throw new GridError(`--crop: '${text}' is not ${CROPS.join(', ')}`);
  return text;
}
