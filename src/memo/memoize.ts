// memoize(): a function's results kept in memory and in the cache, computed once per key across the
// callers of one process and across the processes that share a cache root.

import { describe, optionsObject, knownKeys } from '../_args.js';
import { CacheMissError, IntegrityError } from '../cache/errors.js';
import { checkKey } from '../cache/keys.js';
import type { IndexEntry } from '../cache/category-index.js';
import type { CacheManagerCore } from '../cache/manager.js';
import { kernelInfo } from '../wasm/loader.js';
import { LIBRARY_VERSION } from '../wasm/generated/embedded.js';
import { canonicalKey } from './keys.js';
import { LoadCostModel } from './load-cost.js';
import { DEFAULT_MEMORY_BYTES, MemoryTier } from './memory-tier.js';

/**
 * Where results go besides memory. `'always'`: every result is written to the cache (before the call
 * returns). `'auto'` (default): only results that took longer to compute than loading them back would
 * take, written in the background so no call waits for the disk. `'never'`: memory only.
 */
export type MemoPolicy = 'always' | 'auto' | 'never';

export interface MemoizeOptions<A extends unknown[]> {
  /** The cache the results go to. */
  cache: CacheManagerCore;
  /** Its category for these results. */
  category: string;
  /** The key of a call; default: {@link canonicalKey} of the name and the arguments. */
  key?: (...args: A) => string;
  /** The name in default keys; default: the function's own name. */
  name?: string;
  /** Bump when the function's results change: entries of another version are not served. */
  version?: string;
  policy?: MemoPolicy;
  /** The in-memory tier: a {@link MemoryTier} to share, or a bound in bytes for one of its own; default: the cache's shared tier (256 MiB). */
  memory?: MemoryTier | number;
  /** How long to wait for another process computing the same key before computing too (ms); default 120000. */
  waitMs?: number;
  /** Called when a background write fails (policy 'auto'); default: a console warning. */
  onWriteError?: (error: unknown) => void;
}

/** Where a call's result came from, and what it cost. */
export interface MemoCall<R> {
  value: R;
  key: string;
  /** 'remote': another machine's result, from the cache's remote (verified, and now in the local cache too). */
  source: 'memory' | 'disk' | 'remote' | 'computed';
  /** Milliseconds the call took. */
  ms: number;
  /** Milliseconds the function took, when it ran. */
  computeMs?: number;
  /**
   * For computed results: whether the result is in the cache. Policy 'auto' writes in the background: the
   * call returns with `stored: false, storing: true`, and this object turns to `stored: true` once the
   * write is done (`await f.settled()` waits for it; `cache.close()` and process exit do too).
   */
  stored?: boolean;
  /** True while the result's background write is queued or running. */
  storing?: boolean;
  /** True when another process (or, with a Redis remote, another machine) held the key and this call waited for it. */
  waited?: boolean;
}

export interface MemoStats {
  memory: number;
  disk: number;
  /** Results another machine computed, from the cache's remote. */
  remote: number;
  computed: number;
  stored: number;
  /** Computed results policy 'auto' kept off the disk because loading them would be slower. */
  keptInMemory: number;
}

export interface Memoized<A extends unknown[], R> {
  (...args: A): Promise<R>;
  /** The call, with where its result came from and what it cost. */
  withInfo(...args: A): Promise<MemoCall<R>>;
  /** The cache key of a call. @throws {TypeError} for arguments with no canonical form. */
  keyFor(...args: A): string;
  /** Resolves once background writes started so far have finished. */
  settled(): Promise<void>;
  readonly stats: Readonly<MemoStats>;
}

const DEFAULT_WAIT_MS = 120_000;
// 'auto' stores a result when computing it took this many times the estimated load.
const STORE_MARGIN = 2;

type Hit = { value: unknown; source: 'disk' | 'remote' };

const sharedTiers = new WeakMap<object, MemoryTier>();
const loadCosts = new WeakMap<object, LoadCostModel>();

function now(): number {
  return globalThis.performance.now();
}

/** What a result is checked against before it is served: the library, its WASM binary, the caller's version. */
function identity(version: string | undefined): Record<string, string> {
  return { library_version: LIBRARY_VERSION, wasm_sha256: kernelInfo().wasmSha256, ...(version === undefined ? {} : { version }) };
}

