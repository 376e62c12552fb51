// A fresh process for the memoization benchmark: opens the cache at argv[2] with policy argv[3], then
// calls every case once and prints, as one JSON line, where each result came from and how long it took.
// Policy 'compute' calls the kernels directly instead: what the first call costs in a new process, where
// neither the JIT nor the WASM tiers have warmed up, without any cache.
import { CacheManager, cachedKernels, kernelInfo, type MemoPolicy } from '../src/node.js';
import { memoCases } from './memo-cases.js';

const [root, policy] = process.argv.slice(2);
const cache = new CacheManager({ root });
await cache.listKeys('stencils'); // open the cache and instantiate the kernels before timing:
kernelInfo(); // the calls are what is measured, not the process start
const kernels = cachedKernels(cache, { policy: policy === 'compute' ? 'never' : policy as MemoPolicy });
const out: Record<string, { source: string; ms: number }> = {};
for (const c of memoCases()) {
  if (policy === 'compute') {
    const started = performance.now();
    c.compute();
    out[c.name] = { source: 'computed', ms: performance.now() - started };
    continue;
  }
  const call = await c.call(kernels);
  out[c.name] = { source: call.source, ms: call.ms };
}
await cache.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
