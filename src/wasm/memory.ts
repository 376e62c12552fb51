// Scratch memory for one kernel call. Kernels are synchronous and never re-entered, so every call
// lays out its buffers from heapBase() up, growing the memory when an input needs more. Views are made
// after the last growth of a call and dropped when it returns: growth detaches old views.

import type { KernelExports } from './exports.js';

const PAGE = 65536;
const ALIGN = 16;

/**
 * Reserves consecutive 16-byte-aligned regions of the given byte sizes and returns their addresses.
 * @throws {RangeError} when WebAssembly memory cannot grow that far.
 */
export function layout(k: KernelExports, ...byteSizes: number[]): number[] {
  let next = k.heapBase();
  const addresses = byteSizes.map((size) => {
    const at = next;
    next = at + Math.ceil(size / ALIGN) * ALIGN;
    return at;
  });
  ensureCapacity(k, next);
  return addresses;
}

function ensureCapacity(k: KernelExports, endByte: number): void {
  const have = k.memory.buffer.byteLength;
  if (endByte <= have) return;
  const pages = Math.ceil((endByte - have) / PAGE);
  try {
    k.memory.grow(pages);
  } catch (cause) {
    throw new RangeError(`dase-cache: input too large: the kernels need ${endByte} bytes of WebAssembly memory, `
      + `which the engine refused (it has ${have})`, { cause });
  }
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
