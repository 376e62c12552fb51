// Browser pieces: SHA-256 checksums by the WASM kernel, because crypto.subtle is asynchronous and
// cannot stream.

import { sha256Hex, inputBytes, type HashInput } from '../kernels/sha256.js';

/**
 * SHA-256 of data as 64 hex characters, by the fastest engine of the platform (here the WASM kernel).
 * @param data - bytes, a typed array's bytes, an ArrayBuffer, or a string (UTF-8).
 * @returns lowercase hex digest, as `sha256sum` prints it.
 * @throws {TypeError} for another kind of input.
 * @example
 * checksum(new Uint8Array([1, 2, 3])); // '039058c6…'
 */
export function checksum(data: HashInput): string {
  return sha256Hex(inputBytes('checksum', data));
}
