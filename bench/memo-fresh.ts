// A fresh process for the memoization benchmark: opens the cache at argv[2] with policy argv[3], then
// calls every case once and prints, as one JSON line, where each result came from and how long it took.
// Policy 'compute' calls the kernels directly instead: what the first call costs in a new process, where
// neither the JIT nor the WASM tiers have warmed up, without any cache. Before the cases, the memoizing
// policies make one memoized call outside them (a load from the second run on), so that memoization's own
// code is compiled, as in any program past its first memoized call. Policy 'floor' goes through the
// least any memoizer does: an async call that keys the arguments (with the same keys) and looks them up in
// a Map before computing. Every case's data is cold; bench/memo.bench.ts reports the first call apart.
import { CacheManager, cachedKernels, kernelInfo, memoize, type MemoPolicy } from '../src/node.js';
import { FIRST_CALL, memoCases } from './memo-cases.js';

const [root, policy] = process.argv.slice(2);
const cache = new CacheManager({ root });
await cache.listKeys('stencils'); // open the cache and instantiate the kernels before timing:
kernelInfo(); // the calls are what is measured, not the process start
const kernels = cachedKernels(cache, { policy: policy === 'compute' || policy === 'floor' ? 'never' : policy as MemoPolicy });
const out: Record<string, { source: string; ms: number; reason?: string }> = {};
if (policy !== 'compute' && policy !== 'floor') {
  const started = performance.now();
  // Stored by the first run, loaded by the later ones: memoization's and the load's code both compiled.
  const warmUp = memoize((x: number) => Float64Array.of(x), { cache, category: 'surrogates', name: 'warmUp', policy: 'always' });
  await warmUp.withInfo(1);
  out[FIRST_CALL] = { source: 'computed', ms: performance.now() - started };
}
const bare = new Map<string, unknown>();
for (const c of memoCases()) {
  if (policy === 'floor') {
    const started = performance.now();
    await (async () => {
      const key = c.key(kernels);
      if (!bare.has(key)) bare.set(key, c.compute());
      return bare.get(key);
    })();
    out[c.name] = { source: 'computed', ms: performance.now() - started };
    continue;
  }
  if (policy === 'compute') {
    const started = performance.now();
    c.compute();
    out[c.name] = { source: 'computed', ms: performance.now() - started };
    continue;
  }
  const call = await c.call(kernels);
  out[c.name] = { source: call.source, ms: call.ms, reason: call.reason };
}
await cache.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
