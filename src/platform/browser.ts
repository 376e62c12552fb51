// Browser pieces: SHA-256 checksums by the WASM kernel, because crypto.subtle is asynchronous and cannot
// stream; and, for whole buffers in code that is asynchronous anyway, by crypto.subtle where it is faster.

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

// Measured in headless Chromium (bench/browser.bench.ts, 2026-12-04): crypto.subtle is 1.4x slower than the
// WASM kernel at 1 KiB (its fixed cost) and 2-4x faster from 16 KiB up (1.1-1.9 GB/s against 0.5 GB/s).
const SUBTLE_FROM_BYTES = 16 * 1024;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * SHA-256 of a whole buffer as 64 hex characters: by crypto.subtle from 16 KiB up where the page has it (a
 * secure context), by the WASM kernel below that and elsewhere.
 * @param bytes - the buffer (not a view of shared memory, which crypto.subtle refuses).
 * @returns lowercase hex digest.
 * @example
 * await digestHex(new Uint8Array(1 << 20)); // '30e14955…'
 */
export async function digestHex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (bytes.length < SUBTLE_FROM_BYTES || subtle === undefined
    || (typeof SharedArrayBuffer !== 'undefined' && bytes.buffer instanceof SharedArrayBuffer)) {
    return sha256Hex(bytes);
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const byte of digest) hex += HEX[byte];
  return hex;
}
