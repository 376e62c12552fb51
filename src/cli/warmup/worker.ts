// A worker thread of warmup: its own CacheManager on the same root (the cache is safe to share between
// threads and processes), making the items the pool posts one at a time.

import { parentPort, workerData } from 'node:worker_threads';
import { CacheManager } from '../../node.js';
import { itemRunner } from './runner.js';
import type { WarmupItem } from './items.js';

const { root, items } = workerData as { root: string; items: WarmupItem[] };
const cache = new CacheManager({ root });
const run = itemRunner(cache);

parentPort!.on('message', async (message: { index: number } | 'close') => {
  if (message === 'close') {
    await cache.close();
    parentPort!.close();
    return;
  }
  parentPort!.postMessage(await run(items[message.index], message.index));
});