function isCurrent(entry: IndexEntry, expected: Record<string, string>): boolean {
  const metadata = entry.metadata ?? {};
  return metadata.library_version === expected.library_version && metadata.wasm_sha256 === expected.wasm_sha256
    && metadata.version === expected.version;
}

/**
 * Memoizes `fn` through a memory tier and the cache: a call with the same key returns the kept result
 * (from memory, else verified from disk), computes otherwise. Concurrent calls for one key compute once,
 * in this process and across processes on the same cache root (the others wait, then load). Entries record
 * the function's compute time (`compute_ms`), the library version, the SHA-256 of the WASM binary and
 * `version`, and an entry that does not match the running ones is never served. A call that throws is not
 * kept. Results are shared between callers: do not mutate them.
 * @param fn - the function; its arguments must have a canonical form (numbers, strings, arrays, plain
 *   objects, typed arrays) unless `key` is given; its result must fit the category.
 * @returns an async function with the same arguments, plus `withInfo`, `keyFor`, `settled` and `stats`.
 * @throws {TypeError} for bad options; the memoized function rejects with a TypeError for arguments it
 *   cannot key or a result the category cannot hold, and with the function's own error when it throws.
 * @example
 * const kernel = memoize((alpha: number, n: number) => glWeights(alpha, n), { cache, category: 'fractional_kernels', name: 'gl' });
 * const w = await kernel(0.5, 1e6); // computed; the next call with (0.5, 1e6) comes from memory
 */
