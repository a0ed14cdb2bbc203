import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tools/**/*.test.ts', 'e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // Two cores here: ONNX Runtime sessions and the convergence sweeps are CPU-bound.
    maxWorkers: 2,
  },
});
