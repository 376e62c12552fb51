// The entries of one category or of all, with what each stores, as ls, stats and gc show them.

import type { CacheManager, IndexEntry } from '../node.js';
import { checkCategory } from './context.js';

/** An index entry together with its category and a summary of the value it stores. */
export interface ListedEntry {
  category: string;
  key: string;
  /** array, ndarray, csr, record, json, bytes, tensor, tensors, checkpoint */
  kind: string;
  /** The stored dtype as NumPy writes it ('<f8'), for arrays and CSR matrices; else null. */
  dtype: string | null;
  shape: number[] | null;
  size_bytes: number;
  access_count: number;
  last_accessed: string;
  created_at: string;
  /** The entry's metadata.compute_ms, when the memoizer recorded it; else null. */
  compute_ms: number | null;
  file: string;
}

/** What `value` says about the stored value: its kind, and dtype and shape when it has them. */
function valueSummary(value: Record<string, unknown> | undefined): Pick<ListedEntry, 'kind' | 'dtype' | 'shape'> {
  const kind = typeof value?.kind === 'string' ? value.kind : 'unknown';
  const shape = Array.isArray(value?.shape) ? (value.shape as number[]) : null;
  // A CSR matrix's data is always float64 (the cache only takes CsrMatrix with a Float64Array).
  const dtype = typeof value?.dtype === 'string' ? value.dtype : kind === 'csr' ? '<f8' : null;
  return { kind, dtype, shape };
}

function listed(category: string, entry: IndexEntry): ListedEntry {
  const computeMs = entry.metadata?.compute_ms;
  return {
    category, key: entry.key, ...valueSummary(entry.value), size_bytes: entry.size_bytes, access_count: entry.access_count,
    // Never loaded (an entry the Python cache wrote): its age is its creation's.
    last_accessed: entry.last_accessed ?? entry.created_at, created_at: entry.created_at,
    compute_ms: typeof computeMs === 'number' && Number.isFinite(computeMs) ? computeMs : null, file: entry.file,
  };
}

/**
 * The entries of `category` (checked), or of every category, sorted by category then key.
 * @throws {CliError} (exit 2) for an unknown category.
 */
export async function listEntries(cache: CacheManager, category?: string): Promise<ListedEntry[]> {
  const categories = category === undefined ? Object.keys(cache.categories) : [checkCategory(cache, category)];
  const all: ListedEntry[] = [];
  for (const name of categories) {
    const stats = await cache.getStats(name);
    // Entries the Python cache wrote carry no description: their files say what they hold.
    for (const entry of Object.values(stats.entries)) all.push(listed(name, { ...entry, value: await cache.describeEntry(name, entry) ?? {} }));
  }
  return all;
}
