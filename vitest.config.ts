import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'core',
          root: 'packages/core',
          include: ['test/**/*.test.ts'],
        },
      },
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
