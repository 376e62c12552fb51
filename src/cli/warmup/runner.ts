// Makes warmup items on one cache: the same code in the command's own thread and in worker threads.

import type { CacheManager, CachedKernels } from '../../node.js';
import { runCall, warmupKernels, type WarmupItem } from './items.js';

/** What became of one item: computed and stored, found already stored (and verified), or failed. */
export interface ItemResult {
  index: number;
  category: string;
  key: string;
  source: 'computed' | 'cached' | 'failed';
  /** Bytes of the stored entry; null when it failed. */
  size_bytes: number | null;
  ms: number;
  error: string | null;
}

/** A function that makes items on `cache`, one at a time. */
export function itemRunner(cache: CacheManager): (item: WarmupItem, index: number) => Promise<ItemResult> {
  const kernels: CachedKernels = warmupKernels(cache);
  return async (item, index) => {
    const started = performance.now();
    const base = { index, category: item.category, key: item.key };
    try {
      const call = await runCall(kernels, item);
      const size = await cache.getSize(item.category, call.key);
      return { ...base, source: call.source === 'computed' ? 'computed' : 'cached', size_bytes: size, ms: performance.now() - started, error: null };
    } catch (error) {
      return { ...base, source: 'failed', size_bytes: null, ms: performance.now() - started, error: (error as Error).message ?? String(error) };
    }
  };
}
