// dase-cache gc --max-size <size>: evicts entries until the cache (or a category) fits.

import { EVICTION_POLICIES, type EvictionPolicyName } from '../../budget/eviction-policy.js';
import type { Command } from '../command.js';
import { listEntries } from '../entries.js';
import { usageError } from '../errors.js';
import { formatAge, formatBytes, formatMs, plural, table } from '../format.js';
import { parseSize } from '../size.js';

/** `gc --max-size <size> [--category c]`. */
export const gc: Command = {
  name: 'gc',
  summary: 'evict entries until the cache fits in a size',
  usage: '--max-size <size> [--category <category>] [--policy gdsf|lru|lfu]',
  description: 'Removes entries until the cache (or one category, with --category) takes at most --max-size on disk, '
    + 'and lists what it removed, by the policy the cache\'s own budget uses: gdsf (default) keeps what saves the '
    + 'most compute time per byte (compute_ms, which memoized calls record, times the uses, over the size; an '
    + 'entry saved by hand counts what loading it costs), and lets entries unused for a while age out; lru and lfu '
    + 'go by last use and by number of uses. Pinned entries (cache.pin) are never removed. Sizes: bytes (12345) '
    + 'or a number with K, M, G or T, each a power of 1024 (500M, 1.5G, 200MB, 1GiB). It does not ask for '
    + 'confirmation; --dry-run shows what it would remove.',
  positionals: { min: 0, max: 0 },
  options: {
    'max-size': { type: 'string', value: 'size', description: 'the size to fit in: 12345, 500M, 1.5G, 200MB, 1GiB' },
    category: { type: 'string', value: 'category', description: 'evict from this category only, to fit it in --max-size' },
    policy: { type: 'string', value: 'policy', description: 'gdsf (default), lru or lfu' },
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
    const policy = (values.policy ?? 'gdsf') as EvictionPolicyName;
    if (!EVICTION_POLICIES.includes(policy)) throw usageError(`gc: --policy must be ${EVICTION_POLICIES.join(', ')}, got "${policy}"`);
    const cache = await openCache();
    const before = (await listEntries(cache, category)).reduce((n, e) => n + e.size_bytes, 0);
    const removed = (await cache.evictToFit(maxBytes, { category, policy, dryRun }))
      .map((e) => ({ category: e.category, key: e.key, size_bytes: e.size_bytes, last_accessed: new Date(e.last_accessed_ms).toISOString(), compute_ms: e.compute_ms }));
    const size = before - removed.reduce((n, e) => n + e.size_bytes, 0);
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
