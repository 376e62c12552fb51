// Long-lived regions of WebAssembly memory, for state that outlives one call (the past of a field kept by
// fractionalHistory). They sit from heapBase() up; per-call scratch (memory.ts) starts above the last live
// region, so a kernel call never overwrites them. Regions are found by handle on every use, never kept as
// views: a view of WASM memory dies when the memory grows.

import type { KernelExports } from './exports.js';

const ALIGN = 16;
const PAGE = 65536;

interface Live { address: number; bytes: number }

/** A region's handle: its address may change when it is resized. */
export interface Region {
  readonly address: number;
  readonly bytes: number;
}

const live = new Map<object, Live>();

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** The first byte above every live region: where per-call scratch may start. */
export function regionsEnd(k: KernelExports): number {
  let end = k.heapBase();
  for (const r of live.values()) end = Math.max(end, r.address + align(r.bytes));
  return end;
}

/**
 * Grows the memory to hold `endByte` bytes.
 * @throws {RangeError} naming the bytes asked for, when the engine refuses.
 */
export function ensureCapacity(k: KernelExports, endByte: number, what = 'the kernels'): void {
  const have = k.memory.buffer.byteLength;
  if (endByte <= have) return;
  try {
    k.memory.grow(Math.ceil((endByte - have) / PAGE));
  } catch (cause) {
    throw new RangeError(`dase-cache: ${what} need ${endByte} bytes of WebAssembly memory (${(endByte / 2 ** 20).toFixed(1)} MiB), `
      + `which the engine refused (it has ${have})`, { cause });
  }
}

/** The lowest free gap of at least `bytes` among the live regions (first fit). */
function findGap(k: KernelExports, bytes: number, except?: object): number {
  const taken = [...live.entries()].filter(([handle]) => handle !== except).map(([, r]) => r).sort((a, b) => a.address - b.address);
  let at = k.heapBase();
  for (const r of taken) {
    if (r.address - at >= bytes) return at;
    at = Math.max(at, r.address + align(r.bytes));
  }
  return at;
}

/**
 * Reserves a region of `bytes` (zero-filled) for `owner`, which names it from then on.
 * @throws {RangeError} when memory cannot grow that far.
 */
export function reserve(k: KernelExports, owner: object, bytes: number, what?: string): Region {
  const size = align(Math.max(bytes, ALIGN));
  const address = findGap(k, size);
  ensureCapacity(k, address + size, what);
  new Uint8Array(k.memory.buffer, address, size).fill(0);
  const region = { address, bytes: size };
  live.set(owner, region);
  return region;
}

/** The owner's region now (its address may have moved). @throws {TypeError} when it has none (released). */
export function regionOf(owner: object): Region {
  const region = live.get(owner);
  if (!region) throw new TypeError('dase-cache: this object was disposed: its WebAssembly memory was released');
  return region;
}

/**
 * Resizes the owner's region, keeping its first `keepBytes` bytes (moved if it must; the rest zero-filled).
 * @throws {RangeError} when memory cannot grow that far; the region is then unchanged.
 */
export function resize(k: KernelExports, owner: object, bytes: number, keepBytes: number, what?: string): Region {
  const old = regionOf(owner);
  const size = align(Math.max(bytes, ALIGN));
  const address = findGap(k, size, owner);
  ensureCapacity(k, address + size, what);
  const memory = new Uint8Array(k.memory.buffer);
  const keep = Math.min(keepBytes, old.bytes, size);
  if (address !== old.address) memory.copyWithin(address, old.address, old.address + keep);
  memory.fill(0, address + keep, address + size);
  const region = { address, bytes: size };
  live.set(owner, region);
  return region;
}

/** How many regions are live (a module with live regions must not be replaced: they live in its memory). */
export function liveRegions(): number {
  return live.size;
}

/** Releases the owner's region (its memory is reused by later regions and scratch). */
export function release(owner: object): void {
  live.delete(owner);
}
