// SHA-256 (FIPS 180-4) in WebAssembly: one-shot and streaming. Input is staged through a fixed buffer,
// so hashing a large buffer neither grows WASM memory nor holds a view across calls.

import { describe } from '../_args.js';
import { u32View, u8View, layout } from '../wasm/memory.js';
import { runKernel } from '../wasm/loader.js';

/** Anything sha256 accepts: bytes, any typed array or DataView (its bytes), an ArrayBuffer, or a string (UTF-8). */
export type HashInput = Uint8Array | ArrayBufferView | ArrayBuffer | string;

// Bytes staged per kernel call: a multiple of the 64-byte block, large enough that the call and copy
// overheads vanish, small enough to stay in L2.
const STAGE = 1 << 16;
const IV = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const encoder = new TextEncoder();

/** The bytes of a hash input, without copying where a view will do. */
export function inputBytes(where: string, data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return encoder.encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data);
  }
  throw new TypeError(`${where}: expected a Uint8Array, ArrayBufferView, ArrayBuffer or string, got ${describe(data)}`);
}

// Absorbs the whole blocks of pending + data[from..], returns how far into data it got; the caller keeps
// the rest. pending holds 0..63 bytes left over from earlier updates.
function absorb(state: Uint32Array, pending: Uint8Array, pendingLength: number, data: Uint8Array): number {
  if (pendingLength + data.length < 64) return 0;
  return runKernel('sha256', (k) => {
    const [statePtr, stagePtr] = layout(k, 32, STAGE);
    u32View(k, statePtr, 8).set(state);
    const stage = u8View(k, stagePtr, STAGE);
    let used = 0;
    let carried = pendingLength;
    while (carried + data.length - used >= 64) {
      const bytes = Math.min(STAGE, (carried + data.length - used) & ~63);
      const take = bytes - carried;
      if (carried > 0) stage.set(pending.subarray(0, carried));
      stage.set(data.subarray(used, used + take), carried);
      k.sha256Blocks(statePtr, stagePtr, bytes >>> 6);
      used += take;
      carried = 0;
    }
    state.set(u32View(k, statePtr, 8));
    return used;
  });
}

// Pads and absorbs the last 0..63 bytes (plus, for one-shot calls, up to STAGE - 64 more) into a digest.
function finish(state: Uint32Array, tail: Uint8Array, totalBytes: number): Uint8Array {
  return runKernel('sha256', (k) => {
    const [statePtr, outPtr, stagePtr] = layout(k, 32, 32, STAGE);
    u32View(k, statePtr, 8).set(state);
    u8View(k, stagePtr, tail.length).set(tail);
    k.sha256Finish(statePtr, stagePtr, tail.length, totalBytes, outPtr);
    return u8View(k, outPtr, 32).slice();
  });
}

/**
 * A streaming SHA-256: `update` any number of chunks, then `digest` once.
 * @example
 * const hash = new Sha256();
 * for (const chunk of chunks) hash.update(chunk);
 * hash.digestHex(); // the same as sha256Hex of the chunks joined
 */
export class Sha256 {
  private readonly state = IV.slice();
  private readonly pending = new Uint8Array(64);
  private pendingLength = 0;
  private total = 0;
  private finished = false;

  /**
   * Absorbs a chunk.
   * @param chunk - bytes, a typed array's bytes, an ArrayBuffer, or a string (UTF-8).
   * @returns this, for chaining.
   * @throws {TypeError} for another kind of chunk.
   * @throws {Error} after digest() was called.
   */
  update(chunk: HashInput): this {
    const data = inputBytes('Sha256.update', chunk);
    if (this.finished) throw new Error('Sha256.update: the hash is already finished (digest() was called); create a new one');
    const used = absorb(this.state, this.pending, this.pendingLength, data);
    if (this.pendingLength + data.length >= 64) this.pendingLength = 0; // absorbed with the first block
    this.pending.set(data.subarray(used), this.pendingLength);
    this.pendingLength += data.length - used;
    this.total += data.length;
    return this;
  }

  /**
   * The 32-byte digest of everything absorbed; the hash cannot be updated afterwards.
   * @returns the digest.
   * @throws {Error} when called twice.
   */
  digest(): Uint8Array {
    if (this.finished) throw new Error('Sha256.digest: the hash is already finished; create a new one');
    this.finished = true;
    return finish(this.state, this.pending.subarray(0, this.pendingLength), this.total);
  }

  /**
   * The digest as 64 lowercase hex characters; the hash cannot be updated afterwards.
   * @returns the hex digest.
   * @throws {Error} when the digest was taken already.
   */
  digestHex(): string {
    return toHex(this.digest());
  }
}

/**
 * A streaming SHA-256 hasher (the same as `new Sha256()`).
 * @returns a fresh hasher.
 * @example
 * createSha256().update('ab').update('c').digestHex(); // 'ba7816bf…'
 */
export function createSha256(): Sha256 {
  return new Sha256();
}

/**
 * SHA-256 of bytes, a typed array's bytes, an ArrayBuffer or a string (UTF-8).
 * @param data - what to hash.
 * @returns the 32-byte digest.
 * @throws {TypeError} for another kind of input.
 * @example
 * sha256('abc'); // Uint8Array(32) [0xba, 0x78, …]
 */
export function sha256(data: HashInput): Uint8Array {
  const bytes = inputBytes('sha256', data);
  // Short inputs in one kernel call: no hasher object, one copy in, one copy out.
  if (bytes.length <= STAGE) return finish(IV.slice(), bytes, bytes.length);
  return new Sha256().update(bytes).digest();
}

/**
 * SHA-256 as 64 lowercase hex characters.
 * @param data - bytes, a typed array's bytes, an ArrayBuffer, or a string (UTF-8).
 * @returns the hex digest.
 * @throws {TypeError} for another kind of input.
 * @example
 * sha256Hex(''); // 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
 */
export function sha256Hex(data: HashInput): string {
  return toHex(sha256(data));
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}
