import { configDefaults, defineConfig } from 'vitest/config';

/** The suites that drive a browser: `npm test` runs them, CodeBuild's build stage (no browser there) does not. */
export const BROWSER_SUITES = ['test/console/**/*.test.ts'];

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Handlers and the workload log JSON on every call; show it only for a test that fails.
    silent: 'passed-only',
    // Powertools' Logger writes to the process's stdout itself, past `silent`: in-process handlers log warnings and
    // errors only. Local Lambda workers get their functions' own variables, not these.
    env: { POWERTOOLS_LOG_LEVEL: 'WARN' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...BROWSER_SUITES] },
      },
      { extends: true, test: { name: 'browser', include: BROWSER_SUITES } },
    ],
    coverage: {
      provider: 'v8',
      include: [
        'app/**/*.ts',
        'api/**/*.ts',
        'config/**/*.ts',
        'core/**/*.ts',
        'adapters/**/*.ts',
        'handlers/**/*.ts',
        'state-machine/**/*.ts',
      ],
      exclude: ['**/*.d.ts'],
      thresholds: { lines: 90, branches: 80, functions: 90, statements: 90 },
    },
  },
});
