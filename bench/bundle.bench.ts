// What a page downloads for dase-cache: the browser entry bundled by esbuild (minified, tree-shaken as a
// user's bundler would, `"sideEffects": false` honoured) for the kernels alone, and for the kernels with the
// cache on OPFS and memoization; raw and gzipped (what goes over the wire).

import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { SCALAR_WASM_BASE64, SIMD_WASM_BASE64 } from '../src/wasm/generated/embedded.js';

/** One bundle's size, as bench/run.ts stores it. */
export interface BundleSize {
  name: string;
  /** What the entry imports from 'dase-cache'. */
  imports: string[];
  minifiedBytes: number;
  gzipBytes: number;
  /** Of the minified bytes: the two embedded WASM builds, base64. */
  embeddedWasmBytes: number;
  /** Whether the bundle has no `node:` import (it must not). */
  browserClean: boolean;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const KERNELS = [
  'glWeights', 'glWeightsInto', 'glDerivative', 'caputoL1', 'fornbergWeights', 'fdCoefficients', 'laplacian',
  'applyLaplacian', 'csrMatVec', 'sha256', 'sha256Hex', 'createSha256', 'init', 'kernelInfo',
];
const CACHE = ['CacheManager', 'memoize', 'cachedKernels', 'CacheError', 'CacheMissError', 'IntegrityError'];

const ENTRIES: Array<{ name: string; imports: string[] | '*' }> = [
  { name: 'kernels only', imports: KERNELS },
  { name: 'kernels + CacheManager (OPFS) + memoize', imports: [...KERNELS, ...CACHE] },
  { name: "everything (import * from 'dase-cache')", imports: '*' },
];

async function measure(name: string, imports: string[] | '*'): Promise<BundleSize> {
  const contents = imports === '*'
    ? "export * from './src/index.ts';"
    : `export { ${imports.join(', ')} } from './src/index.ts';`;
  const result = await build({
    stdin: { contents, resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, write: false, logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const text = result.outputFiles[0].text;
  return {
    name,
    imports: imports === '*' ? ['*'] : imports,
    minifiedBytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    embeddedWasmBytes: (text.includes(SIMD_WASM_BASE64) ? SIMD_WASM_BASE64.length : 0) + (text.includes(SCALAR_WASM_BASE64) ? SCALAR_WASM_BASE64.length : 0),
    browserClean: !/["']node:/.test(text),
  };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Bundles each entry and prints its sizes. */
export async function benchBundle(): Promise<BundleSize[]> {
  const results: BundleSize[] = [];
  for (const entry of ENTRIES) results.push(await measure(entry.name, entry.imports));
  const width = Math.max(...results.map((r) => r.name.length));
  console.log(`${'browser bundle (esbuild, minified)'.padEnd(width)}  ${'minified'.padStart(10)}  ${'gzip -9'.padStart(10)}  ${'of which WASM (base64)'.padStart(22)}`);
  for (const r of results) {
    console.log(`${r.name.padEnd(width)}  ${kib(r.minifiedBytes).padStart(10)}  ${kib(r.gzipBytes).padStart(10)}  ${kib(r.embeddedWasmBytes).padStart(22)}${r.browserClean ? '' : '  (has node: imports!)'}`);
  }
  const [kernels, withCache] = results;
  console.log(`\nThe cache and memoization add ${kib(withCache.minifiedBytes - kernels.minifiedBytes)} minified, `
    + `${kib(withCache.gzipBytes - kernels.gzipBytes)} gzipped, to the kernels.\n`);
  return results;
}
