// Cache categories: the eight the Python cache had, and what kind of value each holds.

import { describe } from '../_args.js';

/**
 * What a category holds: 'arrays' (typed and N-D arrays, records of them, CSR matrices -> .npz; plain
 * JSON -> .json), 'bytes' (-> .dat), 'tensors' (tensor records and checkpoints -> .safetensors; plain
 * JSON -> .json).
 */
export type CategoryKind = 'arrays' | 'bytes' | 'tensors';

/** A category: what kind of value it holds. */
export interface CategorySpec {
  /** What kind of value it holds, and so which file format. */
  kind: CategoryKind;
  /** One line for `ls` and `stats`. */
  description?: string;
}

/** The eight categories every cache has (the Python cache's), by name; `options.categories` adds to them. */
export const DEFAULT_CATEGORIES: Readonly<Record<string, CategorySpec>> = Object.freeze({
  fractional_kernels: { kind: 'arrays', description: 'Grünwald–Letnikov and other fractional-derivative kernels' },
  stencils: { kind: 'arrays', description: 'finite-difference stencils and Laplacian matrices' },
  fftw_wisdom: { kind: 'bytes', description: 'FFT planner wisdom' },
  echo_templates: { kind: 'arrays', description: 'echo templates' },
  state_profiles: { kind: 'arrays', description: 'state profiles' },
  source_maps: { kind: 'arrays', description: 'source maps' },
  mission_graph: { kind: 'arrays', description: 'mission graphs' },
  surrogates: { kind: 'tensors', description: 'surrogate model tensors and checkpoints' },
});

export const CATEGORY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const KINDS: readonly CategoryKind[] = ['arrays', 'bytes', 'tensors'];

/** The default categories plus the caller's, checked. */
export function resolveCategories(extra: unknown): Record<string, CategorySpec> {
  const all: Record<string, CategorySpec> = { ...DEFAULT_CATEGORIES };
  if (extra === undefined) return all;
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
    throw new TypeError(`CacheManager: expected options.categories to be an object of { kind }, got ${describe(extra)}`);
  }
  for (const [name, spec] of Object.entries(extra)) {
    if (!CATEGORY_NAME.test(name)) {
      throw new RangeError(`CacheManager: expected category names to match ${CATEGORY_NAME}, got ${JSON.stringify(name)}`);
    }
    const kind = (spec as Partial<CategorySpec> | null)?.kind;
    if (!KINDS.includes(kind as CategoryKind)) {
      throw new RangeError(`CacheManager: expected categories.${name}.kind to be one of ${KINDS.join(', ')}, got ${describe(kind)}`);
    }
    all[name] = { kind: kind as CategoryKind, description: (spec as CategorySpec).description };
  }
  return all;
}
