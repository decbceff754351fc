import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: 'node_modules/.cache/vitest/results.json' }]],
    projects: [
      {
        test: {
          name: 'core',
          root: 'packages/core',
          include: ['test/**/*.test.ts'],
        },
      },
      ...['express', 'koa', 'passport', 'nestjs', 'testing', 'client', 'redis', 'workload-api', 'grpc'].map(
        (name) => ({
          test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'], testTimeout: 20000 },
        }),
      ),
      {
        test: {
          name: 'e2e',
          root: 'test',
          include: ['**/*.test.ts', '**/*.test.mjs'],
          testTimeout: 30000,
        },
      },
    ],
  },
});
