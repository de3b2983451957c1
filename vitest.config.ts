import { configDefaults, defineConfig } from 'vitest/config';

/** The suites that drive a browser: `npm test` runs them, CodeBuild's build stage (no browser there) does not. */
export const BROWSER_SUITES = ['test/console/**/*.test.ts'];

/**
 * The suites that run against moto_server and Terraform (docs/terraform.md, "Applied against moto"): `npm test`
 * runs them with one moto server for the run; CodeBuild's build stage (no moto or Terraform there) does not.
 */
export const MOTO_SUITES = ['test/**/*.moto.test.ts'];

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Handlers and the workload log JSON on every call; show it only for a test that fails.
    silent: 'passed-only',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...BROWSER_SUITES, ...MOTO_SUITES],
        },
      },
      { extends: true, test: { name: 'browser', include: BROWSER_SUITES } },
      {
        extends: true,
        test: {
          name: 'moto',
          include: MOTO_SUITES,
          globalSetup: ['test/support/moto-global-setup.ts'],
          setupFiles: ['test/support/moto-file-setup.ts'],
        },
      },
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
