// Which cache a command works on: the root from --root or the environment, the categories it holds
// (the defaults plus any other folder with an index.json), and checks on the names a user types.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CATEGORY_NAME } from '../cache/categories.js';
import { INDEX_FILE } from '../cache/layout.js';
import { checkStoredKey } from '../cache/keys.js';
import { CacheManager, DEFAULT_CATEGORIES, type CategoryKind, type CategorySpec, type RemoteOptions } from '../node.js';
import { defaultCacheRoot } from '../platform/node-cache.js';
import { usageError } from './errors.js';

/** The root a command works on: --root, else $DASE_CACHE_DIR, else ./cache (as CacheManager picks it). */
export function resolveRoot(option: string | undefined): string {
  if (option !== undefined && option === '') throw usageError('--root: expected a folder path, got an empty string');
  return option ?? defaultCacheRoot();
}

// What a category created with `categories: { name: { kind } }` holds, judged by the values it stores.
function kindOf(indexPath: string): CategoryKind {
  try {
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { entries?: Record<string, { value?: { kind?: unknown } }> };
    const kinds = new Set(Object.values(index.entries ?? {}).map((e) => e?.value?.kind));
    if (kinds.has('bytes')) return 'bytes';
    if (kinds.has('tensor') || kinds.has('tensors') || kinds.has('checkpoint')) return 'tensors';
  } catch {
    // An unreadable index: validate reports it; for listing, 'arrays' is as good as any.
  }
  return 'arrays';
}

/** Category folders under `root` beyond the default ones: folders holding an index.json. */
function discoverCategories(root: string): Record<string, CategorySpec> {
  const found: Record<string, CategorySpec> = {};
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return found;
  }
  for (const name of names) {
    const index = join(root, name, INDEX_FILE);
    if (Object.hasOwn(DEFAULT_CATEGORIES, name) || !CATEGORY_NAME.test(name) || !existsSync(index)) continue;
    found[name] = { kind: kindOf(index), description: 'found on disk' };
  }
  return found;
}

/** How a command opens the cache (see CommandContext.openCache). */
export interface OpenCacheOptions {
  /** Make the cache if the root has none (warmup, remote pull). */
  create?: boolean;
  /**
   * The command uses only the remote and this root's remote counts (remote status, remote ls): a root without
   * a cache is no error, and the root is never opened, created or written, not even when the command ends.
   */
  remoteOnly?: boolean;
  /**
   * The remote cache to attach: options (remote commands), 'environment' for $DASE_CACHE_REMOTE (warmup, which
   * computes), or none (default): commands that look at or tidy the local cache never touch a remote.
   */
  remote?: RemoteOptions | 'environment';
}

/**
 * Opens the cache at `root` with every category found there.
 * @param options.create - make the cache if the root has none (warmup); otherwise a root without a cache is a
 *   usage error, so that a mistyped --root is reported instead of being filled with category folders.
 * @param options.remoteOnly - a root without a cache is fine: the command does not open it.
 * @param options.remote - the remote tier to attach (remote commands), or 'environment' ($DASE_CACHE_REMOTE).
 * @throws {CliError} (exit 2)
 */
export function openCache(root: string, { create = false, remoteOnly = false, remote }: OpenCacheOptions = {}): CacheManager {
  const absolute = resolve(root);
  const found = discoverCategories(absolute);
  // A cache: at least one category folder with its index.json.
  const holdsCache = Object.keys(found).length > 0
    || Object.keys(DEFAULT_CATEGORIES).some((name) => existsSync(join(absolute, name, INDEX_FILE)));
  if (!create && !remoteOnly && !holdsCache) {
    const what = existsSync(absolute) && statSync(absolute).isDirectory() ? `holds no dase-cache (no <category>/${INDEX_FILE})` : 'does not exist';
    throw usageError(`the cache root ${root} ${what}; pass --root <dir> or set DASE_CACHE_DIR to the cache's folder`);
  }
  return new CacheManager({ root, categories: found, ...(remote === 'environment' ? {} : { remote: remote ?? false }) });
}

/**
 * The category, checked against the cache's.
 * @throws {CliError} (exit 2) naming the known categories.
 */
export function checkCategory(cache: CacheManager, category: string): string {
  if (!Object.hasOwn(cache.categories, category)) {
    throw usageError(`unknown category ${JSON.stringify(category)}; known categories: ${Object.keys(cache.categories).join(', ')}`);
  }
  return category;
}

/**
 * A key as typed, checked before it reaches the cache: any key an entry may have (those the Python cache
 * wrote too, such as 'kernel alpha=1.5'), never one that leaves the category folder.
 * @throws {CliError} (exit 2)
 */
export function checkKeyArg(key: string): string {
  try {
    return checkStoredKey('key', key);
  } catch {
    throw usageError(`bad key ${JSON.stringify(key)}: a key has no '/', '\\' or control characters, does not start with '.', `
      + 'and has at most 255 characters');
  }
}
