// The order test files start in: the slowest first, so that the two workers end together rather than one
// of them finishing a long file alone while the other waits. Vitest orders by the durations it cached
// in an earlier run, and without them (a fresh clone) by file size, which puts several of the slowest
// files late.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The slowest files of a full run on 2 cores, slowest first (100 to 180 s each, then 35 to 90 s). */
const SLOWEST = [
  'tests/cli/train.test.ts',
  'tests/e2e/runs-kept.test.ts',
  'tests/e2e/compare-seeds.test.ts',
  'tests/e2e/compare-queue.test.ts',
  'tests/cli/families.test.ts',
  'tests/e2e/hub-dinov2.test.ts',
  'tests/e2e/same-run.test.ts',
  'tests/cli/real-scale.test.ts',
  'tests/e2e/insight.test.ts',
  'tests/cli/zoo.test.ts',
  'tests/e2e/zoo.test.ts',
  'tests/e2e/data-sources.test.ts',
  'tests/cli/stderr.test.ts',
  'tests/cli/linear-probe.test.ts',
  'tests/torch/same-run.test.ts',
  'tests/torch/vit-features.test.ts',
];

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Projects and their groups keep the base order; within a project the slowest come first, the others
    // after them in the base order (the sort is stable).
    const projectAt = new Map(sorted.map((f, i) => [f.project, i] as const).reverse());
    const rank = (f: TestSpecification) => {
      const i = SLOWEST.indexOf(relative(f.project.config.root, f.moduleId));
      return i < 0 ? SLOWEST.length : i;
    };
    return sorted.sort((a, b) => projectAt.get(a.project)! - projectAt.get(b.project)! || rank(a) - rank(b));
  }
}