export function memoize<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>, options: MemoizeOptions<A>,
): Memoized<A, Awaited<R>> {
  if (typeof fn !== 'function') throw new TypeError(`memoize: expected a function, got ${describe(fn)}`);
  const opts = optionsObject('memoize', options);
  knownKeys('memoize', opts, ['cache', 'category', 'key', 'name', 'version', 'policy', 'memory', 'waitMs', 'onWriteError']);
  const { cache, category } = options;
  if (typeof cache !== 'object' || cache === null || typeof (cache as Partial<CacheManagerCore>).loadEntry !== 'function') {
    throw new TypeError(`memoize: expected options.cache to be a CacheManager, got ${describe(cache)}`);
  }
  if (!Object.hasOwn(cache.categories, category)) {
    throw new TypeError(`memoize: Unknown cache category ${describe(category)} (known: ${Object.keys(cache.categories).join(', ')})`);
  }
  const policy = options.policy ?? 'auto';
  if (policy !== 'always' && policy !== 'auto' && policy !== 'never') {
    throw new RangeError(`memoize: expected options.policy to be 'always', 'auto' or 'never', got ${describe(policy)}`);
  }
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw new TypeError(`memoize: expected options.key to be a function returning a key, got ${describe(options.key)}`);
  }
  if (options.version !== undefined && typeof options.version !== 'string') {
    throw new TypeError(`memoize: expected options.version to be a string, got ${describe(options.version)}`);
  }
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  if (typeof waitMs !== 'number' || !(waitMs >= 0)) throw new RangeError(`memoize: expected options.waitMs to be a number >= 0, got ${describe(waitMs)}`);
  const name = options.name ?? fn.name;
  if (options.key === undefined) canonicalKey(name, [], (b) => cache.digest(b)); // a bad name fails now, not at the first call
  const memory = resolveMemory(cache, options.memory);
  const loadCost = loadCosts.get(cache) ?? new LoadCostModel();
  loadCosts.set(cache, loadCost);
  const onWriteError = options.onWriteError
    ?? ((error: unknown) => console.warn(`dase-cache memoize(${name}): a result could not be written to the cache: ${(error as Error)?.message ?? error}`));
  const where = `memoize(${name})`;
  const stats: MemoStats = { memory: 0, disk: 0, remote: 0, computed: 0, stored: 0, keptInMemory: 0 };
  const flights = new Map<string, Promise<MemoCall<Awaited<R>>>>();
  const writes = new Set<Promise<void>>();
  // Whether the last computed result was worth storing: if not, 'auto' skips the cross-process claim,
  // whose file operations would cost more than the computation they avoid.
  let lastWorthStoring = true;

  const keyFor = (...args: A): string => {
    if (options.key) {
      const key = options.key(...args);
      return checkKey(`${where} key function`, key);
    }
    return canonicalKey(name, args, (bytes) => cache.digest(bytes));
  };

  /** The key's current result from the local cache, else from the remote (another machine's). */
  const fromStores = (key: string, expected: Record<string, string>) => fromDisk(key, expected, { onMiss: () => fromRemote(key, expected) });

  /** The key's current result from the local cache; a key it has no entry for goes to `onMiss`. */
  async function fromDisk(key: string, expected: Record<string, string>, { onMiss }: { onMiss?: () => Promise<Hit | undefined> } = {}): Promise<Hit | undefined> {
    let entry: IndexEntry;
    try {
      entry = await cache.entry(where, category, key);
    } catch (error) {
      if (error instanceof CacheMissError) return onMiss?.();
      throw error;
    }
    if (!isCurrent(entry, expected)) return undefined;
    const computeMs = entry.metadata?.compute_ms;
    if (policy === 'auto' && typeof computeMs === 'number' && computeMs * STORE_MARGIN < loadCost.estimate(entry.size_bytes)) {
      return undefined; // stored by another policy, but computing it again is faster than loading it
    }
    const started = now();
    try {
      const loaded = await cache.loadEntry(category, key, { where, remote: false });
      if (!isCurrent(loaded.entry, expected)) return undefined;
      loadCost.observe(loaded.entry.size_bytes, now() - started);
      return { value: loaded.value, source: 'disk' };
    } catch (error) {
      // Gone meanwhile, or damaged: compute it again, and the new result replaces the damaged one.
      if (error instanceof CacheMissError || error instanceof IntegrityError) return undefined;
      throw error;
    }
  }

  async function fromRemote(key: string, expected: Record<string, string>, poll = false): Promise<Hit | undefined> {
    const fetched = await cache.fetchRemote(category, key, { where, poll });
    return fetched && isCurrent(fetched.entry, expected) ? { value: fetched.value, source: 'remote' } : undefined;
  }

  async function resolve(key: string, args: A, started: number): Promise<MemoCall<Awaited<R>>> {
    const expected = policy === 'never' ? {} : identity(options.version);
    const done = (value: unknown, source: MemoCall<R>['source'], extra: Omit<Partial<MemoCall<R>>, 'value'> = {}): MemoCall<Awaited<R>> =>
      ({ value: value as Awaited<R>, key, source, ms: now() - started, ...extra });
    const served = (hit: Hit, extra: { waited?: boolean } = {}) => {
      memory.set(memoryKey(key), hit.value);
      stats[hit.source]++;
      return done(hit.value, hit.source, extra);
    };

    if (policy !== 'never') {
      const hit = await fromStores(key, expected);
      if (hit) return served(hit);
    }
    let release: (() => Promise<void>) | undefined;
    let waited = false;
    if (policy === 'always' || (policy === 'auto' && lastWorthStoring)) {
      ({ release, waited } = await cache.claim(category, key, { timeoutMs: waitMs }));
      // Another process may have stored it while this one waited (or between the look and the claim); the
      // remote is asked again only after a wait (single flight across machines looks at it on its own).
      const hit = await (waited ? fromStores(key, expected) : fromDisk(key, expected)).catch(async (error) => { await release?.(); throw error; });
      if (hit) {
        await release?.();
        return served(hit, { waited });
      }
      // Across machines (a Redis remote): one computes, the others wait for its result on the remote.
      if (cache.remote?.coordinates) {
        const flight = await cache.remote.singleFlight(category, key, waitMs, () => fromRemote(key, expected, true))
          .catch(async (error) => { await release?.(); throw error; });
        waited ||= flight.waited;
        if (flight.hit) {
          await release?.();
          return served(flight.hit, { waited });
        }
        const local = release;
        if (flight.release) {
          const remote = flight.release;
          release = async () => { try { await remote(); } finally { await local?.(); } };
        }
      }
    }
    let handedOver = false;
    try {
      const computeStarted = now();
      const value = await fn(...args);
      const computeMs = now() - computeStarted;
      if (policy !== 'never') cache.checkStorable(category, value, where);
      const bytes = memory.set(memoryKey(key), value);
      stats.computed++;
      if (policy === 'never') return done(value, 'computed', { computeMs, stored: false });
      const worth = computeMs > STORE_MARGIN * loadCost.estimate(bytes);
      lastWorthStoring = worth;
      if (policy === 'auto' && !worth) {
        stats.keptInMemory++;
        return done(value, 'computed', { computeMs, stored: false, waited });
      }
      const metadata = { compute_ms: Math.round(computeMs * 1000) / 1000, function: name, ...expected };
      if (policy === 'always') {
        await cache.save(category, key, value, { metadata });
        stats.stored++;
        return done(value, 'computed', { computeMs, stored: true, waited });
      }
      // 'auto': the write goes on after the call returns (queued behind a timer, so that the call does not wait
      // for the disk); the claim is held until it is done. close() and process exit start it at once and wait.
      handedOver = true;
      const call = done(value, 'computed', { computeMs, stored: false, storing: true, waited });
      let start!: () => void;
      const queued = new Promise<void>((go) => { start = go; });
      const timer = setTimeout(start, 0);
      const write = queued
        .then(() => cache.save(category, key, value, { metadata }))
        .then(() => { call.stored = true; stats.stored++; }, onWriteError)
        .finally(() => { call.storing = false; return release?.(); });
      const tracked = write.catch(() => undefined).finally(() => writes.delete(tracked));
      writes.add(tracked);
      cache.trackBackground({
        done: tracked,
        hurry: () => { clearTimeout(timer); start(); },
        unfinished: () => (call.storing ? { category, key, value, metadata } : undefined),
      });
      return call;
    } finally {
      if (!handedOver) await release?.();
    }
  }

  const memoryKey = (key: string) => `${category}/${key}#${options.version ?? ''}`;

  const withInfo = async (...args: A): Promise<MemoCall<Awaited<R>>> => {
    const started = now();
    const key = keyFor(...args);
    const kept = memory.get(memoryKey(key));
    if (kept) {
      stats.memory++;
      return { value: kept.value as Awaited<R>, key, source: 'memory', ms: now() - started };
    }
    const inFlight = flights.get(key);
    if (inFlight) {
      const shared = await inFlight;
      stats.memory++;
      return { value: shared.value, key, source: 'memory', ms: now() - started };
    }
    const flight = resolve(key, args, started).finally(() => flights.delete(key));
    flights.set(key, flight);
    return flight;
  };

  const settled = async () => { while (writes.size > 0) await Promise.all([...writes]); };
  return Object.defineProperty(callable(withInfo, keyFor, settled, () => ({ ...stats })), 'name', { value: `memoized ${name}` });
}

