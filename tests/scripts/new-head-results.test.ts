// experiments/new-head/: the grid scripts/new-head-grid.ts measured holds what its protocol says (two
// targets, three or more image counts, five or more seeds, the linear probe, fine-tuning and two or more
// StochCA probabilities, a new head in every run, learning rates chosen on validation, runs not converged
// run again with twice the steps), results.md and figure.svg are what results.json gives, and the record
// beside them quotes results.md's tables; the heads of a thousand seeds (head-draws-*.json) begin with the
// runs' own starting scores. How many runs converged is a finding, stated in results.md.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { newHeadFigure } from '../../scripts/grid/new-head-figure.ts';
import { converged, newHeadReport, type NewHeadResults } from '../../scripts/grid/new-head-report.ts';
import { methodLabel } from '../../scripts/grid/stats.ts';

const DIR = 'experiments/new-head';
const results = JSON.parse(readFileSync(`${DIR}/results.json`, 'utf8')) as NewHeadResults;
const grid = results.runs.filter((r) => r.engine === 'pytorch');

describe('the new-head grid', () => {
  it('covers the protocol: targets, counts, seeds and methods, one run of each', () => {
    expect(results.targets.length).toBeGreaterThanOrEqual(2);
    expect(results.counts.length).toBeGreaterThanOrEqual(3);
    expect(results.seeds.length).toBeGreaterThanOrEqual(5);
    expect(results.methods).toEqual(expect.arrayContaining(['linear-probe', 'finetune']));
    expect(results.methods.filter((m) => m.startsWith('stochca:')).length).toBeGreaterThanOrEqual(2);
    const expected = results.targets.flatMap((t) =>
      results.counts.flatMap((c) =>
        results.methods.flatMap((m) => results.seeds.map((s) => `${t.name} ${c} ${m} ${s}`)),
      ),
    );
    expect(grid.map((r) => `${r.target} ${r.images_per_class} ${r.method} ${r.seed}`).sort()).toEqual(expected.sort());
  });

  it('keeps every run of results.json as its runs/<id>/result.json, from which a clone resumes the grid', () => {
    for (const r of [...results.runs, ...results.lr_sweep, ...results.replaced])
      expect(JSON.parse(readFileSync(`${DIR}/runs/${r.id}/result.json`, 'utf8')), r.id).toEqual(r);
  });

  it('gives every run a new head and the fields a reader needs', () => {
    for (const r of results.runs) {
      // A new head: the digits model's own head scores 99.4 % on the near target; a random one is near chance
      // (how near is a finding, in results.md).
      expect(r.pretrained_target_accuracy).toBeLessThan(0.25);
      expect(r.p).toBe(r.method.startsWith('stochca:') ? Number(r.method.split(':')[1]) : 0);
      expect(r.lr).toBe(results.lr_choice[r.target][r.method].lr);
      expect(r.settings).toEqual(results.settings);
      expect(r.counts.train).toBe(r.images_per_class * 10);
      for (const a of [r.target_test_accuracy, r.final_target_test_accuracy, ...Object.values(r.unseen_accuracy)])
        expect(a).toBeGreaterThan(0);
      expect(r.source_test_accuracy === null).toBe(r.target === 'far');
      // Model selection on validation only.
      expect(Math.max(...r.val_curve.map(([, a]) => a))).toBe(r.best_val_accuracy);
      expect(r.converged).toBe(converged(r.val_curve, results.flat));
    }
  });

  it("measured the heads of many seeds with the grid's own draws: the first seeds' are the runs' starting scores", () => {
    for (const t of results.targets) {
      const draws = JSON.parse(readFileSync(`${DIR}/head-draws-${t.name}.json`, 'utf8')) as {
        above_20: number;
        accuracies: number[];
      };
      expect(draws.accuracies.length).toBeGreaterThanOrEqual(1000);
      expect(draws.above_20).toBe(draws.accuracies.filter((a) => a > 0.2).length);
      for (const r of results.runs.filter((x) => x.target === t.name))
        expect(r.pretrained_target_accuracy, r.id).toBe(draws.accuracies[r.seed]);
    }
  });

  it('chose each learning rate on validation from the rates tried', () => {
    for (const t of results.targets) {
      for (const m of results.methods) {
        const { lr, tried } = results.lr_choice[t.name][m];
        expect(tried.map(([rate]) => rate).sort()).toEqual([...results.lrs].sort());
        const best = Math.max(...tried.map(([, a]) => a));
        expect(tried.find(([rate]) => rate === lr)![1]).toBe(best);
      }
    }
  });

  it('ran again with twice the steps exactly the runs not converged, up to `again` times', () => {
    // A run of 2^k times its target's steps replaced its k shorter runs, each not converged.
    const expected: string[] = [];
    for (const r of grid) {
      const k = Math.log2(r.steps / results.settings.steps[r.target]);
      expect(Number.isInteger(k) && k >= 0 && k <= results.again, r.id).toBe(true);
      const first = r.id.replace(/_t\d+$/, '');
      for (let j = 0; j < k; j++)
        expected.push(j === 0 ? first : `${first}_t${2 ** j * results.settings.steps[r.target]}`);
    }
    expect(results.replaced.map((r) => r.id).sort()).toEqual(expected.sort());
    for (const r of results.replaced) expect(r.converged).toBe(false);
  });

  it("says in results.md what each doubling of the steps changed, as the runs' curves give it", () => {
    // Each row, recomputed here from the runs: how many, the mean change of the final validation, how
    // many of the longer runs converged.
    const rows = readFileSync(`${DIR}/results.md`, 'utf8')
      .split('\n')
      .filter((line) => line.includes(' → '));
    const everyRun = [...results.runs, ...results.replaced].filter((r) => r.engine === 'pytorch');
    const last = (curve: [number, number][]) => curve[curve.length - 1][1];
    let pairs = 0;
    for (const row of rows) {
      const [label, runs, finalChange, , convergedAfter] = row.slice(2, -2).split(' | ');
      const [, target, method, from, to] = /^(\w+), (.+), (\d+) → (\d+)$/.exec(label)!;
      const shorter = results.replaced.filter(
        (r) => r.target === target && r.steps === Number(from) && methodLabel(r.method) === method,
      );
      const longer = shorter.map((r) => everyRun.find((l) => l.id === `${r.id.replace(/_t\d+$/, '')}_t${to}`)!);
      expect(Number(runs), label).toBe(shorter.length);
      const change = longer.reduce((a, l, i) => a + last(l.val_curve) - last(shorter[i].val_curve), 0) / shorter.length;
      expect(Number(/^\**([+−][\d.]+)/.exec(finalChange)![1].replace('−', '-')), label).toBeCloseTo(100 * change, 1);
      expect(Number(convergedAfter), label).toBe(longer.filter((l) => l.converged).length);
      pairs += shorter.length;
    }
    expect(pairs).toBe(results.replaced.length);
  });

  it('ran a cell of every target in the engine too', () => {
    const engine = results.runs.filter((r) => r.engine === 'webgpu');
    for (const t of results.targets) expect(engine.some((r) => r.target === t.name)).toBe(true);
  });

  it('was measured from the models the project ships', () => {
    for (const t of results.targets)
      expect(t.modelSha256).toBe(createHash('sha256').update(readFileSync(t.model)).digest('hex'));
  });

  it('writes results.md and figure.svg from results.json, and the record quotes its tables', () => {
    const md = readFileSync(`${DIR}/results.md`, 'utf8');
    expect(md).toBe(newHeadReport(results));
    expect(readFileSync(`${DIR}/figure.svg`, 'utf8')).toBe(newHeadFigure(results));
    const record = readFileSync(`${DIR}/README.md`, 'utf8');
    const rows = record.split('\n').filter((line) => line.startsWith('| '));
    expect(rows.length).toBeGreaterThan(10);
    const mdLines = new Set(md.split('\n'));
    expect(rows.filter((row) => !mdLines.has(row))).toEqual([]);
  });
});
