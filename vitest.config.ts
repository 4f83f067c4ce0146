import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests bind fixed-port-free servers on 127.0.0.1; two cores here, keep it modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
