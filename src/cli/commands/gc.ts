// dase-cache gc --max-size <size>: evicts entries until the cache (or a category) fits.

import type { Command } from '../command.js';
import { listEntries, type ListedEntry } from '../entries.js';
import { usageError } from '../errors.js';
import { formatAge, formatBytes, formatMs, plural, table } from '../format.js';
import { parseSize } from '../size.js';

/**
 * The order entries are evicted in. Entries that record compute_ms (the memoizer writes it) come first,
 * cheapest to compute again per byte freed first: a memoized function recomputes them on its next call.
 * Entries without it (saved by hand, maybe not reproducible) come after, least recently used first.
 */
function evictionOrder(entries: ListedEntry[]): ListedEntry[] {
  const byAge = (a: ListedEntry, b: ListedEntry) => Date.parse(a.last_accessed) - Date.parse(b.last_accessed) || a.access_count - b.access_count;
  const costed = entries.filter((e) => e.compute_ms !== null)
    .sort((a, b) => a.compute_ms! / Math.max(1, a.size_bytes) - b.compute_ms! / Math.max(1, b.size_bytes) || byAge(a, b));
  const uncosted = entries.filter((e) => e.compute_ms === null).sort(byAge);
  return [...costed, ...uncosted];
}

/** `gc --max-size <size> [--category c]`. */
export const gc: Command = {
  name: 'gc',
  summary: 'evict entries until the cache fits in a size',
  usage: '--max-size <size> [--category <category>]',
  description: 'Removes entries until the cache (or one category, with --category) takes at most --max-size on disk, '
    + 'and lists what it removed. Entries that record their compute time (compute_ms, which memoized kernels '
    + 'write) go first, those cheapest to compute again per byte first: a memoized call recomputes them. '
    + 'Entries without it go after them, least recently used first. Sizes: bytes (12345) or a number with K, M, '
    + 'G or T, each a power of 1024 (500M, 1.5G, 200MB, 1GiB). It does not ask for confirmation; --dry-run '
    + 'shows what it would remove.',
  positionals: { min: 0, max: 0 },
  options: {
    'max-size': { type: 'string', value: 'size', description: 'the size to fit in: 12345, 500M, 1.5G, 200MB, 1GiB' },
    category: { type: 'string', value: 'category', description: 'evict from this category only, to fit it in --max-size' },
    'dry-run': { type: 'boolean', description: 'list what would be removed, and remove nothing' },
  },
  examples: [
    ['dase-cache gc --max-size 500M', 'fit the whole cache in 500 MiB'],
    ['dase-cache gc --max-size 1GiB --category stencils', 'fit the stencils in 1 GiB'],
    ['dase-cache gc --max-size 0 --category state_profiles --dry-run', 'what emptying a category would remove'],
  ],
  json: '{ "root", "category": string|null, "max_bytes", "before_bytes", "after_bytes", "dry_run": boolean, "removed": '
    + '[{ "category", "key", "size_bytes", "last_accessed", "compute_ms": number|null }] }',
  async run({ root, json, values, print, printJson, openCache }) {
    if (values['max-size'] === undefined) throw usageError('gc: --max-size <size> is required (e.g. --max-size 500M); run "dase-cache gc --help" for its usage');
    const maxBytes = parseSize(values['max-size'] as string, '--max-size');
    const category = values.category as string | undefined;
    const dryRun = values['dry-run'] === true;
    const cache = await openCache();
    const entries = await listEntries(cache, category);
    const before = entries.reduce((n, e) => n + e.size_bytes, 0);
    let size = before;
    const removed: ListedEntry[] = [];
    for (const entry of evictionOrder(entries)) {
      if (size <= maxBytes) break;
      if (dryRun || (await cache.delete(entry.category, entry.key))) removed.push(entry);
      size -= entry.size_bytes;
    }
    if (json) {
      printJson({
        root, category: category ?? null, max_bytes: maxBytes, before_bytes: before, after_bytes: size, dry_run: dryRun,
        removed: removed.map((e) => ({ category: e.category, key: e.key, size_bytes: e.size_bytes, last_accessed: e.last_accessed, compute_ms: e.compute_ms })),
      });
      return 0;
    }
    const scope = category ?? 'the cache';
    if (removed.length === 0) {
      print(`${scope} takes ${formatBytes(before)}, within ${formatBytes(maxBytes)}: nothing to remove`);
      return 0;
    }
    const now = Date.now();
    const right = 'right' as const;
    for (const line of table([{ title: 'ENTRY' }, { title: 'SIZE', align: right }, { title: 'COMPUTE', align: right }, { title: 'LAST ACCESS' }],
      removed.map((e) => [`${e.category}/${e.key}`, formatBytes(e.size_bytes), e.compute_ms === null ? '-' : formatMs(e.compute_ms), formatAge(e.last_accessed, now)]))) {
      print(line);
    }
    const freed = formatBytes(before - size);
    print(`${dryRun ? 'would remove' : 'removed'} ${plural(removed.length, 'entry', 'entries')} (${freed}): ${scope} ${formatBytes(before)} -> ${formatBytes(size)}, limit ${formatBytes(maxBytes)}`);
    return 0;
  },
};
