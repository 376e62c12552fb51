// Finishes, in a process of its own, what a process that called process.exit() left to do on a cache root:
// the saves its background work had not made yet, then every journal folded into its index.json. Started
// by the 'exit' listener of node-cache.ts, where nothing asynchronous can run any more.
// Input on stdin, v8-serialized: { root, categories, saves }.

import { readFileSync } from 'node:fs';
import { deserialize } from 'node:v8';
import type { CategorySpec } from '../cache/categories.js';
import type { PendingSave } from '../cache/background-work.js';
import { CacheManager } from './node-cache.js';

export interface ExitJob {
  root: string;
  categories: Record<string, CategorySpec>;
  saves: PendingSave[];
}

const job = deserialize(readFileSync(0)) as ExitJob;
const cache = new CacheManager({ root: job.root, categories: job.categories });
try {
  for (const { category, key, value, metadata } of job.saves) await cache.save(category, key, value, metadata ? { metadata } : {});
  await cache.checkpoint();
} finally {
  await cache.close();
}
