// Pins the kernels to the build named by the test project (see vitest.config.ts) before any test runs.
import { init } from '../src/node.js';

const build = process.env.DASE_WASM_BUILD;
if (build !== 'simd' && build !== 'scalar') throw new Error(`DASE_WASM_BUILD must be simd or scalar, got ${build}`);
await init({ simd: build === 'simd' });
