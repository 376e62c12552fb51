// Every test file runs twice: once on the SIMD build of the kernels, once on the scalar build.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/setup-build.ts'],
    testTimeout: 60_000,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test/artifacts/vitest.json' }]] : ['default'],
    projects: [
      { extends: true, test: { name: 'simd', env: { DASE_WASM_BUILD: 'simd' } } },
      { extends: true, test: { name: 'scalar', env: { DASE_WASM_BUILD: 'scalar' } } },
    ],
  },
});
