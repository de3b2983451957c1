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
      thresholds: { lines: 85, branches: 75, functions: 85, statements: 85 },
    },
  },
});
