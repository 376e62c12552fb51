// dase-cache clear <category> [key] | clear --all: removes entries, after asking on a terminal.

import type { Command } from '../command.js';
import { confirm } from '../confirm.js';
import { checkKeyArg } from '../context.js';
import { listEntries } from '../entries.js';
import { problemError, usageError } from '../errors.js';
import { formatBytes, plural } from '../format.js';

/** `clear <category> [key]`, `clear --all`. */
export const clear: Command = {
  name: 'clear',
  summary: 'remove one entry, a category, or everything (asks first)',
  usage: '<category> [key] | --all',
  description: 'Removes one entry, every entry of a category, or with --all every entry of every category. On a '
    + 'terminal it asks first; scripts pass --yes. Without a terminal and without --yes it refuses (exit 2), so a '
    + 'script never clears a cache by accident. Exit 1 when the key is not there.',
  positionals: { min: 0, max: 2 },
  options: {
    all: { type: 'boolean', description: 'clear every category' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (for scripts)' },
  },
  examples: [
    ['dase-cache clear stencils laplacian_2d_64_64_dirichlet', 'remove one entry (asks first)'],
    ['dase-cache clear fractional_kernels --yes', 'empty a category, from a script'],
    ['dase-cache clear --all --yes --json', 'empty the cache and print what was removed'],
  ],
  json: '{ "root": string, "removed": { "<category>": number }, "total": number, "key": string|null }',
  async run({ root, json, values, positionals, print, printJson, openCache }) {
    const [category, key] = positionals;
    if (values.all && category !== undefined) throw usageError('clear: give either --all or a category, not both; run "dase-cache clear --help" for its usage');
    if (!values.all && category === undefined) throw usageError('clear: expected a category (and optionally a key) or --all; run "dase-cache clear --help" for its usage');
    if (key !== undefined) checkKeyArg(key);
    const cache = await openCache();
    const entries = (await listEntries(cache, category)).filter((e) => key === undefined || e.key === key);
    const what = values.all ? 'every category' : key === undefined ? category : `${category}/${key}`;
    if (!values.yes && !process.stdin.isTTY) {
      throw usageError(`clear ${what}: refused, it needs confirmation and stdin is not a terminal; pass --yes to clear without asking`);
    }
    if (key !== undefined && entries.length === 0) {
      throw problemError(`no entry ${JSON.stringify(key)} in ${category}; run "dase-cache ls ${category}" to see its keys`);
    }
    const bytes = entries.reduce((n, e) => n + e.size_bytes, 0);
    const question = `Remove ${plural(entries.length, 'entry', 'entries')} (${formatBytes(bytes)}) from ${what} in ${root}?`;
    if (entries.length > 0 && !values.yes && !(await confirm(question))) {
      if (json) printJson({ root, removed: {}, total: 0, key: key ?? null });
      else print('nothing removed');
      return 0;
    }
    let removed: Record<string, number>;
    if (values.all) removed = await cache.clearAll();
    else if (key === undefined) removed = { [category]: await cache.clearCategory(category) };
    else removed = { [category]: (await cache.delete(category, key)) ? 1 : 0 };
    const total = Object.values(removed).reduce((a, b) => a + b, 0);
    if (json) printJson({ root, removed, total, key: key ?? null });
    else print(`removed ${plural(total, 'entry', 'entries')} (${formatBytes(bytes)}) from ${what}`);
    return 0;
  },
};
