import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Handlers and the workload log JSON on every call; show it only for a test that fails.
    silent: 'passed-only',
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
