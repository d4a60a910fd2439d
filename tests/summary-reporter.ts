// Prints the slowest test files, then one closing line "tests: N passed, N failed, N skipped"
// (and how many files failed before any test ran).
import type { Reporter, TestModule } from 'vitest/node';

const SLOWEST = 12;

export default class SummaryLine implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
    }
    // A file that fails before its tests run (an import, a top-level error) has no tests to count.
    const broken = modules.filter((m) => m.state() === 'failed' && [...m.children.allTests()].length === 0).length;
    // Where the suite's time goes, to keep it short.
    const slow = modules
      .map((m) => ({
        name: `${m.project.name} ${m.moduleId.replace(`${process.cwd()}/`, '')}`,
        s: m.diagnostic().duration / 1000,
      }))
      .sort((a, b) => b.s - a.s)
      .slice(0, SLOWEST);
    if (modules.length > 1)
      console.log(`slowest files:\n${slow.map((f) => `  ${f.s.toFixed(0).padStart(5)} s  ${f.name}`).join('\n')}`);
    console.log(
      `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` +
        (broken ? `; ${broken} file${broken > 1 ? 's' : ''} failed before any test ran` : ''),
    );
  }
}
