// Which entries a byte budget evicts, and in what order: Greedy-Dual-Size-Frequency by default (the compute
// time an entry saves per byte it takes), LRU and LFU for comparison. Pure bookkeeping, no I/O: the cache
// feeds it saves, hits and deletes, asks it for victims, and removes their files itself.

import { describe, finiteNumber, integerInRange, knownKeys, oneOf, optionsObject } from '../_args.js';
import { IndexedHeap, type HeapNode } from './_indexed-heap.js';

/** The eviction policies, `gdsf` first (the default). */
export const EVICTION_POLICIES = ['gdsf', 'lru', 'lfu'] as const;
export type EvictionPolicyName = (typeof EVICTION_POLICIES)[number];

/** An entry as the policy sees it: what index.json records of it, in numbers. */
export interface EvictionCandidate {
  category: string;
  key: string;
  /** The stored file's bytes (`size_bytes`). */
  sizeBytes: number;
  /** Loads since it was saved (`access_count`; 0 right after a save). */
  accessCount: number;
  /** Epoch ms of the last save or load (`last_accessed`, else `created_at`). */
  lastAccessedMs: number;
  /** Epoch ms of the first save (`created_at`). */
  createdMs: number;
  /** What computing it again costs (`metadata.compute_ms`); undefined: the queue's `fallbackCost(sizeBytes)`. */
  computeMs?: number | undefined;
  /** Pinned entries are never chosen (they still count in `totalBytes`). */
  pinned?: boolean;
  /**
   * gdsf: the clock when the entry was last saved or hit, if that was persisted with it (so that ageing survives
   * a new process); default: the queue's current clock, as for a fresh save.
   */
  clockAtAccess?: number;
}

/** An entry in the queue, as `get` and the victims of `evictUntil` report it: a candidate with every field set. */
export interface QueuedEntry extends Required<Omit<EvictionCandidate, 'computeMs'>> {
  computeMs: number | undefined;
  /** What it is ordered by, lowest first: gdsf's priority, lru's last access (ms), lfu's access count. */
  priority: number;
}

/** What `evictUntil` and `fitWithin` chose. */
export interface EvictionResult {
  /** Removed from the queue, in eviction order. */
  victims: QueuedEntry[];
  freedBytes: number;
  /** False when pinned entries (or nothing at all) are left and the bytes could not all be freed. */
  met: boolean;
  /** The bytes still to free when not met; 0 when met. */
  shortBytes: number;
}

export interface EvictionQueueOptions {
  /** 'gdsf' (default), 'lru' or 'lfu'. */
  policy?: EvictionPolicyName;
  /** gdsf's clock to start from: a value `clock` gave earlier (persisted); default 0. */
  clock?: number;
  /** The cost (ms) of an entry without `computeMs`, from its size; default `defaultFallbackCost`. */
  fallbackCost?: (sizeBytes: number) => number;
}

/** Milliseconds every entry without a compute time is assumed to cost, whatever its size (see defaultFallbackCost). */
export const FALLBACK_FIXED_MS = 1;
/** Bytes per millisecond (1 GB/s) assumed beyond that. */
export const FALLBACK_BYTES_PER_MS = 1e6;

/**
 * The default cost of an entry that records no compute time (saved by hand): what loading it back costs,
 * `FALLBACK_FIXED_MS + sizeBytes / FALLBACK_BYTES_PER_MS`, the prior the cost model starts from for disk
 * (1 ms per load, 1 GB/s). Its priority per byte is then frequency × (1 ms / size + 1 µs/KB): a size-aware LFU,
 * small and often used first kept. A cache that has measured its loads passes its own estimate instead.
 *
 * @param sizeBytes - the entry's size, bytes
 * @returns milliseconds
 * @example
 * defaultFallbackCost(8 * 2 ** 20); // 9.39 (ms)
 */
export function defaultFallbackCost(sizeBytes: number): number {
  return FALLBACK_FIXED_MS + sizeBytes / FALLBACK_BYTES_PER_MS;
}

interface Node extends QueuedEntry, HeapNode {
  /** Milliseconds to get it back: computeMs, or the fallback cost. */
  cost: number;
}

const QUEUE = 'EvictionQueue';
const CANDIDATE_KEYS = ['category', 'key', 'sizeBytes', 'accessCount', 'lastAccessedMs', 'createdMs', 'computeMs', 'pinned', 'clockAtAccess'];

// An unambiguous map key for (category, key), whatever characters they hold.
const idOf = (category: string, key: string) => `${category.length}:${category}${key}`;

