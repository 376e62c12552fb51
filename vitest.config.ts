// Every test file runs twice: once on the SIMD build of the kernels, once on the scalar build.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds dist/ (the dase-cache binary the CLI tests run) when src/ changed; once per run.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-build.ts'],
    testTimeout: 60_000,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test/artifacts/vitest.json' }]] : ['default'],
    projects: [
      { extends: true, test: { name: 'simd', env: { DASE_WASM_BUILD: 'simd' } } },
      { extends: true, test: { name: 'scalar', env: { DASE_WASM_BUILD: 'scalar' } } },
    ],
  },
});
