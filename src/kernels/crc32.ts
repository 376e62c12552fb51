// CRC-32 (IEEE 802.3, as zip, gzip and zlib compute it) in WebAssembly: the checksum of each member of the
// .npz files the browser cache writes (Node has zlib.crc32, which is native). Input is staged through a fixed
// buffer, so a large input neither grows WASM memory nor holds a view across calls.

import { describe, integerInRange } from '../_args.js';
import { layout, u8View } from '../wasm/memory.js';
import { runKernel } from '../wasm/loader.js';

// Bytes staged per kernel call: large enough that the call overhead vanishes, small enough to stay in L2
// beside the 16 KiB of tables. The copy in (WASM reads only its own memory) adds 15-25% to the kernel's time.
const STAGE = 1 << 16;

/**
 * CRC-32 of data, continuing from `previous`, as Node's `zlib.crc32(data, previous)`: so
 * `crc32(b, crc32(a))` is the CRC-32 of `a` followed by `b`.
 * @param data - the bytes.
 * @param previous - the CRC-32 of the bytes before `data`, an unsigned 32-bit integer; 0 (default) to start.
 * @returns the CRC-32, an unsigned 32-bit integer.
 * @throws {TypeError} when data is not a Uint8Array, or previous is not a number.
 * @throws {RangeError} when previous is not an integer in [0, 4294967295].
 * @example
 * crc32(new TextEncoder().encode('123456789')); // 0xcbf43926
 */
export function crc32(data: Uint8Array, previous = 0): number {
  if (!(data instanceof Uint8Array)) throw new TypeError(`crc32: expected data to be a Uint8Array, got ${describe(data)}`);
  let crc = integerInRange('crc32', 'previous', previous, 0, 0xffffffff);
  if (data.length === 0) return crc;
  return runKernel('crc32', (k) => {
    const [stagePtr] = layout(k, Math.min(STAGE, data.length));
    const stage = u8View(k, stagePtr, Math.min(STAGE, data.length));
    for (let at = 0; at < data.length; at += STAGE) {
      const chunk = data.subarray(at, at + STAGE);
      stage.set(chunk);
      crc = k.crc32Update(crc, stagePtr, chunk.length) >>> 0;
    }
    return crc;
  });
}
