import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file gets its own process: brokers, sockets and SQLite handles never leak between files.
    pool: 'forks',
    // Most files spend their time waiting on sockets and child processes: two at once fit 2 cores.
    maxWorkers: 2,
  },
});
