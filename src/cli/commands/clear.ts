// dase-cache clear <category> [key] | clear --all | clear --quarantine: removes entries, or the files repair
// set aside, after asking on a terminal.

import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QUARANTINE_DIR } from '../../cache/layout.js';
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
  usage: '<category> [key] | --all | --quarantine',
  description: 'Removes one entry, every entry of a category, or with --all every entry of every category. On a '
    + 'terminal it asks first; scripts pass --yes. Without a terminal and without --yes it refuses (exit 2), so a '
    + 'script never clears a cache by accident. Exit 1 when the key is not there. --quarantine deletes the damaged '
    + 'files that validate --repair moved to <root>/.quarantine/ (the only way they are ever deleted).',
  positionals: { min: 0, max: 2 },
  options: {
    all: { type: 'boolean', description: 'clear every category' },
    quarantine: { type: 'boolean', description: 'delete the damaged files validate --repair set aside' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (for scripts)' },
  },
  examples: [
    ['dase-cache clear stencils laplacian_2d_64_64_dirichlet', 'remove one entry (asks first)'],
    ['dase-cache clear fractional_kernels --yes', 'empty a category, from a script'],
    ['dase-cache clear --all --yes --json', 'empty the cache and print what was removed'],
    ['dase-cache clear --quarantine --yes', 'delete the damaged files repair set aside'],
  ],
  json: '{ "root": string, "removed": { "<category>": number }, "total": number, "key": string|null }; with --quarantine '
    + '{ "root": string, "quarantine": string[], "total": number }',
  async run({ root, json, values, positionals, print, printJson, openCache }) {
    const [category, key] = positionals;
    if (values.quarantine) {
      if (values.all || category !== undefined) throw usageError('clear --quarantine: takes no category and no --all; run "dase-cache clear --help" for its usage');
      const dir = join(resolve(root), QUARANTINE_DIR);
      const files = quarantined(dir);
      const bytes = files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      if (!values.yes && !process.stdin.isTTY) {
        throw usageError('clear --quarantine: refused, it needs confirmation and stdin is not a terminal; pass --yes to delete without asking');
      }
      const question = `Delete ${plural(files.length, 'quarantined file')} (${formatBytes(bytes)}) in ${dir}? They cannot be recovered.`;
      const go = files.length > 0 && (values.yes || (await confirm(question)));
      if (go) rmSync(dir, { recursive: true, force: true });
      if (json) printJson({ root, quarantine: go ? files : [], total: go ? files.length : 0 });
      else print(go ? `deleted ${plural(files.length, 'quarantined file')} (${formatBytes(bytes)})` : 'nothing deleted');
      return 0;
    }
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

/** The files under the quarantine folder, relative to it ([] when there is none). */
function quarantined(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile()).sort();
  } catch {
    return [];
  }
}
