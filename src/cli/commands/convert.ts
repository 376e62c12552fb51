// dase-cache convert <category> [key] --to safetensors|npz | --all: rewrites entries another program wrote
// (the Python cache's .pt, .npz and .json files, which carry no description) in this cache's own formats.

import type { IndexEntry } from '../../cache/category-index.js';
import { KEY_PATTERN } from '../../cache/keys.js';
import { isUndescribed } from '../../cache/python-entries.js';
import { classifyValue } from '../../cache/values.js';
import type { CacheManager } from '../../node.js';
import type { Command } from '../command.js';
import { checkCategory, checkKeyArg } from '../context.js';
import { problemError, usageError } from '../errors.js';
import { plural } from '../format.js';

const TARGETS = ['safetensors', 'npz'] as const;
// The file each form of value becomes (see values.ts).
const EXTENSION: Record<ReturnType<typeof classifyValue>, string> = {
  bytes: 'dat', buffer: 'dat', tensor: 'safetensors', tensors: 'safetensors', checkpoint: 'safetensors', json: 'json',
  array: 'npz', ndarray: 'npz', csr: 'npz', record: 'npz',
};
type Target = (typeof TARGETS)[number];

interface Outcome { category: string; key: string; from: string; to?: string; skipped?: string }

/** Re-saves one entry (history kept: a save over a key keeps its access count and creation time). */
async function convertEntry(cache: CacheManager, category: string, entry: IndexEntry, target: Target | undefined): Promise<Outcome> {
  const outcome: Outcome = { category, key: entry.key, from: entry.file };
  if (!KEY_PATTERN.test(entry.key)) return { ...outcome, skipped: `its key is not one new saves accept (${KEY_PATTERN})` };
  const { value } = await cache.loadEntry(category, entry.key, { where: 'convert', touch: false });
  const ext = EXTENSION[classifyValue('convert', cache.categories[category], value)];
  if (target !== undefined && ext !== target) return { ...outcome, skipped: `its value is stored as .${ext} in this category, not .${target}` };
  const metadata = entry.metadata;
  const path = await cache.save(category, entry.key, value, metadata ? { metadata } : {});
  return { ...outcome, to: path.slice(path.lastIndexOf('/') + 1) };
}

/** `convert <category> <key> --to <format>`, `convert [category] --all`. */
export const convert: Command = {
  name: 'convert',
  summary: 'rewrite entries the Python cache wrote (.pt, .npz, .json) in this cache\'s own formats',
  usage: '<category> <key> --to safetensors|npz | [category] --all',
  description: 'Loads an entry written by another program (the Python cache: no description in its index entry) and '
    + 'saves it again under the same key in this cache\'s format: a torch.save state dict (.pt) becomes .safetensors, '
    + 'an .npz gets its description, so that a lost index.json is rebuilt exactly. Its access count, creation time and '
    + 'metadata are kept; the old file is removed once the new one is in place. --all converts every such entry (of '
    + 'one category, or of all); entries under keys new saves do not accept are reported and left as they are.',
  positionals: { min: 0, max: 2 },
  options: {
    to: { type: 'string', value: 'format', description: 'the format the entry must end up in: safetensors or npz' },
    all: { type: 'boolean', description: 'convert every entry another program wrote' },
  },
  examples: [
    ['dase-cache convert surrogates model_v1 --to safetensors', 'a .pt state dict as .safetensors'],
    ['dase-cache convert --all', 'move a whole Python cache over, once'],
  ],
  json: '{ "converted": [{ "category", "key", "from", "to" }], "skipped": [{ "category", "key", "from", "skipped" }] }',
  async run({ json, values, positionals, print, printJson, openCache }) {
    const [category, key] = positionals;
    const to = values.to as string | undefined;
    if (to !== undefined && !(TARGETS as readonly string[]).includes(to)) throw usageError(`convert: expected --to safetensors or --to npz, got ${JSON.stringify(to)}`);
    if (values.all && key !== undefined) throw usageError('convert: give a key or --all, not both; run "dase-cache convert --help" for its usage');
    if (!values.all && (category === undefined || key === undefined || to === undefined)) {
      throw usageError('convert: expected <category> <key> --to safetensors|npz, or --all; run "dase-cache convert --help" for its usage');
    }
    const cache = await openCache();
    const categories = category === undefined ? Object.keys(cache.categories) : [checkCategory(cache, category)];
    const outcomes: Outcome[] = [];
    for (const name of categories) {
      if (key !== undefined) {
        const entry = await cache.entry('convert', name, checkKeyArg(key));
        outcomes.push(await convertEntry(cache, name, entry, to as Target));
        continue;
      }
      for (const entry of Object.values((await cache.getStats(name)).entries)) {
        if (isUndescribed(entry)) outcomes.push(await convertEntry(cache, name, entry, to as Target | undefined));
      }
    }
    await cache.close();
    const converted = outcomes.filter((o) => o.skipped === undefined);
    const skipped = outcomes.filter((o) => o.skipped !== undefined);
    if (json) printJson({ converted, skipped });
    else {
      for (const o of converted) print(`${o.category}/${o.key}: ${o.from} -> ${o.to}`);
      for (const o of skipped) print(`${o.category}/${o.key}: left as ${o.from}: ${o.skipped}`);
      print(`converted ${plural(converted.length, 'entry', 'entries')}${skipped.length ? `, left ${skipped.length}` : ''}`);
    }
    if (key !== undefined && skipped.length > 0) throw problemError(`convert: ${skipped[0].category}/${skipped[0].key} was not converted: ${skipped[0].skipped}`);
    return 0;
  },
};
