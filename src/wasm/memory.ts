// Scratch memory for one kernel call. Kernels are synchronous and a call's scratch is dead once it returns, so every call
// lays out its buffers from the end of the live regions (regions.ts) up, growing the memory when an input needs more. Views are made
// after the last growth of a call and dropped when it returns: growth detaches old views.

import type { KernelExports } from './exports.js';
import { ensureCapacity, regionsEnd } from './regions.js';

const ALIGN = 16;

/**
 * Reserves consecutive 16-byte-aligned regions of the given byte sizes and returns their addresses.
 * @throws {RangeError} when WebAssembly memory cannot grow that far.
 */
export function layout(k: KernelExports, ...byteSizes: number[]): number[] {
  // Above the regions that live across calls (regions.ts), which scratch must not overwrite.
  let next = regionsEnd(k);
  const addresses = byteSizes.map((size) => {
    const at = next;
    next = at + Math.ceil(size / ALIGN) * ALIGN;
    return at;
  });
  ensureCapacity(k, next);
  return addresses;
}


export function f64View(k: KernelExports, address: number, length: number): Float64Array {
  return new Float64Array(k.memory.buffer, address, length);
}

export function i32View(k: KernelExports, address: number, length: number): Int32Array {
  return new Int32Array(k.memory.buffer, address, length);
}

export function u8View(k: KernelExports, address: number, length: number): Uint8Array {
  return new Uint8Array(k.memory.buffer, address, length);
}

export function u32View(k: KernelExports, address: number, length: number): Uint32Array {
  return new Uint32Array(k.memory.buffer, address, length);
}
