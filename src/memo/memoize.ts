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
import { STORE_MARGIN, knownCheap, loadedAtALoss, loadOrRecompute, storeOrKeep, formatMs } from './auto-policy.js';
import { DEFAULT_MEMORY_BYTES, MemoryTier } from './memory-tier.js';

/**
 * Where results go besides memory. `'always'`: every result is written to the cache (before the call
 * returns), and every hit is loaded. `'auto'` (default): a result is stored only when computing it took well
 * longer than loading it back is predicted to take, written in the background so no call waits for the disk;
 * an entry is loaded only when that is predicted to beat computing it. The predictions come from the cache
 * root's cost model (`cache.costs`), learnt from the loads measured there by this and earlier processes.
 * `'never'`: memory only.
 */
export type MemoPolicy = 'always' | 'auto' | 'never';

/** Options of {@link memoize}. */
export interface MemoizeOptions<A extends unknown[]> {
  /** The cache the results go to: a `CacheManager`. */
  cache: CacheManagerCore;
  /** Its category for these results. */
  category: string;
  /** The key of a call; default: {@link canonicalKey} of the name and the arguments. */
  key?: (...args: A) => string;
  /** The name in default keys; default: the function's own name. */
  name?: string;
  /** Bump when the function's results change: entries of another version are not served. */
  version?: string;
  /** Where results go besides memory (see {@link MemoPolicy}); default `'auto'`. */
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
  /** The call's result. */
  value: R;
  /** The call's cache key. */
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
  /** Why the result came from where it did, with the figures that decided (policy 'auto': the measured compute time against the predicted load). */
  reason: string;
}

/** Calls of a memoized function so far, by where their results came from. */
export interface MemoStats {
  /** Results served from memory (kept earlier, or shared with a call in flight for the same key). */
  memory: number;
  /** Results loaded (and verified) from the cache. */
  disk: number;
  /** Results another machine computed, from the cache's remote. */
  remote: number;
  /** Results the function computed. */
  computed: number;
  /** Computed results written to the cache (by policy 'auto', once their background write is done). */
  stored: number;
  /** Computed results policy 'auto' kept off the disk because loading them would be slower. */
  keptInMemory: number;
  /** Calls policy 'auto' made straight to the function, which computes faster than a call can be keyed. */
  direct: number;
}

/** A memoized function: call it as the function itself; the rest tells about its calls. */
export interface Memoized<A extends unknown[], R> {
  /**
   * The function's result for these arguments: from memory, from the cache, or computed.
   * @param args - the function's arguments.
   * @returns its result (shared between callers: do not mutate it).
   */
  (...args: A): Promise<R>;
  /** The call, with where its result came from and what it cost. */
  withInfo(...args: A): Promise<MemoCall<R>>;
  /** The cache key of a call. @throws {TypeError} for arguments with no canonical form. */
  keyFor(...args: A): string;
  /** Resolves once background writes started so far have finished. */
  settled(): Promise<void>;
  /** Its calls so far, by where their results came from. */
  readonly stats: Readonly<MemoStats>;
}

const DEFAULT_WAIT_MS = 120_000;
// A load this many times (and this many ms) slower than predicted is not taken as the result's own cost.
const OUTLIER_FACTOR = 4;
const OUTLIER_MS = 5;

type Reason = () => string;
type Hit = { value: unknown; source: 'disk' | 'remote'; reason: Reason };
/** An entry 'auto' found but chose to compute again, and why. */
type Declined = { declined: Reason };

const IN_MEMORY = 'in memory (computed or loaded earlier in this process)';
const SHARED_FLIGHT = 'in memory: the same call was in flight, and this one shared its result';

const sharedTiers = new WeakMap<object, MemoryTier>();

function now(): number {
  return globalThis.performance.now();
}

/** What a result is checked against before it is served: the library, its WASM binary, the caller's version. */
function identity(version: string | undefined): Record<string, string> {
  return { library_version: LIBRARY_VERSION, wasm_sha256: kernelInfo().wasmSha256, ...(version === undefined ? {} : { version }) };
}

