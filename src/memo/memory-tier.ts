// The in-memory tier of memoized results: least recently used first out, bounded by bytes.

import { finiteNumber } from '../_args.js';

/** Default bound of a memory tier: results beyond it are evicted, least recently used first. */
export const DEFAULT_MEMORY_BYTES = 256 * 2 ** 20;

/** Bytes a value holds: typed arrays by their length, containers by their members, text by its length. */
export function sizeOf(value: unknown, seen = new Set<object>()): number {
  if (typeof value === 'string') return 2 * value.length + 16;
  if (typeof value !== 'object' || value === null) return 8;
  if (ArrayBuffer.isView(value)) return value.byteLength + 64;
  if (value instanceof ArrayBuffer) return value.byteLength + 64;
  if (seen.has(value)) return 0;
  seen.add(value);
  let bytes = 64;
  for (const member of Object.values(value)) bytes += sizeOf(member, seen) + 16;
  return bytes;
}

/**
 * A map from keys to results that holds at most `maxBytes` (by an estimate of their size), dropping the least
 * recently used. A result larger than the whole bound is not kept. Values are shared, not copied: callers
 * must not mutate what they get.
 * @example
 * const tier = new MemoryTier(64 * 2 ** 20);
 * tier.set('kernel_0.5_0.01_1000', weights);
 */
export class MemoryTier {
  /** The bound, in bytes. */
  readonly maxBytes: number;
  private bytes = 0;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  private readonly entries = new Map<string, { value: unknown; bytes: number }>();

  /**
   * An empty tier.
   * @param maxBytes - the bound, in bytes; 0 keeps nothing.
   * @throws {RangeError} for a negative or non-finite bound.
   */
  constructor(maxBytes: number = DEFAULT_MEMORY_BYTES) {
    finiteNumber('MemoryTier', 'maxBytes', maxBytes);
    if (maxBytes < 0) throw new RangeError(`MemoryTier: expected maxBytes >= 0, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /**
   * The result under `key`, marking it most recently used.
   * @param key - its key.
   * @returns `{ value }` (so that an undefined result can be told from a miss), or undefined when it is not held.
   */
  get(key: string): {
    /** The result. */
    value: unknown;
  } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { value: entry.value };
  }

  /**
   * Keeps `value` under `key`, evicting the least recently used results as the bound requires.
   * @param key - its key.
   * @param value - the result (shared, not copied).
   * @returns the value's estimated size in bytes (typed arrays by their length, containers by their members,
   *   text by its length), kept or not.
   */
  set(key: string, value: unknown): number {
    this.delete(key);
    const bytes = sizeOf(value);
    if (bytes > this.maxBytes) return bytes;
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
    return bytes;
  }

  /**
   * Drops the result under `key`.
   * @param key - its key.
   * @returns false when it was not held.
   */
  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    return true;
  }

  /** Drops every result. */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /** Results held, and the bytes they take. */
  get stats(): {
    /** Results held. */
    entries: number;
    /** Their estimated size, in bytes. */
    bytes: number;
    /** The bound, in bytes. */
    maxBytes: number;
  } {
    return { entries: this.entries.size, bytes: this.bytes, maxBytes: this.maxBytes };
  }
}
