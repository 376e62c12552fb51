// dase-cache stats [category]: entries, sizes and accesses per category, the largest and most used
// entries, and the totals; and what loads cost on this root, as memoize's 'auto' has learnt it.

import type { BudgetStats } from '../../budget/root-budget.js';
import type { CostReport } from '../../cost/cost-model.js';
import type { Command } from '../command.js';
import { listEntries, type ListedEntry } from '../entries.js';
import { formatBytes, plural, table } from '../format.js';

const TOP = 5;

/** One category's figures, as `stats --json` prints them. */
interface CategoryFigures {
  category: string;
  kind: string;
  description: string | null;
  entries: number;
  size_bytes: number;
  accesses: number;
  /** The largest entries, largest first (at most 5). */
  largest: { key: string; size_bytes: number }[];
  /** The most used entries, most accesses first (at most 5; entries never accessed are left out). */
  most_used: { key: string; access_count: number }[];
}

function figures(category: string, kind: string, description: string | undefined, entries: ListedEntry[]): CategoryFigures {
  const bySize = [...entries].sort((a, b) => b.size_bytes - a.size_bytes || a.key.localeCompare(b.key));
  const byUse = entries.filter((e) => e.access_count > 0).sort((a, b) => b.access_count - a.access_count || a.key.localeCompare(b.key));
  return {
    category, kind, description: description ?? null, entries: entries.length,
    size_bytes: entries.reduce((n, e) => n + e.size_bytes, 0),
    accesses: entries.reduce((n, e) => n + e.access_count, 0),
    largest: bySize.slice(0, TOP).map((e) => ({ key: e.key, size_bytes: e.size_bytes })),
    most_used: byUse.slice(0, TOP).map((e) => ({ key: e.key, access_count: e.access_count })),
  };
}

/** The learnt costs, one line per storage measured (or assumed, before any load was measured). */
function costLines(costs: CostReport): string[] {
  const lines = ['load costs (learnt from verified loads on this root; memoize\'s \'auto\' decides by them):'];
  for (const [storage, c] of Object.entries(costs.loads)) {
    if (c.samples === 0 && storage !== costs.storage) continue;
    const basis = c.samples === 0 ? 'not measured yet: the prior' : `${plural(c.samples, 'load', 'loads')} measured`;
    lines.push(`  ${storage.padEnd(7)} ${c.fixedMs.toFixed(3).padStart(8)} ms per load + ${String(c.mbPerSecond).padStart(6)} MB/s   (${basis})`);
  }
  lines.push(`  results known cheaper to compute than to load: ${costs.computes}; functions called directly: `
    + `${costs.functions.direct.length === 0 ? 'none' : costs.functions.direct.join(', ')}`);
  return lines;
}

/** The budget: its limits, what is used, what eviction removed and what the kept entries are worth. */
function budgetLines(budget: BudgetStats): string[] {
  const limits = [
    ...(budget.maxBytes === null ? [] : [`the root ${formatBytes(budget.maxBytes)}`]),
    ...Object.entries(budget.budgets).map(([category, bytes]) => `${category} ${formatBytes(bytes)}`),
  ];
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    `budget: ${limits.length === 0 ? 'none (the cache grows until gc or a maxBytes option bounds it)' : `${limits.join(', ')} (${budget.policy})`}`,
    `  ${formatBytes(budget.totalBytes)} used; evicted ${budget.evicted} (${formatBytes(budget.evictedBytes)}, ${seconds(budget.evictedComputeMs)} of compute); `
      + `kept: ${seconds(budget.keptComputeMs)} of compute; pinned: ${budget.pinned.length === 0 ? 'none' : budget.pinned.join(', ')}`,
  ];
}

/** `stats [category]`. */
export const stats: Command = {
  name: 'stats',
  summary: 'entries, sizes and accesses per category, largest and most used entries, totals',
  usage: '[category]',
  description: 'Shows, per category, the number of entries, their size on disk, their accesses, the largest entry '
    + 'and the most used one, then the totals of the cache and what loads cost on it (the cost model memoize\'s '
    + '\'auto\' policy has learnt: milliseconds per load and throughput, per storage). With a category, also its '
    + 'five largest and five most used entries.',
  positionals: { min: 0, max: 1 },
  options: {},
  examples: [
    ['dase-cache stats', 'every category and the totals'],
    ['dase-cache stats stencils', 'one category, with its five largest and most used entries'],
    ['dase-cache stats --json | jq .total.size_bytes', 'the size of the whole cache, in bytes'],
  ],
  json: '{ "root": string, "total": { "categories", "entries", "size_bytes", "accesses" }, "categories": [{ "category", '
    + '"kind", "description", "entries", "size_bytes", "accesses", "largest": [{ "key", "size_bytes" }], '
    + '"most_used": [{ "key", "access_count" }] }], "costs": { "storage", "file", "loads": { <storage>: { "fixedMs", '
    + '"mbPerSecond", "samples" } }, "computes", "functions": { "measured", "direct" } }, "budget": { "maxBytes", "budgets", '
    + '"policy", "totalBytes", "categories", "pinned", "evicted", "evictedBytes", "evictedComputeMs", "keptComputeMs", "errors" } }  '
    + '(largest and most_used: at most 5 each)',
  async run({ root, json, positionals, print, printJson, openCache }) {
    const cache = await openCache();
    const entries = await listEntries(cache, positionals[0]);
    const names = positionals[0] === undefined ? Object.keys(cache.categories) : [positionals[0]];
    const categories = names.map((name) => figures(name, cache.categories[name].kind, cache.categories[name].description,
      entries.filter((e) => e.category === name)));
    const total = {
      categories: categories.length,
      entries: entries.length,
      size_bytes: categories.reduce((n, c) => n + c.size_bytes, 0),
      accesses: categories.reduce((n, c) => n + c.accesses, 0),
    };
    const { costs, budget } = await cache.getStats();
    if (json) {
      printJson({ root, total, categories, costs, budget });
      return 0;
    }
    const rows = categories.map((c) => [
      c.category, c.kind, String(c.entries), formatBytes(c.size_bytes), String(c.accesses),
      c.largest[0] ? `${c.largest[0].key} (${formatBytes(c.largest[0].size_bytes)})` : '-',
      c.most_used[0] ? `${c.most_used[0].key} (${c.most_used[0].access_count})` : '-',
    ]);
    rows.push(['total', '', String(total.entries), formatBytes(total.size_bytes), String(total.accesses), '', '']);
    const right = 'right' as const;
    for (const line of table([{ title: 'CATEGORY' }, { title: 'KIND' }, { title: 'ENTRIES', align: right }, { title: 'SIZE', align: right },
      { title: 'ACCESSES', align: right }, { title: 'LARGEST' }, { title: 'MOST USED' }], rows)) print(line);
    if (positionals[0] !== undefined) {
      const [only] = categories;
      print();
      print('largest:');
      for (const e of only.largest) print(`  ${formatBytes(e.size_bytes).padStart(10)}  ${e.key}`);
      print('most used:');
      if (only.most_used.length === 0) print('  (no accesses yet)');
      for (const e of only.most_used) print(`  ${String(e.access_count).padStart(10)}  ${e.key}`);
    } else {
      print();
      for (const line of budgetLines(budget)) print(line);
      for (const line of costLines(costs)) print(line);
    }
    print(`cache: ${root}`);
    return 0;
  },
};
