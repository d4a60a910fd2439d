// experiments/transfer/: the grid that scripts/transfer-grid.ts measured is complete, its fine-tuning
// runs meet the convergence criterion, results.md is what results.json gives, and the tables of its record
// (experiments/transfer/README.md) are results.md's and name the model it started from, the one public/models holds.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { converged, transferReport, type TransferResults } from '../../scripts/grid/transfer-report.ts';

const DIR = 'experiments/transfer';
const results = JSON.parse(readFileSync(`${DIR}/results.json`, 'utf8')) as TransferResults;

describe('the transfer grid', () => {
  it('holds one run of every fraction, method and seed, with the fields a reader needs', () => {
    expect(results.methods).toEqual(expect.arrayContaining(['finetune', 'stochca:0.1', 'stochca:0.3', 'stochca:0.5']));
    expect(results.seeds.length).toBeGreaterThanOrEqual(3);
    expect(results.fractions.length).toBeGreaterThanOrEqual(3);
    const ids = results.fractions.flatMap((f) =>
      results.methods.flatMap((m) => results.seeds.map((s) => `${f} ${m} ${s}`)),
    );
    expect(results.runs.map((r) => `${r.fraction} ${r.method} ${r.seed}`).sort()).toEqual(ids.sort());
    for (const r of results.runs) {
      expect(r.p).toBe(r.method === 'finetune' ? 0 : Number(r.method.split(':')[1]));
      expect(r.steps).toBe(results.settings.steps);
      expect(r.settings).toEqual(results.settings);
      for (const a of [r.target_test_accuracy, r.source_test_accuracy, ...Object.values(r.unseen_accuracy)])
        expect(a).toBeGreaterThan(0);
      expect(Object.keys(r.unseen_accuracy)).toEqual(['uci']);
      // Model selection on validation only: the best-validation step is the best point of the curve.
      expect(Math.max(...r.val_curve.map(([, a]) => a))).toBe(r.best_val_accuracy);
      expect(r.converged).toBe(converged(r.val_curve, results.flat));
    }
  });

  it('was measured from the digits model the project ships', () => {
    expect(results.settings.model).toBe('public/models/vit-mnist.safetensors');
    expect(results.settings.modelSha256).toBe(
      createHash('sha256').update(readFileSync(results.settings.model)).digest('hex'),
    );
  });

  it('has every fine-tuning run converged', () => {
    expect(results.runs.filter((r) => r.method === 'finetune' && !r.converged).map((r) => r.id)).toEqual([]);
  });

  it('writes results.md from results.json, and the record beside it quotes its tables', () => {
    const md = readFileSync(`${DIR}/results.md`, 'utf8');
    expect(md).toBe(transferReport(results));
    const section = readFileSync(`${DIR}/README.md`, 'utf8');
    // The record names the model the grid was measured from.
    expect(section).toContain(`sha256 ${results.settings.modelSha256.slice(0, 8)}…`);
    const rows = section.split('\n').filter((line) => line.startsWith('| '));
    expect(rows.length).toBeGreaterThan(10);
    const mdLines = new Set(md.split('\n'));
    expect(rows.filter((row) => !mdLines.has(row))).toEqual([]);
  });
});
