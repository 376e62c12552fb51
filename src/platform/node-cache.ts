// The cache on Node: root from the option, else DASE_CACHE_DIR, else ./cache; checksums by node:crypto;
// at process exit, with or without close(), background writes finish and every index.json is brought up to date.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize } from 'node:v8';
import { crc32 } from 'node:zlib';
import { describe } from '../_args.js';
import { CacheManagerCore, type CacheManagerOptions } from '../cache/manager.js';
import type { ExitJob } from './exit-worker.js';
import { checksum } from './node.js';
import { NodeFiles } from './node-files.js';
import { openRemote } from '../remote/open-remote.js';
import { RedisBackend } from '../remote/redis.js';

/** Options of Node's `CacheManager`. */
export interface NodeCacheManagerOptions extends CacheManagerOptions {
  /** The cache root folder; default: env DASE_CACHE_DIR, else './cache'. */
  root?: string;
  /** A shared remote cache (see CacheManagerOptions.remote); default: env DASE_CACHE_REMOTE, else none. */
  remote?: CacheManagerOptions['remote'];
  /** The root's budget (see CacheManagerOptions.maxBytes); default: env DASE_CACHE_MAX_BYTES, else none. */
  maxBytes?: CacheManagerOptions['maxBytes'];
}

// How long process exit may take to finish a cache's work in a process of its own.
const EXIT_WORK_TIMEOUT_MS = 60_000;

const open = new Set<CacheManager>();
// Caches whose checkpoint at the end of the event loop failed: not retried, or the loop would never end.
const failedAtExit = new WeakSet<CacheManager>();
let exitHooksInstalled = false;

/**
 * At the end of the event loop (a script that returns without close()), each cache that lags gets a
 * checkpoint; new work keeps the loop alive, and 'beforeExit' comes again once it is done, until no cache
 * lags or a checkpoint failed (a full disk: the journals keep everything for the next manager).
 */
function beforeExit(): void {
  for (const cache of open) {
    if (!cache.lagging() || failedAtExit.has(cache)) continue;
    void cache.settleBackground().then(() => cache.checkpoint()).catch(() => failedAtExit.add(cache));
  }
}

/**
 * At 'exit' (process.exit(), or the end of the loop with work left) nothing asynchronous runs any more. The
 * access counts are appended synchronously; then, if this process saved or deleted anything that index.json
 * does not show yet, a process of its own makes the saves that background work had not finished (their
 * values handed over as structured clones) and folds the journals into index.json, with the cache's
 * ordinary code. The journals already hold every acknowledged save: if that fails, the next manager on the
 * root folds them in.
 */
function atExit(): void {
  for (const cache of open) {
    cache.flushTouchesAtExit();
    const saves = cache.unfinishedSaves();
    // Access counts alone are not worth a process; a root removed meanwhile has nothing to bring up to date.
    if ((saves.length === 0 && !cache.lacksChanges()) || failedAtExit.has(cache) || !existsSync(cache.root)) continue;
    const here = fileURLToPath(import.meta.url);
    const worker = join(dirname(here), `exit-worker${extname(here)}`);
    const job: ExitJob = { root: cache.root, categories: { ...cache.categories }, saves };
    const result = spawnSync(process.execPath, [...(worker.endsWith('.ts') ? ['--import', 'tsx'] : []), worker], {
      input: serialize(job), stdio: ['pipe', 'ignore', 'pipe'], timeout: EXIT_WORK_TIMEOUT_MS,
    });
    if (result.status !== 0) {
      process.stderr.write(`dase-cache: at exit, could not finish ${saves.length} background write(s) and the index of ${cache.root}: `
        + `${result.error?.message ?? result.stderr.toString().trim()}\n`);
    }
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('beforeExit', beforeExit);
  process.on('exit', atExit);
}

/** Where a cache lives when no root is given: $DASE_CACHE_DIR, else ./cache. */
export function defaultCacheRoot(): string {
  return process.env.DASE_CACHE_DIR || './cache';
}

function resolveRoot(root: unknown): string {
  if (root === undefined) return defaultCacheRoot();
  if (typeof root !== 'string' || root === '') throw new TypeError(`CacheManager: expected options.root to be a folder path, got ${describe(root)}`);
  return root;
}

/**
 * A filesystem cache of categories of entries, shared safely between processes.
 * @example
 * const cache = new CacheManager({ root: './cache' });
 * await cache.save('stencils', 'laplacian_2d_64_64_dirichlet', laplacian([64, 64]));
 * const a = await cache.load('stencils', 'laplacian_2d_64_64_dirichlet');
 * await cache.close();
 */
export class CacheManager extends CacheManagerCore {
  /**
   * The cache in the folder `options.root`, created on first use if it does not exist.
   * @param options - root folder, categories, remote and budget; defaults from $DASE_CACHE_DIR,
   *   $DASE_CACHE_REMOTE and $DASE_CACHE_MAX_BYTES.
   * @throws {TypeError|RangeError} for bad options (an unknown key, a bad root, category, budget or remote URL).
   */
  constructor(options: NodeCacheManagerOptions = {}) {
    const root = resolveRoot((options as { root?: unknown } | null)?.root);
    const remote = (options as { remote?: unknown } | null)?.remote ?? process.env.DASE_CACHE_REMOTE;
    const maxBytes = (options as { maxBytes?: unknown } | null)?.maxBytes ?? (process.env.DASE_CACHE_MAX_BYTES || undefined);
    super(new NodeFiles(root), {
      checksum, crc32: (data, previous) => crc32(data, previous),
      openRemote: (resolved) => openRemote(resolved, { redis: (o) => new RedisBackend(o) }),
    }, { ...options, ...(remote === undefined ? {} : { remote }), ...(maxBytes === undefined ? {} : { maxBytes }) } as CacheManagerOptions);
    open.add(this);
    installExitHooks();
  }

  override async close(): Promise<void> {
    open.delete(this);
    await super.close();
  }
}
