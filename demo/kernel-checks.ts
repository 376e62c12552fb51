// The kernels' outputs on fixed inputs: the demo page computes them in the browser and the end-to-end test
// in Node, and the SHA-256s of their bytes say whether both run the kernels bit for bit alike.
// Inputs avoid Math.exp, ** and friends, so that the engines' own math libraries play no part: those are
// not bit for bit alike across V8 versions (Node 20 and Chromium 156 differ in the last bit of some
// Math.exp and x ** y results), which is why the diffusion model itself is not among the checks.

import {
  applyLaplacian, caputoL1, csrMatVec, fdCoefficients, fornbergWeights, glDerivative, glWeights, laplacian, sha256,
  type CsrMatrix,
} from '../src/core.js';
import { crc32 } from '../src/kernels/crc32.js';

/** A deterministic field of n values in [0, 1), from integer arithmetic only. */
function field(n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = ((i * 7919 + 13) % 1009) / 1009;
  return out;
}

function csrParts(a: CsrMatrix): ArrayBufferView[] {
  return [a.indptr, a.indices, a.data];
}

/** Each check: a name and the typed arrays whose bytes, in order, are its output. */
export function kernelChecks(): Array<[string, ArrayBufferView[]]> {
  const u = field(64 * 64);
  const history = field(2000);
  const fd = fdCoefficients(1, 6, 'forward');
  return [
    ['glWeights(0.5, 1000)', [glWeights(0.5, 1000)]],
    ['glWeights(1.3, 4097)', [glWeights(1.3, 4097)]],
    ['fornbergWeights(2, 0, [-2..2])', [fornbergWeights(2, 0, [-2, -1, 0, 1, 2])]],
    ["fdCoefficients(1, 6, 'forward')", [fd.offsets, fd.weights]],
    ["laplacian([32, 32], periodic, accuracy 4)", csrParts(laplacian([32, 32], { boundary: 'periodic', accuracy: 4 }))],
    ["laplacian([8, 9, 10], neumann)", csrParts(laplacian([8, 9, 10], { boundary: 'neumann' }))],
    ['applyLaplacian(u, [64, 64])', [applyLaplacian(u, [64, 64], { spacing: 0.1 })]],
    ['csrMatVec(laplacian([64, 64]), u)', [csrMatVec(laplacian([64, 64]), u)]],
    ['glDerivative(f, 0.5, 0.01), 200 samples', [glDerivative(history.subarray(0, 200), 0.5, 0.01)]],
    ['glDerivative(f, 0.5, 0.01), 2000 samples', [glDerivative(history, 0.5, 0.01)]],
    ['caputoL1(f, 0.7, 0.01), 2000 samples', [caputoL1(history, 0.7, 0.01)]],
    ['sha256(1 MiB)', [sha256(new Uint8Array(1 << 20).map((_, i) => i * 31))]],
    // Past the 64 KiB staging buffer, from an odd offset, continued from a previous CRC (as zip members are).
    ['crc32(1 MiB + 3 at offset 5, from 0x1234)', [new Uint32Array([crc32(new Uint8Array((1 << 20) + 8).map((_, i) => i * 131 + (i >> 9)).subarray(5), 0x1234)])]],
  ];
}

/** Bytes of a typed array (or DataView), as stored: little-endian on every platform that runs WASM. */
export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * The SHA-256 (hex) of each check's output, by the given hash of its parts' bytes.
 * @param digest - the SHA-256 of the concatenated parts, in hex (the page's WASM one, or node:crypto).
 */
export function hashKernelChecks(digest: (parts: Uint8Array[]) => string): Record<string, string> {
  return Object.fromEntries(kernelChecks().map(([name, parts]) => [name, digest(parts.map(bytesOf))]));
}
