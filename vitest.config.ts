import { configDefaults, defineConfig } from 'vitest/config';

/** Run under both kernel layouts (src/gpu/layout.ts), whichever this machine's adapter would choose. */
const LAYOUT_TESTS = ['tests/kernels/**/*.test.ts', 'tests/nn/**/*.test.ts'];

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
    // Two files at a time, as many as the 2-core machines this runs on have cores: most of a browser or
    // command-line test's time is spent starting processes, compiling pipelines and waiting on them, which
    // another file's work fills. The kernel layouts come after, side by side (groupOrder 1), so no more
    // than two files run at once.
    projects: [
      {
        test: {
          ...shared, name: 'default', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, ...LAYOUT_TESTS],
          maxWorkers: 2, sequence: { groupOrder: 0 },
        },
      },
      ...(['cpu', 'gpu'] as const).map((layout) => ({
        test: { ...shared, name: `layout-${layout}`, include: LAYOUT_TESTS, env: { STOCHCA_LAYOUT: layout }, maxWorkers: 1, sequence: { groupOrder: 1 } },
      })),
    ],
  },
});
