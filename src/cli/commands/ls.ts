// dase-cache ls [category]: the keys with size, accesses, last access and what they store.

import type { Command } from '../command.js';
import { listEntries } from '../entries.js';
import { formatAge, formatBytes, formatDtype, formatShape, plural, table } from '../format.js';

/** `ls [category]`. */
export const ls: Command = {
  name: 'ls',
  summary: 'list the keys, with size, accesses, last access and what they store',
  usage: '[category]',
  description: 'Lists the entries of one category, or of every category, sorted by category and key: size on disk, '
    + 'access count, last access, and the kind of value (with dtype and shape for arrays and CSR matrices). '
    + 'Listing does not count as an access.',
  positionals: { min: 0, max: 1 },
  options: {},
  examples: [
    ['dase-cache ls', 'every entry of the cache in ./cache (or $DASE_CACHE_DIR)'],
    ['dase-cache ls stencils --root /data/cache', 'the entries of one category in another cache'],
    ['dase-cache ls fractional_kernels --json | jq -r \'.entries[].key\'', 'the keys, for a script'],
  ],
  json: '{ "root": string, "entries": [{ "category", "key", "kind", "dtype": string|null, "shape": number[]|null, '
    + '"size_bytes", "access_count", "last_accessed", "created_at", "compute_ms": number|null, "file" }] }',
  async run({ root, json, positionals, print, printJson, openCache }) {
    const cache = await openCache();
    const entries = await listEntries(cache, positionals[0]);
    if (json) {
      printJson({ root, entries });
      return 0;
    }
    if (entries.length === 0) {
      print(`no entries${positionals[0] ? ` in ${positionals[0]}` : ''} (cache: ${root})`);
      return 0;
    }
    const now = Date.now();
    const withCategory = positionals[0] === undefined;
    const rows = entries.map((e) => [
      ...(withCategory ? [e.category] : []), e.key, e.kind, formatDtype(e.dtype), formatShape(e.shape),
      formatBytes(e.size_bytes), String(e.access_count), formatAge(e.last_accessed, now),
    ]);
    const columns = [
      ...(withCategory ? [{ title: 'CATEGORY' }] : []), { title: 'KEY' }, { title: 'KIND' }, { title: 'DTYPE' }, { title: 'SHAPE' },
      { title: 'SIZE', align: 'right' as const }, { title: 'ACCESSES', align: 'right' as const }, { title: 'LAST ACCESS' },
    ];
    for (const line of table(columns, rows)) print(line);
    const bytes = entries.reduce((n, e) => n + e.size_bytes, 0);
    print(`${plural(entries.length, 'entry', 'entries')}, ${formatBytes(bytes)}`);
    return 0;
  },
};
