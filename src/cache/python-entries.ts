// Entries the Python cache wrote: key, created_at, size_bytes, access_count, last_accessed (null until the
// first load) and checksum (null where checksums were turned off), without file, value or metadata. Their
// file is found by its name (`<key>.<ext>`), their value is described from the file itself when it is read
// (an empty `value`), and a `.dat` file's metadata is in its `<key>.meta.json` companion.

import type { IndexEntry } from './category-index.js';
import type { Files } from './files.js';
import { isPlainObject } from './formats/json.js';

// The files the Python cache writes, in the order a key's file is looked for.
const PYTHON_EXTENSIONS = ['npz', 'json', 'dat', 'pt', 'safetensors'];

/** The metadata companion the Python cache writes beside a `.dat` file. */
export function companionName(file: string): string | undefined {
  return file.endsWith('.dat') ? `${file.slice(0, -'.dat'.length)}.meta.json` : undefined;
}

/** Whether an entry was written without a description of its value (by the Python cache). */
export function isUndescribed(entry: Pick<IndexEntry, 'value'>): boolean {
  return typeof entry.value?.kind !== 'string';
}

/** Completes, in place, the entries that have no `file` (the Python cache's), from the folder and companions. */
export async function completePythonEntries(files: Files, category: string, entries: Iterable<IndexEntry>): Promise<void> {
  const missing = [...entries].filter((e) => typeof e.file !== 'string');
  if (missing.length === 0) return;
  const names = new Set(await files.list(category));
  const decoder = new TextDecoder();
  for (const entry of missing) {
    const ext = PYTHON_EXTENSIONS.find((x) => names.has(`${entry.key}.${x}`)) ?? 'npz';
    entry.file = `${entry.key}.${ext}`;
    if (!isPlainObject(entry.value)) entry.value = {};
    const companion = companionName(entry.file);
    if (companion === undefined || !names.has(companion) || entry.metadata !== undefined) continue;
    try {
      const metadata: unknown = JSON.parse(decoder.decode(await files.read(`${category}/${companion}`)));
      if (isPlainObject(metadata)) entry.metadata = metadata;
    } catch {
      // An unreadable companion: the entry has no metadata, and its data is unaffected.
    }
  }
}
