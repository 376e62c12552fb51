// Node's pieces: SHA-256 checksums by node:crypto, which uses the CPU's SHA instructions
// (about 5x the fastest WASM SHA-256 on CPUs that have them).

import { createHash } from 'node:crypto';
import { inputBytes, type HashInput } from '../kernels/sha256.js';

/**
 * SHA-256 of data as 64 hex characters, by the fastest engine of the platform (here node:crypto).
 * @param data - bytes, a typed array's bytes, an ArrayBuffer, or a string (UTF-8).
 * @returns lowercase hex digest, as `sha256sum` prints it.
 * @throws {TypeError} for another kind of input.
 * @example
 * checksum(new Uint8Array([1, 2, 3])); // '039058c6…'
 */
export function checksum(data: HashInput): string {
  return createHash('sha256').update(inputBytes('checksum', data)).digest('hex');
}