/**
 * A memoized function whose results pass through `unpack` on the way out (stored as one shape, served as
 * another); keys, statistics and background writes are those of `inner`.
 */
export function mapMemoized<A extends unknown[], S, R>(inner: Memoized<A, S>, unpack: (stored: S) => R): Memoized<A, R> {
  const withInfo = async (...args: A): Promise<MemoCall<R>> => {
    const call = await inner.withInfo(...args);
    const mapped: MemoCall<R> = { ...call, value: unpack(call.value) };
    // A background write turns the inner call's `stored` true later: the mapped call shows the same.
    for (const name of ['stored', 'storing'] as const) {
      if (name in call) Object.defineProperty(mapped, name, { get: () => call[name], enumerable: true });
    }
    return mapped;
  };
  return callable(withInfo, inner.keyFor, inner.settled, () => inner.stats);
}

// The function a caller holds: a call gives the value, the rest hang off it.
function callable<A extends unknown[], R>(
  withInfo: (...args: A) => Promise<MemoCall<R>>, keyFor: (...args: A) => string, settled: () => Promise<void>, stats: () => Readonly<MemoStats>,
): Memoized<A, R> {
  const memoized = (async (...args: A) => (await withInfo(...args)).value) as Memoized<A, R>;
  Object.defineProperties(memoized, {
    withInfo: { value: withInfo },
    keyFor: { value: keyFor },
    settled: { value: settled },
    stats: { get: stats },
  });
  return memoized;
}

function resolveMemory(cache: object, memory: MemoryTier | number | undefined): MemoryTier {
  if (memory instanceof MemoryTier) return memory;
  if (memory !== undefined) {
    if (typeof memory !== 'number') throw new TypeError(`memoize: expected options.memory to be a MemoryTier or a number of bytes, got ${describe(memory)}`);
    return new MemoryTier(memory);
  }
  let shared = sharedTiers.get(cache);
  if (!shared) sharedTiers.set(cache, (shared = new MemoryTier(DEFAULT_MEMORY_BYTES)));
  return shared;
}

/** The memory tier memoized functions of this cache share by default. */
export function memoryTierOf(cache: CacheManagerCore): MemoryTier {
  return resolveMemory(cache, undefined);
}
