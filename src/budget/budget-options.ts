// The budget a cache root keeps by itself: its options, checked and resolved once.

import { describe } from '../_args.js';
import { parseByteSize } from './byte-size.js';
import { EVICTION_POLICIES, type EvictionPolicyName } from './eviction-policy.js';

export interface BudgetOptions {
  /** The whole root's budget: bytes, or a size as the CLI's --max-size takes it ('2G', '500M'). */
  maxBytes?: number | string;
  /** Budgets of single categories, in the same units. */
  budgets?: Record<string, number | string>;
  /** Which entries go first: 'gdsf' (default: least compute time saved per byte), 'lru' or 'lfu'. */
  eviction?: EvictionPolicyName;
}

export interface ResolvedBudget {
  /** Undefined: no budget for the whole root (per-category budgets may still apply). */
  maxBytes: number | undefined;
  budgets: ReadonlyMap<string, number>;
  policy: EvictionPolicyName;
}

/**
 * The budget of a root, or undefined when it has none (no maxBytes, no category budget).
 * @throws {RangeError|TypeError} for a bad size, an unknown category or policy.
 */
export function resolveBudget(options: BudgetOptions, categories: readonly string[]): ResolvedBudget | undefined {
  const { maxBytes, budgets, eviction } = options;
  if (eviction !== undefined && !(EVICTION_POLICIES as readonly unknown[]).includes(eviction)) {
    throw new RangeError(`CacheManager: expected options.eviction to be ${EVICTION_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${describe(eviction)}`);
  }
  if (budgets !== undefined && (typeof budgets !== 'object' || budgets === null || Array.isArray(budgets))) {
    throw new TypeError(`CacheManager: expected options.budgets to be a record of category: size, got ${describe(budgets)}`);
  }
  const perCategory = new Map<string, number>();
  for (const [category, size] of Object.entries(budgets ?? {})) {
    if (!categories.includes(category)) {
      throw new RangeError(`CacheManager: options.budgets names an unknown category ${describe(category)} (known: ${categories.join(', ')})`);
    }
    perCategory.set(category, parseByteSize(size, `CacheManager: options.budgets.${category}`));
  }
  const root = maxBytes === undefined ? undefined : parseByteSize(maxBytes, 'CacheManager: options.maxBytes');
  if (root === undefined && perCategory.size === 0) return undefined;
  return { maxBytes: root, budgets: perCategory, policy: eviction ?? 'gdsf' };
}
