// The resumable loop of an experiment grid: a run's result.json is written last, so a run whose
// result.json exists is done and skipped, and an interrupted grid continues where it stopped.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GridError } from './options.ts';
import { mean } from './stats.ts';
import { seconds } from './stochca.ts';

/** What every run result holds: the grid settings it was made with. */
export interface Finished<S> {
  settings: S;
}

export const runDir = (out: string, id: string) => join(out, 'runs', id);

/** A finished run of these settings, or undefined; a finished run of other settings is an error. */
function finished<S extends object, R extends Finished<S>>(out: string, id: string, settings: S): R | undefined {
  const path = join(runDir(out, id), 'result.json');
  if (!existsSync(path)) return undefined;
  const r = JSON.parse(readFileSync(path, 'utf8')) as R;
  const keys = Object.keys(settings) as (keyof S)[];
  const differ = keys.filter((k) => JSON.stringify(r.settings[k]) !== JSON.stringify(settings[k]));
  if (differ.length) {
    throw new GridError(
      `${path} was made with other settings (${differ
        .map((k) => `${String(k)} ${JSON.stringify(r.settings[k])} now ` + `${JSON.stringify(settings[k])}`)
        .join(', ')}): use another --out, or delete it`,
    );
  }
  return r;
}

/** Runs every planned run not finished before, `parallel` at a time (default 1) in plan order, with a line of
 *  progress each; returns all results in plan order. */
export async function runAll<P, S extends object, R extends Finished<S>>(o: {
  plan: P[];
  out: string;
  settings: S;
  id: (p: P) => string;
  /** Runs one, with its folder made; the result is written to result.json by runAll. */
  run: (p: P, dir: string) => Promise<R>;
  line: (r: R) => string;
  parallel?: number;
}): Promise<R[]> {
  const results: R[] = new Array(o.plan.length);
  const spent: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < o.plan.length) {
      const k = next++;
      const p = o.plan[k];
      const id = o.id(p);
      const tag = `[${k + 1}/${o.plan.length}] ${id}`;
      const done = finished<S, R>(o.out, id, o.settings);
      if (done) {
        console.log(`${tag}: done before, skipped`);
        results[k] = done;
        continue;
      }
      const started = performance.now();
      const dir = runDir(o.out, id);
      await mkdir(dir, { recursive: true });
      const r = await o.run(p, dir);
      await writeFile(join(dir, 'result.json'), `${JSON.stringify(r, null, 1)}\n`);
      spent.push(seconds(started));
      results[k] = r;
      const left = Math.round((mean(spent) * (o.plan.length - k - 1)) / (o.parallel ?? 1) / 60);
      console.log(`${tag}: ${spent.at(-1)} s: ${o.line(r)}; about ${left} min left`);
    }
  };
  await Promise.all(Array.from({ length: o.parallel ?? 1 }, worker));
  return results;
}
