// dase-cache info <category> <key>: the index entry, its metadata and a preview of the stored value.

import { CacheMissError, IntegrityError, type IndexEntry } from '../../node.js';
import type { Command } from '../command.js';
import { checkCategory, checkKeyArg } from '../context.js';
import { problemError } from '../errors.js';
import { formatAge, formatBytes, formatDtype, formatShape, formatValue } from '../format.js';
import { preview } from '../preview.js';

function pairs(rows: [string, string][], indent = '  '): string[] {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${indent}${name.padEnd(width)}  ${value}`);
}

const list = (values: unknown) => (Array.isArray(values) ? values.map(formatValue).join(', ') : '');

function previewLines(p: Record<string, unknown>): [string, string][] {
  const rows: [string, string][] = [['kind', String(p.kind)]];
  if (p.kind === 'bytes') return [...rows, ['size', `${p.size} bytes`], ['first bytes', String(p.first_bytes)]];
  if (p.dtype !== undefined) {
    rows.push(['dtype', formatDtype(p.dtype)], ['shape', formatShape(p.shape)]);
    if (p.nnz !== undefined) rows.push(['nnz', String(p.nnz)]);
    rows.push(['first', list(p.first)]);
    if ((p.last as unknown[]).length > 0) rows.push(['last', list(p.last)]);
    return rows;
  }
  if (p.members) {
    for (const [name, m] of Object.entries(p.members as Record<string, { dtype: string; shape: number[]; first: unknown[] } | null>)) {
      rows.push([name, m ? `${formatDtype(m.dtype)} ${formatShape(m.shape)}: ${list(m.first)}${m.first.length < m.shape.reduce((a, b) => a * b, 1) ? ', …' : ''}` : '?']);
    }
    return rows;
  }
  if (p.tensors) {
    rows.push(['keys', list(p.keys)]);
    for (const [name, t] of Object.entries(p.tensors as Record<string, { dtype: string; shape: number[] }>)) rows.push([name, `${formatDtype(t.dtype)} ${formatShape(t.shape)}`]);
    return rows;
  }
  if (p.keys) rows.push(['keys', list(p.keys)]);
  if (p.length !== undefined) rows.push(['length', String(p.length)]);
  rows.push(['text', String(p.text)]);
  return rows;
}

function entryLines(category: string, entry: IndexEntry): string[] {
  const value = Object.entries(entry.value).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
  return [
    `${category}/${entry.key}`,
    ...pairs([
      ['file', entry.file],
      ['size', `${formatBytes(entry.size_bytes)} (${entry.size_bytes} bytes)`],
      ['created', entry.created_at],
      ['last access', entry.last_accessed === null ? 'never' : `${entry.last_accessed} (${formatAge(entry.last_accessed)})`],
      ['accesses', String(entry.access_count)],
      ['checksum', entry.checksum ?? 'none (written with checksums turned off: loads are not verified)'],
      ['value', value],
    ]),
  ];
}

/** `info <category> <key>`. */
export const info: Command = {
  name: 'info',
  summary: 'show an entry: its index record, its metadata and a preview of the value',
  usage: '<category> <key>',
  description: 'Shows the index entry of a key (file, size, times, accesses, checksum, value description), the metadata '
    + 'it was saved with, and a preview of the value: dtype, shape and first and last values for arrays and CSR '
    + 'matrices, members for records, keys for JSON and tensor files, size and first bytes for bytes. The preview '
    + 'loads the value, verified against its checksum, which counts as an access. Exit 1 when the key is not '
    + 'there or its file is damaged.',
  positionals: { min: 2, max: 2 },
  options: {},
  examples: [
    ['dase-cache info stencils laplacian_2d_64_64_dirichlet', 'the entry, its metadata and a preview of the matrix'],
    ['dase-cache info fractional_kernels kernel_0.5_0.01_1000 --json | jq .metadata.compute_ms', 'what it cost to compute'],
  ],
  json: '{ "category", "key", "entry": <the index.json entry>, "metadata": object|null, "preview": { "kind", ... }|null, '
    + '"error": string|null }  (preview: dtype, shape, length, first, last for arrays; nnz too for CSR; keys and members '
    + 'for records; size and first_bytes (hex) for bytes; type, keys or length, text for JSON)',
  async run({ json, positionals, print, printJson, openCache }) {
    const cache = await openCache();
    const [category, key] = positionals;
    checkCategory(cache, category);
    checkKeyArg(key);
    let entry: IndexEntry;
    try {
      entry = await cache.entry('info', category, key);
    } catch (error) {
      if (error instanceof CacheMissError) throw problemError(`no entry ${JSON.stringify(key)} in ${category}; run "dase-cache ls ${category}" to see its keys`);
      throw error;
    }
    let shown: Record<string, unknown> | null = null;
    let failure: string | null = null;
    try {
      const loaded = await cache.loadEntry(category, key, { where: 'info', touch: false });
      // An entry the Python cache wrote carries no description: its file says what it holds.
      entry = { ...loaded.entry, value: await cache.describeEntry(category, loaded.entry) ?? {} };
      shown = preview(loaded.value, String(entry.value.kind));
    } catch (error) {
      if (!(error instanceof IntegrityError || error instanceof CacheMissError)) throw error;
      failure = error instanceof IntegrityError
        ? `${error.message.replace(/ \(run validate.*$/, '')}; run "dase-cache validate --repair" to move it to the quarantine`
        : `the entry was removed while it was being read`;
    }
    if (json) {
      printJson({ category, key, entry, metadata: entry.metadata ?? null, preview: shown, error: failure });
    } else {
      for (const line of entryLines(category, entry)) print(line);
      print('metadata');
      const metadata = Object.entries(entry.metadata ?? {}).map(([k, v]): [string, string] => [k, typeof v === 'object' || v === '' ? JSON.stringify(v) : String(v)]);
      for (const line of metadata.length > 0 ? pairs(metadata) : ['  (none)']) print(line);
      if (shown) {
        print('preview');
        for (const line of pairs(previewLines(shown))) print(line);
      }
    }
    if (failure) throw problemError(failure);
    return 0;
  },
};
