// Moving whole categories between the local cache and its remote, for `dase-cache remote push` and `pull`:
// push publishes what the local cache holds (each file verified first), pull prefetches what the remote has.

import { CacheError } from '../cache/errors.js';
import type { CacheManagerCore } from '../cache/manager.js';
import type { Manifest } from './manifest.js';

/** Uploads or downloads in flight at once: enough to keep a link busy, few enough to bound the memory held. */
const WINDOW = 8;

/** What {@link pushToRemote} or {@link pullFromRemote} did. */
export interface SyncReport {
  /** Entries copied (published, or fetched and verified). */
  copied: number;
  /** Entries left alone: already local (pull), or not published (push: read-only, over maxBytes, failed). */
  skipped: number;
  /** Entries that could not be read (push: a damaged local file) or verified (pull: refused downloads). */
  failed: {
    /** The entry's category. */
    category: string;
    /** The entry's key. */
    key: string;
    /** Why it failed. */
    reason: string;
  }[];
  /** Bytes of blobs sent (push) or fetched (pull). */
  bytes: number;
  /** Exchanges with the remote that failed during the transfer (errors, timeouts, and those skipped after them): the entries they left are counted as skipped. */
  remoteFailures: number;
  /** The last of those failures, credentials redacted; null when there was none. */
  lastError: string | null;
}

type Remote = NonNullable<CacheManagerCore['remote']>;

function newReport(): Omit<SyncReport, 'remoteFailures' | 'lastError'> {
  return { copied: 0, skipped: 0, failed: [], bytes: 0 };
}

/** The report, with the remote's failures since `before` (its counts when the transfer began). */
function finish(report: Omit<SyncReport, 'remoteFailures' | 'lastError'>, remote: Remote, before: ReturnType<Remote['stats']>): SyncReport {
  const now = remote.stats();
  const remoteFailures = now.errors - before.errors + now.timeouts - before.timeouts + now.skipped - before.skipped;
  return { ...report, remoteFailures, lastError: remoteFailures > 0 ? now.lastError ?? null : null };
}

function requireRemote(cache: CacheManagerCore, what: string): Remote {
  if (!cache.remote) throw new CacheError('ENOREMOTE', `${what}: the cache has no remote (pass remote, or set DASE_CACHE_REMOTE)`);
  return cache.remote;
}

async function inWindows<T>(items: T[], run: (item: T) => Promise<void>, onProgress?: (done: number, total: number) => void): Promise<void> {
  let done = 0;
  for (let i = 0; i < items.length; i += WINDOW) {
    await Promise.all(items.slice(i, i + WINDOW).map(async (item) => {
      await run(item);
      onProgress?.(++done, items.length);
    }));
  }
}

/**
 * Publishes every entry of the local cache (or of one category) to the remote; blobs the remote already has
 * are not sent again. What `dase-cache remote push` does.
 * @param cache - a `CacheManager` with a remote.
 * @param options - `category` to push one category; `onProgress(done, total)` is called as entries are done.
 * @returns what was copied, skipped and failed.
 * @throws {CacheError} (code 'ENOREMOTE') without a remote; 'EREADONLY' for a read-only one.
 * @example
 * const cache = new CacheManager({ remote: 'redis://cache.example:6379/0' });
 * const { copied, failed } = await pushToRemote(cache, { category: 'stencils' });
 */
export async function pushToRemote(cache: CacheManagerCore, options: { category?: string; onProgress?: (done: number, total: number) => void } = {}): Promise<SyncReport> {
  const remote = requireRemote(cache, 'remote push');
  if (remote.readOnly) throw new CacheError('EREADONLY', `remote push: the remote ${remote.backend.url} is read-only here`);
  const categories = options.category === undefined ? Object.keys(cache.categories) : [options.category];
  const items: { category: string; key: string }[] = [];
  for (const category of categories) for (const key of await cache.listKeys(category)) items.push({ category, key });
  const report = newReport();
  const before = remote.stats();
  await inWindows(items, async ({ category, key }) => {
    try {
      if (await cache.publishEntry(category, key)) report.copied++;
      else report.skipped++;
    } catch (error) {
      report.failed.push({ category, key, reason: (error as Error).message });
    }
  }, options.onProgress);
  report.bytes = remote.stats().bytesUploaded - before.bytesUploaded;
  return finish(report, remote, before);
}

/**
 * Fetches every entry the remote has (or those of one category) that the local cache lacks, each verified.
 * What `dase-cache remote pull` does.
 * @param cache - a `CacheManager` with a remote.
 * @param options - `category` to pull one category; `onProgress(done, total)` is called as entries are done.
 * @returns what was copied, skipped and failed.
 * @throws {CacheError} (code 'ENOREMOTE') without a remote; 'ENOLIST' when the remote cannot list its
 *   entries (a plain HTTP cache without directory listings); RemoteError when it fails.
 * @example
 * const cache = new CacheManager({ remote: 'https://cache.example/dase' });
 * const { copied, bytes } = await pullFromRemote(cache); // warm a new machine's cache
 */
export async function pullFromRemote(cache: CacheManagerCore, options: { category?: string; onProgress?: (done: number, total: number) => void } = {}): Promise<SyncReport> {
  const remote = requireRemote(cache, 'remote pull');
  const before = remote.stats();
  const manifests = (await listRemote(cache, 'remote pull')).filter((m) => options.category === undefined || m.category === options.category);
  const report = newReport();
  await inWindows(manifests, async ({ category, key, blob }) => {
    if (!Object.hasOwn(cache.categories, category) || await cache.exists(category, key)) {
      report.skipped++;
      return;
    }
    const fetched = await cache.fetchRemote(category, key, { where: 'remote pull' });
    if (fetched) {
      report.copied++;
      report.bytes += blob.size;
    } else if (remote.isRefused(blob.sha256)) {
      report.failed.push({ category, key, reason: 'refused: the blob did not verify' });
    } else {
      report.skipped++; // evicted meanwhile, or the remote failed
    }
  }, options.onProgress);
  return finish(report, remote, before);
}

/**
 * The manifests of every entry on the remote under this cache's prefix (what `dase-cache remote ls` lists).
 * @param cache - a `CacheManager` with a remote.
 * @param what - the caller's name, for messages.
 * @returns one manifest per entry.
 * @throws {CacheError} (code 'ENOREMOTE'/'ENOLIST'), RemoteError.
 * @example
 * for (const m of await listRemote(cache)) console.log(m.category, m.key, m.blob.size);
 */
export async function listRemote(cache: CacheManagerCore, what = 'remote ls'): Promise<Manifest[]> {
  const remote = requireRemote(cache, what);
  const manifests = await remote.list();
  if (!manifests) {
    throw new CacheError('ENOLIST', `${what}: the remote ${remote.backend.url} cannot list its entries `
      + '(an HTTP cache needs directory listings in JSON, e.g. nginx "autoindex on; autoindex_format json;")');
  }
  return manifests;
}
