import { configDefaults, defineConfig } from 'vitest/config';
import SlowestFirst from './tests/slowest-first.ts';

/** Run under both kernel layouts (src/gpu/layout.ts), whichever this machine's adapter would choose. */
const LAYOUT_TESTS = ['tests/kernels/**/*.test.ts', 'tests/nn/**/*.test.ts'];
/** They time the page's main thread (long tasks), which another file's processes would take turns with. */
const RESPONSIVENESS_TESTS = ['tests/e2e/playground.test.ts', 'tests/e2e/real-scale.test.ts'];

const shared = {
  // Dawn is a native addon: one process per test file.
  pool: 'forks',
  // A test that takes a minute alone takes up to twice that beside another file on two cores.
  testTimeout: 300_000,
  hookTimeout: 120_000,
} as const;

export default defineConfig({
  test: {
    // Root only: it runs once for every project, and projects read what it provides.
    globalSetup: ['tests/global-setup.ts'],
    reporters: ['default', './tests/summary-reporter.ts'],
    sequence: { sequencer: SlowestFirst },
    // Two files at a time, as many as the 2-core machines this runs on have cores: most of a browser or
    // command-line test's time is spent starting processes, compiling pipelines and waiting on them, which
    // another file's work fills. The kernel layouts come after, side by side (groupOrder 1), so no more
    // than two files run at once; the files that time the page's main thread come last, one at a time
    // with nothing beside them.
    projects: [
      {
        test: {
          ...shared,
          name: 'default',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...LAYOUT_TESTS, ...RESPONSIVENESS_TESTS],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      ...(['cpu', 'gpu'] as const).map((layout) => ({
        test: {
          ...shared,
          name: `layout-${layout}`,
          include: LAYOUT_TESTS,
          env: { STOCHCA_LAYOUT: layout },
          // A group's projects share one pool of the group's maxWorkers: 2 runs a file of each layout at once.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      })),
      {
        test: {
          ...shared,
          name: 'responsiveness',
          include: RESPONSIVENESS_TESTS,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
