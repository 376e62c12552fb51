import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { applyLaplacian, csrMatVec, glWeights, laplacian, init, kernelInfo, sha256Hex, simdSupported } from '../src/node.js';
import { kernels, runKernel } from '../src/wasm/loader.js';
import { layout } from '../src/wasm/memory.js';
import { SCALAR_WASM_SHA256, SIMD_WASM_SHA256 } from '../src/wasm/generated/embedded.js';

const project = process.env.DASE_WASM_BUILD as 'simd' | 'scalar';
const wasmFile = (build: string) => readFileSync(new URL(`../build/kernels-${build}.wasm`, import.meta.url));

describe('the WASM loader', () => {
  afterAll(async () => { await init({ simd: project === 'simd' }); });

  it('runs the build this test project asked for', () => {
    expect(kernelInfo().build).toBe(project);
    expect(kernelInfo().wasmSha256).toBe(project === 'simd' ? SIMD_WASM_SHA256 : SCALAR_WASM_SHA256);
    expect(simdSupported()).toBe(true); // Node 20's V8 has WebAssembly SIMD
  });

  it('reports the SHA-256 of the binary it runs', () => {
    expect(kernelInfo().wasmSha256).toBe(sha256Hex(wasmFile(project)));
  });

  it('loads the shipped .wasm files from bytes, and both builds agree bit for bit', async () => {
    const u = Float64Array.from({ length: 37 * 41 }, (_, i) => Math.sin(i * 0.7));
    const results: Record<string, { gl: Float64Array; lap: Float64Array }> = {};
    for (const build of ['simd', 'scalar'] as const) {
      expect(await init({ bytes: wasmFile(build) })).toEqual({ build, wasmSha256: build === 'simd' ? SIMD_WASM_SHA256 : SCALAR_WASM_SHA256 });
      results[build] = { gl: glWeights(0.731, 100_001), lap: applyLaplacian(u, [37, 41], { accuracy: 6, boundary: 'periodic' }) };
    }
    expect(results.simd.gl).toEqual(results.scalar.gl);
    expect(results.simd.lap).toEqual(results.scalar.lap);
  });

  it('refuses a binary that is not one of this version\'s builds', async () => {
    const stale = new Uint8Array(wasmFile('simd'));
    stale[stale.length - 1] ^= 1;
    await expect(init({ bytes: stale })).rejects.toThrow(/options.bytes is not a kernels .wasm of this dase-cache version/);
    await expect(init({ bytes: wasmFile('scalar'), simd: true })).rejects.toThrow(/options.simd is true but the given binary is the scalar build/);
    await expect(init({ bytes: wasmFile('scalar'), url: 'http://localhost/x.wasm' })).rejects.toThrow(/not both/);
    await expect(init({ simd: 'yes' as unknown as boolean })).rejects.toThrow(TypeError);
    await expect(init({ bytes: 'abc' as unknown as BufferSource })).rejects.toThrow(TypeError);
    expect(kernelInfo().build).toBe('scalar'); // the last good init stays in force
  });

  it('turns a trap into an ordinary error and stays usable', () => {
    expect(() => runKernel('probe', () => { throw new WebAssembly.RuntimeError('unreachable'); }))
      .toThrow(new Error('dase-cache: probe failed inside its WASM kernel (unreachable)'));
    expect(() => runKernel('probe', () => { throw new WebAssembly.RuntimeError('x'); })).not.toThrow(WebAssembly.RuntimeError);
    expect(glWeights(0.5, 3)).toEqual(new Float64Array([1, -0.5, -0.125]));
  });

  it('reports memory it cannot get as a RangeError and stays usable', () => {
    expect(() => layout(kernels(), 2 ** 33)).toThrow(/the kernels need \d+ bytes of WebAssembly memory/);
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('handles long 1-D grids (tables stay O(stencil), not O(n))', () => {
    const n = 1_000_000;
    const u = Float64Array.from({ length: n }, (_, i) => (i % 7) - 3);
    const options = { accuracy: 4, boundary: 'periodic' } as const;
    expect(applyLaplacian(u, [n], options)).toEqual(csrMatVec(laplacian([n], options), u));
  });
});
