// A cache root that keeps within its budget by itself: when a save takes it over, the entries that save the
// least compute time per byte (GDSF; or LRU, LFU) go until it fits again. Eviction runs under one lock for the
// whole root and looks at every category afresh under it, so two processes never both evict for one overflow;
// each removal is an ordinary delete, so a reader elsewhere loads an entry whole and verified, or misses it.

import type { IndexEntry } from '../cache/category-index.js';
import type { Files } from '../cache/files.js';
import { BUDGET_FILE, clockAt, parseBudgetFile, serializeBudgetState, type BudgetState } from './budget-file.js';
import type { ResolvedBudget } from './budget-options.js';
import { EvictionQueue, type EvictionCandidate, type QueuedEntry } from './eviction-policy.js';

const LOCK = '.evict-lock';
const LOCK_TIMEOUT_MS = 30_000;

/** What the cache lets its budget see and do. */
export interface BudgetedCache {
  readonly categoryNames: readonly string[];
  /** Brings a category's view up to date with what other processes did. */
  refresh(category: string): Promise<void>;
  entries(category: string): readonly IndexEntry[];
  /** Bytes a category's entries take (tracked as they come and go, not counted). */
  bytes(category: string): number;
  /** Removes the entry if it is still this one (a save meanwhile is newer and stays): false if not. */
  evict(category: string, entry: IndexEntry): Promise<boolean>;
  /** Ms to get back an entry that records no compute time: its predicted load. */
  fallbackCost(bytes: number): number;
}

/** The budget as `getStats().budget` reports it. */
export interface BudgetStats {
  /** The whole root's budget, or null when only categories have one. */
  maxBytes: number | null;
  /** The categories' own budgets, in bytes, by category name. */
  budgets: Record<string, number>;
  /** The eviction policy: `'gdsf'` (the default), `'lru'` or `'lfu'`. */
  policy: string;
  /** Bytes the root's entries take now. */
  totalBytes: number;
  /** Bytes per category. */
  categories: Record<string, number>;
  /** The pinned entries, as `<category>/<key>`, sorted. */
  pinned: string[];
  /** What eviction removed so far on this root, by every process. */
  evicted: number;
  /** The bytes those evicted entries took. */
  evictedBytes: number;
  /** The compute time the evicted entries had recorded. */
  evictedComputeMs: number;
  /** The compute time the entries still held recorded: what the budget keeps. */
  keptComputeMs: number;
  /** Evictions this process could not make (a failed delete): the next save tries again. */
  errors: number;
}

const idOf = (category: string, key: string) => `${category}/${key}`;
const computeOf = (entry: IndexEntry) => (typeof entry.metadata?.compute_ms === 'number' && entry.metadata.compute_ms >= 0 ? entry.metadata.compute_ms : undefined);

function timeOf(iso: string | null | undefined, fallback: number): number {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(ms) ? ms : fallback;
}

export class RootBudget {
  private errors = 0;

  /** @param budget - undefined: the root has none (pins are kept all the same, for `gc` and a later budget). */
  constructor(private readonly files: Files, private budgetValue: ResolvedBudget | undefined, private readonly cache: BudgetedCache) {}

  /** The root's budget, or undefined when it has none. */
  get budget(): ResolvedBudget | undefined {
    return this.budgetValue;
  }

  /** A budget for a root that was given none (browsers: a share of the origin's quota). */
  adoptDefault(maxBytes: number): void {
    this.budgetValue ??= { maxBytes, budgets: new Map(), policy: 'gdsf' };
  }

  /** Whether this process's view of the root is over a budget (cheap: the totals are tracked). */
  over(): boolean {
    if (!this.budget) return false;
    const { maxBytes, budgets } = this.budget;
    for (const [category, limit] of budgets) if (this.cache.bytes(category) > limit) return true;
    return maxBytes !== undefined && this.total() > maxBytes;
  }

  private total(): number {
    return this.cache.categoryNames.reduce((n, c) => n + this.cache.bytes(c), 0);
  }

  /**
   * After a save of `category/key`: evicts until every budget holds again, sparing that entry (so the root
   * holds at most the budget plus the entry just saved). Failures are counted, not thrown: the save stands.
   * @returns the entries evicted.
   */
  async afterSave(category: string, key: string): Promise<QueuedEntry[]> {
    if (!this.budget) return [];
    await this.cache.refresh(category).catch(() => undefined); // the view takes the save in
    if (!this.over()) return [];
    const budget = this.budget;
    try {
      return await this.locked(async (state) => this.evict(state, budget, { spared: idOf(category, key) }));
    } catch {
      this.errors++;
      return [];
    }
  }

  /**
   * Evicts until the root (or one category) fits in `maxBytes` now, by the same policy and pins as the budget
   * (`dase-cache gc`). With `dryRun`, only says what it would evict.
   * @returns the entries evicted (or that would be), in order.
   */
  async fit(maxBytes: number, options: { category?: string; policy?: ResolvedBudget['policy']; dryRun?: boolean } = {}): Promise<QueuedEntry[]> {
    const policy = options.policy ?? this.budget?.policy ?? 'gdsf';
    const limits: ResolvedBudget = options.category === undefined
      ? { maxBytes, budgets: new Map(), policy }
      : { maxBytes: undefined, budgets: new Map([[options.category, maxBytes]]), policy };
    return this.locked(async (state) => this.evict(state, limits, { dryRun: options.dryRun }), { write: options.dryRun !== true });
  }

