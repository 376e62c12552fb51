// The cache in browsers: the same CacheManager as in Node (same methods, categories, files and index.json),
// on a folder of the origin-private file system, checksums by the WASM SHA-256 (and the .npz files' CRC-32 by
// the WASM kernel); or, when asked, in memory.
// In a dedicated worker the files are written through sync access handles (opfs-sah-files.ts), elsewhere
// through writables (opfs-files.ts): the same files, so pages and workers share one cache.

import { describe, knownKeys, optionsObject } from '../_args.js';
import { CacheManagerCore, type CacheManagerOptions } from '../cache/manager.js';
import type { Files } from '../cache/files.js';
import { crc32 } from '../kernels/crc32.js';
import { checksum, digestHex } from './browser.js';
import { MemoryFiles } from './memory-files.js';
import { OpfsFiles, opfsUnavailable } from './opfs-files.js';
import { OpfsSahFiles, syncAccessHandlesAvailable } from './opfs-sah-files.js';
import { openRemote } from '../remote/open-remote.js';

/** Options of the browser's `CacheManager`. */
export interface BrowserCacheManagerOptions extends CacheManagerOptions {
  /** The cache's folder in the origin-private file system ('/'-separated to nest it); default 'dase-cache'. */
  root?: string;
  /**
   * `'opfs'` (default): the origin-private file system, kept across page loads and shared by the origin's
   * tabs and workers. `'memory'`: in memory, for as long as the page (or worker) lives; for tests and for
   * browsers without OPFS.
   */
  storage?: 'opfs' | 'memory';
  /**
   * Ask the browser to keep the cache when storage runs low (navigator.storage.persist(), which may ask the
   * user); see {@link CacheManager.persisted}. Default false: the browser may evict the origin's storage.
   */
  persist?: boolean;
}

export const DEFAULT_BROWSER_ROOT = 'dase-cache';

function hasOpfs(): boolean {
  return typeof globalThis.navigator?.storage?.getDirectory === 'function';
}

function resolveRoot(root: unknown): string {
  if (root === undefined) return DEFAULT_BROWSER_ROOT;
  const segments = typeof root === 'string' ? root.split('/').filter((s) => s !== '') : [];
  if (segments.length === 0 || segments.some((s) => s === '.' || s === '..')) {
    throw new TypeError(`CacheManager: expected options.root to be a folder name (e.g. 'dase-cache' or 'apps/sim'), got ${describe(root)}`);
  }
  return segments.join('/');
}

function openFiles(storage: unknown, root: string): Files {
  if (storage === 'memory') return new MemoryFiles(root);
  if (storage !== undefined && storage !== 'opfs') {
    throw new RangeError(`CacheManager: expected options.storage to be 'opfs' or 'memory', got ${describe(storage)}`);
  }
  if (!hasOpfs()) throw opfsUnavailable('this browser has no origin-private file system (navigator.storage.getDirectory is missing)');
  return syncAccessHandlesAvailable() ? new OpfsSahFiles(root) : new OpfsFiles(root);
}

/**
 * The cache of categories of entries, in the browser's origin-private file system: the same API, layout
 * and index.json as on disk in Node, shared safely by the origin's tabs and workers (Web Locks).
 * @throws {CacheError} (code 'ENOOPFS') when the browser has no origin-private file system; its message
 *   names the alternative `{ storage: 'memory' }`.
 * @throws {TypeError|RangeError} for bad options.
 * @example
 * const cache = new CacheManager({ persist: true });            // opfs:/dase-cache
 * await cache.save('stencils', 'laplacian_2d_64_64_dirichlet', laplacian([64, 64]));
 * const a = await cache.load('stencils', 'laplacian_2d_64_64_dirichlet');
 * await cache.close();                                          // folds the journals into index.json
 */
export class CacheManager extends CacheManagerCore {
  private readonly persistence: Promise<boolean> | undefined;

  /**
   * The cache in the folder `options.root` of the origin-private file system (created on first use if it does
   * not exist), or in memory.
   * @param options - root folder, storage, persistence, categories, remote and budget.
   * @throws {CacheError} (code 'ENOOPFS') when the browser has no origin-private file system.
   * @throws {TypeError|RangeError} for bad options.
   */
  constructor(options: BrowserCacheManagerOptions = {}) {
    const opts = optionsObject('CacheManager', options);
    knownKeys('CacheManager', opts, ['root', 'categories', 'flushIntervalMs', 'storage', 'persist', 'remote', 'maxBytes', 'budgets', 'eviction']);
    // The core knows its own options only: the storage choice stays here.
    const { storage, persist, ...common } = opts as BrowserCacheManagerOptions;
    if (persist !== undefined && typeof persist !== 'boolean') {
      throw new TypeError(`CacheManager: expected options.persist to be a boolean, got ${describe(persist)}`);
    }
    const files = openFiles(storage, resolveRoot(common.root));
    super(files, {
      checksum, crc32, digest: digestHex, openRemote: (resolved) => openRemote(resolved, {}),
      ...(storage === 'memory' ? {} : { defaultMaxBytes: quotaShare }),
    }, common);
    // Asked once, by the user's choice: browsers may show a prompt, or decide from the site's engagement.
    if (persist) this.persistence = requestPersistence();
  }

  /**
   * Whether the browser has promised to keep this origin's storage under pressure: the answer to the
   * request made for `persist: true`, else the current state. False where the API is missing.
   * @returns whether the origin's storage is persistent.
   * @example
   * if (!(await cache.persisted())) console.info('the browser may evict the cache when space runs low');
   */
  persisted(): Promise<boolean> {
    if (this.persistence) return this.persistence;
    const storage = globalThis.navigator?.storage;
    return typeof storage?.persisted === 'function' ? storage.persisted().catch(() => false) : Promise.resolve(false);
  }
}

/** Of the origin's quota, the share a cache given no maxBytes keeps within, so the browser never has to evict the origin. */
export const DEFAULT_QUOTA_SHARE = 0.5;

/** The default budget on OPFS: a share of what navigator.storage.estimate() says the origin may use. */
async function quotaShare(): Promise<number | undefined> {
  const quota = (await globalThis.navigator?.storage?.estimate?.())?.quota;
  return typeof quota === 'number' && quota > 0 ? Math.floor(quota * DEFAULT_QUOTA_SHARE) : undefined;
}

async function requestPersistence(): Promise<boolean> {
  const storage = globalThis.navigator?.storage;
  if (typeof storage?.persist !== 'function') return false;
  try {
    return await storage.persist();
  } catch {
    return false; // refused outside a secure context, or by the browser's policy: the cache works regardless
  }
}
