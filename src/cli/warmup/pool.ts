// Shares warmup items out: in this thread, or over worker threads when the work is big enough to pay
// for starting them (a thread, the library's import and the WASM compile: 100-160 ms). Measured on
// 2 cores, whole `dase-cache warmup` runs on an otherwise idle machine, the speed-up of two workers
// over one thread (median of 5-7 interleaved pairs): 20 GL kernels (0.9 MiB) 0.62x (slower); the
// default set (90 MiB) 1.00x; six 64³ Laplacians (190 MiB) 1.12x; nine 512², 1024² and 96³ Laplacians
// (0.5 GiB) 1.73x. With other processes busy on the cores, two workers were slower on all (0.6-0.9x).

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CacheManager } from '../../node.js';
import type { WarmupItem } from './items.js';
import { itemRunner, type ItemResult } from './runner.js';

/** Below this many bytes still to compute, workers save no more than they cost to start. */
export const PARALLEL_MIN_BYTES = 128 * 2 ** 20;
const MAX_WORKERS = 4;

/**
 * How many threads to make the items on: `jobs` when given; otherwise one (this thread) unless the items
 * still to compute add up to PARALLEL_MIN_BYTES, then one worker per core (at most 4).
 */
export function chooseJobs(jobs: number | undefined, items: WarmupItem[], stored: boolean[]): number {
  const pending = items.filter((_, i) => !stored[i]);
  const count = jobs ?? (pending.reduce((n, item) => n + item.estimatedBytes, 0) >= PARALLEL_MIN_BYTES ? Math.min(availableParallelism(), MAX_WORKERS) : 1);
  return Math.max(1, Math.min(count, items.length));
}

/**
 * Makes every item, biggest first (so that the threads finish together), calling `onResult` as each is done.
 * @param jobs - 1: in this thread, on `cache`; more: that many worker threads, each with its own manager on `root`.
 */
export async function runItems(
  cache: CacheManager, root: string, items: WarmupItem[], jobs: number, onResult: (result: ItemResult) => void,
): Promise<ItemResult[]> {
  const order = items.map((_, i) => i).sort((a, b) => items[b].estimatedBytes - items[a].estimatedBytes || a - b);
  const results: ItemResult[] = new Array(items.length);
  const done = (result: ItemResult) => { results[result.index] = result; onResult(result); };
  if (jobs <= 1) {
    const run = itemRunner(cache);
    for (const index of order) done(await run(items[index], index));
    return results;
  }
  let next = 0;
  const workerUrl = new URL('./worker.js', import.meta.url);
  const workers: Worker[] = [];
  try {
    await Promise.all(Array.from({ length: jobs }, () => new Promise<void>((resolve, reject) => {
      const worker = new Worker(workerUrl, { workerData: { root, items } });
      workers.push(worker);
      const feed = () => worker.postMessage(next < order.length ? { index: order[next++] } : 'close');
      worker.on('message', (result: ItemResult) => { done(result); feed(); });
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a warmup worker thread exited with code ${code}`))));
      feed();
    })));
  } catch (error) {
    await Promise.all(workers.map((w) => w.terminate())); // the others would keep the process alive
    throw error;
  }
  return results;
}