/** Gives a call its `reason`, written the first time it is read. */
function withReason<C extends object>(call: C, reason: Reason): C {
  let text: string | undefined;
  return Object.defineProperty(call, 'reason', { get: () => (text ??= reason()), enumerable: true, configurable: true });
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
 * @param options - the cache and category (required), and how results are keyed, kept and versioned.
 * @returns an async function with the same arguments, plus `withInfo`, `keyFor`, `settled` and `stats`.
 * @throws {TypeError|RangeError} for bad options; the memoized function rejects with a TypeError for arguments it
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
  const costs = cache.costs;
  const onWriteError = options.onWriteError
    ?? ((error: unknown) => console.warn(`dase-cache memoize(${name}): a result could not be written to the cache: ${(error as Error)?.message ?? error}`));
  const where = `memoize(${name})`;
  const stats: MemoStats = { memory: 0, disk: 0, remote: 0, computed: 0, stored: 0, keptInMemory: 0, direct: 0 };
  const functionId = `${category}/${name || 'anonymous'}${options.version === undefined ? '' : `@${options.version}`}`;
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

  /** The key's current result from the local cache (or why 'auto' would rather compute it); a key it has no entry for goes to `onMiss`. */
  async function fromDisk(key: string, expected: Record<string, string>, { onMiss }: { onMiss?: () => Promise<Hit | undefined> } = {}): Promise<Hit | Declined | undefined> {
    let entry: IndexEntry;
    try {
      entry = await cache.entry(where, category, key);
    } catch (error) {
      if (error instanceof CacheMissError) return onMiss?.();
      throw error;
    }
    if (!isCurrent(entry, expected)) return undefined;
    const id = costId(key);
    const known = costs.computeOf(id);
    let reason: Reason = () => "policy 'always': loaded";
    if (policy === 'auto') {
      const verdict = loadOrRecompute(entry.metadata?.compute_ms, entry.size_bytes, known, costs);
      if (!verdict.go) return { declined: verdict.reason };
      reason = verdict.reason;
    }
    const predictedMs = costs.predictLoad(entry.size_bytes);
    const started = now();
    try {
      const loaded = await cache.loadEntry(category, key, { where, remote: false });
      if (!isCurrent(loaded.entry, expected)) return undefined;
      const loadMs = now() - started;
      const computeMs = known?.[0] ?? loaded.entry.metadata?.compute_ms;
      // A load far slower than its size predicts met something else (a garbage collection, another process's
      // burst of I/O): the model takes it in, but it does not decide this result's fate alone.
      const unusual = loadMs > OUTLIER_FACTOR * predictedMs && loadMs > predictedMs + OUTLIER_MS;
      if (policy === 'auto' && typeof computeMs === 'number' && !unusual) {
        // This result's own load, measured: a load slower than computing is not made again; one that barely
        // beats the compute time the entry recorded (once, when it was stored) has that time measured again.
        if (loadMs > computeMs) reason = () => loadedAtALoss(computeMs, loadMs);
        if (known || loadMs > computeMs) costs.observeCompute(id, computeMs, loaded.entry.size_bytes, loadMs);
        else if (STORE_MARGIN * loadMs > computeMs) costs.remeasure(id, loaded.entry.size_bytes, loadMs);
      }
      return { value: loaded.value, source: 'disk', reason };
    } catch (error) {
      // Gone meanwhile, or damaged: compute it again, and the new result replaces the damaged one.
      if (error instanceof CacheMissError || error instanceof IntegrityError) return undefined;
      throw error;
    }
  }

  async function fromRemote(key: string, expected: Record<string, string>, poll = false): Promise<Hit | undefined> {
    const fetched = await cache.fetchRemote(category, key, { where, poll });
    return fetched && isCurrent(fetched.entry, expected)
      ? { value: fetched.value, source: 'remote', reason: () => 'from the remote: another machine computed it (verified, and now kept locally)' }
      : undefined;
  }

  /** A call of a function known to compute faster than its calls can be keyed: no key, no memory, no cache. */
  async function callDirectly(args: A, started: number): Promise<MemoCall<Awaited<R>>> {
    const [estimate, overheadMs] = costs.callsDirectly(functionId)!;
    const value = await fn(...args);
    const computeMs = now() - started;
    stats.computed++;
    stats.direct++;
    costs.observeFunction(functionId, { computeMs });
    const call = { value, source: 'computed', ms: computeMs, computeMs, stored: false } as MemoCall<Awaited<R>>;
    let key: string | undefined;
    Object.defineProperty(call, 'key', { get: () => (key ??= keyFor(...args)), enumerable: true });
    return withReason(call, () => `called directly: its calls compute in ${formatMs(estimate)} or less, `
      + `and keying one to serve it from memory takes ${formatMs(overheadMs)}`);
  }

  async function resolve(key: string, args: A, started: number, lookupMs: number): Promise<MemoCall<Awaited<R>>> {
    const expected = policy === 'never' ? {} : identity(options.version);
    const id = costId(key);
    const done = (value: unknown, source: MemoCall<R>['source'], reason: Reason, extra: Omit<Partial<MemoCall<R>>, 'value' | 'reason'> = {}): MemoCall<Awaited<R>> =>
      withReason({ value: value as Awaited<R>, key, source, ms: now() - started, ...extra } as MemoCall<Awaited<R>>, reason);
    const served = (hit: Hit, extra: { waited?: boolean } = {}) => {
      memory.set(memoryKey(key), hit.value);
      stats[hit.source]++;
      const reason = extra.waited ? () => `another process or machine computed it while this call waited; ${hit.reason()}` : hit.reason;
      return done(hit.value, hit.source, reason, extra);
    };

    // Why this call computes when a look at the cache decided so ('auto' declining an entry).
    let declined: Reason | undefined;
    if (policy === 'auto') {
      if (!costs.opened) await costs.open();
      declined = knownCheap(costs.computeOf(id), costs)?.reason;
    }
    if (policy !== 'never' && declined === undefined) {
      const found = await fromStores(key, expected);
      if (found && 'value' in found) return served(found);
      declined = found?.declined;
    }
    let release: (() => Promise<void>) | undefined;
    let waited = false;
    if (declined === undefined && (policy === 'always' || (policy === 'auto' && lastWorthStoring))) {
      ({ release, waited } = await cache.claim(category, key, { timeoutMs: waitMs }));
      // Another process may have stored it while this one waited (or between the look and the claim); the
      // remote is asked again only after a wait (single flight across machines looks at it on its own).
      const found = await (waited ? fromStores(key, expected) : fromDisk(key, expected)).catch(async (error) => { await release?.(); throw error; });
      if (found) {
        await release?.();
        if ('value' in found) return served(found, { waited });
        declined = found.declined;
      }
      // Across machines (a Redis remote): one computes, the others wait for its result on the remote.
      if (declined === undefined && cache.remote?.coordinates) {
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
      costs.observeFunction(functionId, { computeMs, overheadMs: lookupMs });
      if (policy === 'never') return done(value, 'computed', () => "policy 'never': kept in memory only", { computeMs, stored: false });
      if (declined !== undefined) {
        // The entry (or the measurement) stays; this measurement decides the next call.
        costs.observeCompute(id, computeMs, bytes, costs.computeOf(id)?.[3]);
        return done(value, 'computed', declined, { computeMs, stored: false, waited });
      }
      const verdict = storeOrKeep(computeMs, bytes, costs);
      if (policy === 'auto') lastWorthStoring = verdict.go;
      if (policy === 'auto' && !verdict.go) {
        costs.observeCompute(id, computeMs, bytes);
        stats.keptInMemory++;
        return done(value, 'computed', verdict.reason, { computeMs, stored: false, waited });
      }
      costs.forgetCompute(id); // the entry records its compute time
      const metadata = { compute_ms: Math.round(computeMs * 1000) / 1000, function: name, ...expected };
      if (policy === 'always') {
        await cache.save(category, key, value, { metadata });
        stats.stored++;
        return done(value, 'computed', () => `policy 'always': stored (computing it took ${formatMs(computeMs)})`, { computeMs, stored: true, waited });
      }
      // 'auto': the write goes on after the call returns (queued behind a timer, so that the call does not wait
      // for the disk); the claim is held until it is done. close() and process exit start it at once and wait.
      handedOver = true;
      const call = done(value, 'computed', verdict.reason, { computeMs, stored: false, storing: true, waited });
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
  // How the cost model names a result (and, with the function's name for a key, a function).
  const costId = (key: string) => `${category}/${key}${options.version === undefined ? '' : `@${options.version}`}`;

  const withInfo = async (...args: A): Promise<MemoCall<Awaited<R>>> => {
    const started = now();
    if (policy === 'auto') {
      if (!costs.opened) await costs.open();
      if (costs.callsDirectly(functionId)) return callDirectly(args, started);
    }
    const key = keyFor(...args);
    const kept = memory.get(memoryKey(key));
    // What serving a call from memory costs (keying it, looking it up): a function faster than that is called directly.
    const lookupMs = now() - started;
    if (kept) {
      stats.memory++;
      costs.observeFunction(functionId, { overheadMs: lookupMs });
      return { value: kept.value as Awaited<R>, key, source: 'memory', ms: now() - started, reason: IN_MEMORY };
    }
    const inFlight = flights.get(key);
    if (inFlight) {
      const shared = await inFlight;
      stats.memory++;
      return { value: shared.value, key, source: 'memory', ms: now() - started, reason: SHARED_FLIGHT };
    }
    const flight = resolve(key, args, started, lookupMs).finally(() => flights.delete(key));
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
    // Read through to the inner call: a background write turns its `stored` true later, and its `key` and
    // `reason` are written when first read.
    const mapped = { value: unpack(call.value) } as MemoCall<R>;
    for (const name of Object.keys(call) as (keyof MemoCall<unknown>)[]) {
      if (name !== 'value') Object.defineProperty(mapped, name, { get: () => call[name], enumerable: true });
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

/**
 * The memory tier memoized functions of this cache share by default (made on first use).
 * @param cache - a `CacheManager`.
 * @returns the cache's shared tier, bounded by {@link DEFAULT_MEMORY_BYTES}.
 * @example
 * memoryTierOf(cache).clear(); // drop every memoized result held in memory for this cache
 */
export function memoryTierOf(cache: CacheManagerCore): MemoryTier {
  return resolveMemory(cache, undefined);
}
