import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Real processes and sockets: generous deadlines, never fixed sleeps.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: end-to-end suites under load must not compete with each other.
    fileParallelism: process.env.FERRY_TEST_PARALLEL === '1',
    reporters: ['default'],
  },
});