  private async evict(state: BudgetState, limits: ResolvedBudget, { spared, dryRun = false }: { spared?: string; dryRun?: boolean }): Promise<QueuedEntry[]> {
    for (const category of this.cache.categoryNames) await this.cache.refresh(category);
    const { maxBytes, budgets, policy } = limits;
    const over = [...budgets].some(([category, limit]) => this.cache.bytes(category) > limit) || (maxBytes !== undefined && this.total() > maxBytes);
    if (!over) return [];
    const now = Date.now();
    const byId = new Map<string, IndexEntry>();
    const candidate = (category: string, entry: IndexEntry): EvictionCandidate => {
      const lastAccessedMs = timeOf(entry.last_accessed, timeOf(entry.created_at, now));
      const id = idOf(category, entry.key);
      byId.set(id, entry);
      return {
        category, key: entry.key, sizeBytes: entry.size_bytes, accessCount: entry.access_count, lastAccessedMs,
        createdMs: timeOf(entry.created_at, lastAccessedMs), computeMs: computeOf(entry), pinned: state.pins.has(id) || id === spared,
        clockAtAccess: clockAt(state, lastAccessedMs),
      };
    };
    const queueOf = (categories: readonly string[]) => {
      const queue = new EvictionQueue({ policy, clock: state.clock, fallbackCost: (bytes) => this.cache.fallbackCost(bytes) });
      for (const category of categories) for (const entry of this.cache.entries(category)) queue.insert(candidate(category, entry));
      return queue;
    };
    const victims: QueuedEntry[] = [];
    let clock = state.clock;
    // Each category over its own budget first, then the root.
    for (const [category, limit] of budgets) {
      if (this.cache.bytes(category) <= limit) continue;
      const queue = queueOf([category]);
      victims.push(...queue.fitWithin(limit).victims);
      clock = Math.max(clock, queue.clock);
    }
    if (maxBytes !== undefined) {
      const queue = queueOf(this.cache.categoryNames);
      for (const v of victims) queue.remove(v.category, v.key);
      victims.push(...queue.fitWithin(maxBytes).victims);
      clock = Math.max(clock, queue.clock);
    }
    if (dryRun) return victims;
    const evicted: QueuedEntry[] = [];
    for (const victim of victims) {
      const entry = byId.get(idOf(victim.category, victim.key))!;
      try {
        if (!(await this.cache.evict(victim.category, entry))) continue;
      } catch {
        this.errors++;
        continue;
      }
      evicted.push(victim);
      state.evicted++;
      state.evictedBytes += victim.sizeBytes;
      state.evictedComputeMs += victim.computeMs ?? 0;
    }
    if (clock > state.clock) {
      state.clock = clock;
      state.history.push([now, clock]);
    }
    return evicted;
  }

  /** Keeps an entry out of eviction (by key: a later save under it stays pinned) until `unpin`. */
  async pin(category: string, key: string, pinned: boolean): Promise<boolean> {
    return this.locked(async (state) => {
      const id = idOf(category, key);
      const had = state.pins.has(id);
      if (pinned) state.pins.add(id);
      else state.pins.delete(id);
      return had !== pinned;
    });
  }

  async stats(): Promise<BudgetStats> {
    const state = parseBudgetFile(await this.files.read(BUDGET_FILE).catch(() => undefined));
    const categories: Record<string, number> = {};
    let keptComputeMs = 0;
    for (const category of this.cache.categoryNames) {
      categories[category] = this.cache.bytes(category);
      for (const entry of this.cache.entries(category)) keptComputeMs += computeOf(entry) ?? 0;
    }
    return {
      maxBytes: this.budget?.maxBytes ?? null, budgets: Object.fromEntries(this.budget?.budgets ?? []), policy: this.budget?.policy ?? 'gdsf',
      totalBytes: this.total(), categories, pinned: [...state.pins].sort(), evicted: state.evicted, evictedBytes: state.evictedBytes,
      evictedComputeMs: Math.round(state.evictedComputeMs * 1000) / 1000, keptComputeMs: Math.round(keptComputeMs * 1000) / 1000, errors: this.errors,
    };
  }

  /** Runs `body` holding the root's eviction lock, with the budget's file read before and written after. */
  private async locked<T>(body: (state: BudgetState) => Promise<T>, { write = true } = {}): Promise<T> {
    const release = await this.files.lock(LOCK, { timeoutMs: LOCK_TIMEOUT_MS, transient: true });
    try {
      const state = parseBudgetFile(await this.files.read(BUDGET_FILE));
      const result = await body(state);
      if (write) await this.files.writeAtomic(BUDGET_FILE, serializeBudgetState(state));
      return result;
    } finally {
      await release();
    }
  }
}