function nonEmptyString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${where}: expected ${name} to be a string, got ${describe(value)}`);
  if (value.length === 0) throw new RangeError(`${where}: expected ${name} to be a non-empty string, got ""`);
  return value;
}

function nonNegative(where: string, name: string, value: unknown): number {
  finiteNumber(where, name, value);
  if ((value as number) < 0) throw new RangeError(`${where}: expected ${name} to be a finite number >= 0, got ${describe(value)}`);
  return value as number;
}

// A strict total order: the policy's priority, then the least recent, the oldest, and the names, so that
// equal priorities are evicted in the same order on every run and in every process.
function before(a: Node, b: Node): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.lastAccessedMs !== b.lastAccessedMs) return a.lastAccessedMs < b.lastAccessedMs;
  if (a.createdMs !== b.createdMs) return a.createdMs < b.createdMs;
  if (a.category !== b.category) return a.category < b.category;
  return a.key < b.key;
}

function copy(node: Node): QueuedEntry {
  const { category, key, sizeBytes, accessCount, lastAccessedMs, createdMs, computeMs, pinned, clockAtAccess, priority } = node;
  return { category, key, sizeBytes, accessCount, lastAccessedMs, createdMs, computeMs, pinned, clockAtAccess, priority };
}

/**
 * The entries of a cache root (or one category) in eviction order. gdsf orders by
 * `priority = clockAtAccess + (accessCount + 1) × cost / max(1, sizeBytes)` (ms saved per byte, the save
 * counting as the first use), and each eviction raises the clock to the victim's priority, so an entry
 * not used for a while ends up below fresh ones however popular it was. lru orders by last access, lfu by
 * access count (ties: least recent first). Every operation is O(log n): an indexed binary heap.
 *
 * @example
 * const queue = new EvictionQueue({ policy: 'gdsf' });
 * queue.insert({ category: 'stencils', key: 'a', sizeBytes: 4 << 20, accessCount: 0, lastAccessedMs: 0, createdMs: 0, computeMs: 2 });
 * queue.insert({ category: 'stencils', key: 'b', sizeBytes: 1 << 10, accessCount: 0, lastAccessedMs: 0, createdMs: 0, computeMs: 50 });
 * queue.evictUntil(1).victims.map((v) => v.key); // ['a']: large and cheap goes first
 */
export class EvictionQueue {
  readonly policy: EvictionPolicyName;
  private readonly fallbackCost: (sizeBytes: number) => number;
  private readonly nodes = new Map<string, Node>();
  private readonly heap = new IndexedHeap<Node>(before);
  private clockValue: number;
  private bytes = 0;
  private pinned = 0;

  /**
   * @param options - `policy` ('gdsf'), `clock` (0), `fallbackCost` (`defaultFallbackCost`)
   * @throws TypeError for an unknown option or one of the wrong type; RangeError for an unknown policy or a
   *   clock that is negative or not finite
   */
  constructor(options?: EvictionQueueOptions) {
    const o = optionsObject(QUEUE, options);
    knownKeys(QUEUE, o, ['policy', 'clock', 'fallbackCost']);
    this.policy = o.policy === undefined ? 'gdsf' : oneOf(QUEUE, 'policy', o.policy, EVICTION_POLICIES);
    const clock = o.clock === undefined ? 0 : nonNegative(QUEUE, 'clock', o.clock);
    // lru and lfu order by times and counts: a clock would mean nothing to them.
    this.clockValue = this.policy === 'gdsf' ? clock : 0;
    if (o.fallbackCost !== undefined && typeof o.fallbackCost !== 'function') {
      throw new TypeError(`${QUEUE}: expected fallbackCost to be a function, got ${describe(o.fallbackCost)}`);
    }
    this.fallbackCost = (o.fallbackCost as ((sizeBytes: number) => number) | undefined) ?? defaultFallbackCost;
  }

  /** gdsf's clock: the highest priority evicted so far (or restored). A plain number, to persist as it is; 0 under lru and lfu. */
  get clock(): number {
    return this.clockValue;
  }

  /** Entries held, pinned ones included. */
  get size(): number {
    return this.nodes.size;
  }

  /** Bytes of all entries held, pinned ones included. */
  get totalBytes(): number {
    return this.bytes;
  }

  /** Bytes of the pinned entries: what no eviction can free. */
  get pinnedBytes(): number {
    return this.pinned;
  }

  /**
   * Raises the clock to `value` if that is higher (another process's persisted clock); it never goes down.
   * @param value - a clock, as `clock` gave it
   * @throws RangeError for a negative or non-finite value
   * @example
   * queue.advanceClock(JSON.parse(persisted).clock);
   */
  advanceClock(value: number): void {
    nonNegative(`${QUEUE}.advanceClock`, 'value', value);
    if (this.policy === 'gdsf' && value > this.clockValue) this.clockValue = value;
  }

  /**
   * Adds an entry (a save), or replaces the one under its category and key (a save over it).
   * @param entry - its numbers; `computeMs` undefined gives it the fallback cost
   * @throws TypeError/RangeError for a field of the wrong type or value, or a fallback cost that is not a finite number >= 0
   * @example
   * queue.insert({ category: 'c', key: 'k', sizeBytes: 1024, accessCount: 0, lastAccessedMs: Date.now(), createdMs: Date.now(), computeMs: 12 });
   */
  insert(entry: EvictionCandidate): void {
    const where = `${QUEUE}.insert`;
    if (entry === null || typeof entry !== 'object') throw new TypeError(`${where}: expected entry to be an object, got ${describe(entry)}`);
    knownKeys(where, entry, CANDIDATE_KEYS);
    const category = nonEmptyString(where, 'entry.category', entry.category);
    const key = nonEmptyString(where, 'entry.key', entry.key);
    const sizeBytes = integerInRange(where, 'entry.sizeBytes', entry.sizeBytes, 0, Number.MAX_SAFE_INTEGER);
    const accessCount = integerInRange(where, 'entry.accessCount', entry.accessCount, 0, Number.MAX_SAFE_INTEGER);
    const lastAccessedMs = finiteNumber(where, 'entry.lastAccessedMs', entry.lastAccessedMs);
    const createdMs = finiteNumber(where, 'entry.createdMs', entry.createdMs);
    const computeMs = entry.computeMs === undefined ? undefined : nonNegative(where, 'entry.computeMs', entry.computeMs);
    if (entry.pinned !== undefined && typeof entry.pinned !== 'boolean') {
      throw new TypeError(`${where}: expected entry.pinned to be a boolean, got ${describe(entry.pinned)}`);
    }
    const clockAtAccess = entry.clockAtAccess === undefined ? this.clockValue : nonNegative(where, 'entry.clockAtAccess', entry.clockAtAccess);
    let cost = computeMs;
    if (cost === undefined) {
      cost = this.fallbackCost(sizeBytes);
      if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
        throw new RangeError(`${where}: expected fallbackCost(${sizeBytes}) to return a finite number >= 0, got ${describe(cost)}`);
      }
    }
    this.remove(category, key);
    const node: Node = {
      category, key, sizeBytes, accessCount, lastAccessedMs, createdMs, computeMs, pinned: entry.pinned === true,
      clockAtAccess, priority: 0, cost, heapIndex: -1,
    };
    node.priority = this.priorityOf(node);
    this.nodes.set(idOf(category, key), node);
    this.bytes += sizeBytes;
    if (node.pinned) this.pinned += sizeBytes;
    else this.heap.push(node);
  }

  /**
   * Counts a use (a load): one more access, the last access at `atMs`, and under gdsf a priority set afresh
   * at the current clock.
   * @param atMs - epoch ms of the use; default now
   * @param count - uses to count (touches another process journalled); default 1
   * @returns false when the entry is not in the queue
   * @throws TypeError/RangeError for a bad category, key, time or count
   * @example
   * queue.hit('stencils', 'laplacian_2d_64_64_neumann');
   */
  hit(category: string, key: string, atMs: number = Date.now(), count = 1): boolean {
    const where = `${QUEUE}.hit`;
    const node = this.find(where, category, key);
    finiteNumber(where, 'atMs', atMs);
    integerInRange(where, 'count', count, 0, Number.MAX_SAFE_INTEGER);
    if (node === undefined) return false;
    node.accessCount += count;
    if (atMs > node.lastAccessedMs) node.lastAccessedMs = atMs;
    node.clockAtAccess = this.clockValue;
    node.priority = this.priorityOf(node);
    if (!node.pinned) this.heap.update(node);
    return true;
  }

  /**
   * Forgets an entry (a delete).
   * @returns false when it was not in the queue
   * @throws TypeError/RangeError for a bad category or key
   * @example
   * queue.remove('stencils', 'laplacian_2d_64_64_neumann');
   */
  remove(category: string, key: string): boolean {
    const node = this.find(`${QUEUE}.remove`, category, key);
    if (node === undefined) return false;
    this.drop(node);
    return true;
  }

  /**
   * Protects an entry from eviction until `unpin`.
   * @returns false when it is not in the queue
   * @throws TypeError/RangeError for a bad category or key
   * @example
   * queue.pin('stencils', 'laplacian_3d_64_64_64_periodic');
   */
  pin(category: string, key: string): boolean {
    const node = this.find(`${QUEUE}.pin`, category, key);
    if (node === undefined) return false;
    if (!node.pinned) {
      node.pinned = true;
      this.pinned += node.sizeBytes;
      this.heap.remove(node);
    }
    return true;
  }

  /**
   * Makes a pinned entry evictable again, at the priority it had: being pinned does not count as a use, so
   * under gdsf an entry pinned for long comes back aged.
   * @returns false when it is not in the queue
   * @throws TypeError/RangeError for a bad category or key
   * @example
   * queue.unpin('stencils', 'laplacian_3d_64_64_64_periodic');
   */
  unpin(category: string, key: string): boolean {
    const node = this.find(`${QUEUE}.unpin`, category, key);
    if (node === undefined) return false;
    if (node.pinned) {
      node.pinned = false;
      this.pinned -= node.sizeBytes;
      this.heap.push(node);
    }
    return true;
  }

  /**
   * @returns the entry as the queue holds it (a copy), or undefined
   * @throws TypeError/RangeError for a bad category or key
   * @example
   * queue.get('stencils', 'a')?.priority;
   */
  get(category: string, key: string): QueuedEntry | undefined {
    const node = this.find(`${QUEUE}.get`, category, key);
    return node && copy(node);
  }

  /**
   * @returns whether the entry is in the queue
   * @throws TypeError/RangeError for a bad category or key
   * @example
   * queue.has('stencils', 'a');
   */
  has(category: string, key: string): boolean {
    return this.find(`${QUEUE}.has`, category, key) !== undefined;
  }

  /**
   * Takes entries out, lowest priority first, until `bytesToFree` bytes are freed or only pinned ones are
   * left; under gdsf the clock rises to each victim's priority. With `dryRun` the queue and its clock are
   * left as they were (what `gc --dry-run` shows). O(k log n) for k victims.
   * @param bytesToFree - bytes to free; 0 or less frees nothing
   * @param options - `dryRun`: choose, but keep everything
   * @returns the victims in order, the bytes they free, and whether that is enough
   * @throws TypeError/RangeError for a bytesToFree that is not a finite number
   * @example
   * const { victims, met } = queue.evictUntil(queue.totalBytes + incoming - budget);
   * for (const v of victims) await cache.delete(v.category, v.key);
   */
  evictUntil(bytesToFree: number, options?: { dryRun?: boolean }): EvictionResult {
    const where = `${QUEUE}.evictUntil`;
    finiteNumber(where, 'bytesToFree', bytesToFree);
    const o = optionsObject(where, options);
    knownKeys(where, o, ['dryRun']);
    const dryRun = o.dryRun === true;
    const clockBefore = this.clockValue;
    const victims: Node[] = [];
    let freedBytes = 0;
    while (freedBytes < bytesToFree) {
      const node = this.heap.pop();
      if (node === undefined) break;
      // Stale priorities (restored or unpinned entries) can lie below the clock: it never goes back.
      if (this.policy === 'gdsf' && node.priority > this.clockValue) this.clockValue = node.priority;
      victims.push(node);
      freedBytes += node.sizeBytes;
    }
    if (dryRun) {
      for (const node of victims) this.heap.push(node);
      this.clockValue = clockBefore;
    } else {
      for (const node of victims) {
        this.nodes.delete(idOf(node.category, node.key));
        this.bytes -= node.sizeBytes;
      }
    }
    const shortBytes = Math.max(0, bytesToFree - freedBytes);
    return { victims: victims.map(copy), freedBytes, met: shortBytes === 0, shortBytes };
  }

  /**
   * `evictUntil` what it takes for all entries to fit in `budgetBytes` (`totalBytes <= budgetBytes`).
   * @param budgetBytes - the budget, bytes
   * @param options - `dryRun`: choose, but keep everything
   * @throws RangeError for a budget that is negative or not finite
   * @example
   * queue.fitWithin(500 * 2 ** 20).victims;
   */
  fitWithin(budgetBytes: number, options?: { dryRun?: boolean }): EvictionResult {
    nonNegative(`${QUEUE}.fitWithin`, 'budgetBytes', budgetBytes);
    return this.evictUntil(this.bytes - budgetBytes, options);
  }

  /**
   * Every entry, in no particular order (copies).
   * @example
   * [...queue.entries()].filter((e) => e.pinned);
   */
  *entries(): IterableIterator<QueuedEntry> {
    for (const node of this.nodes.values()) yield copy(node);
  }

  private find(where: string, category: string, key: string): Node | undefined {
    nonEmptyString(where, 'category', category);
    nonEmptyString(where, 'key', key);
    return this.nodes.get(idOf(category, key));
  }

  private drop(node: Node): void {
    this.nodes.delete(idOf(node.category, node.key));
    this.bytes -= node.sizeBytes;
    if (node.pinned) this.pinned -= node.sizeBytes;
    else this.heap.remove(node);
  }

  private priorityOf(node: Node): number {
    switch (this.policy) {
      case 'gdsf': return node.clockAtAccess + ((node.accessCount + 1) * node.cost) / Math.max(1, node.sizeBytes);
      case 'lru': return node.lastAccessedMs;
      case 'lfu': return node.accessCount;
    }
  }
}
