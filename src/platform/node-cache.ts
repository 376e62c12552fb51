// The cache on Node: root from the option, else DASE_CACHE_DIR, else ./cache; checksums by node:crypto;
// batched bookkeeping flushed at process exit.

import { crc32 } from 'node:zlib';
import { describe } from '../_args.js';
import { CacheManagerCore, type CacheManagerOptions } from '../cache/manager.js';
import { checksum } from './node.js';
import { NodeFiles } from './node-files.js';

export interface NodeCacheManagerOptions extends CacheManagerOptions {
  /** The cache root folder; default: env DASE_CACHE_DIR, else './cache'. */
  root?: string;
}

const open = new Set<CacheManager>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' runs on normal exit and process.exit(); only synchronous work is possible there.
  process.on('exit', () => { for (const cache of open) cache.flushAtExit(); });
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
  constructor(options: NodeCacheManagerOptions = {}) {
    const root = resolveRoot((options as { root?: unknown } | null)?.root);
    super(new NodeFiles(root), { checksum, crc32: (data, previous) => crc32(data, previous) }, options);
    open.add(this);
    installExitHook();
  }

  override async close(): Promise<void> {
    open.delete(this);
    await super.close();
  }
}
