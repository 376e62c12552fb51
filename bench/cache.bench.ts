// The cache against npm's own disk cache, cacache (what a Node user would pick): put and get rates for
// small bytes and 1 MiB arrays, a large load against reading and hashing the file natively, and how the
// save rate holds up as a category grows.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error cacache ships no types
import cacache from 'cacache';
import { CacheManager } from '../src/node.js';
import { compareAsync, type ComparisonResult } from './_harness.js';

const KEYS = 256; // operations cycle over this many keys, so puts overwrite as a long-running job's would
const CACACHE = 'cacache (npm\'s disk cache)';

function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) out[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  return out;
}

export async function benchCache(): Promise<ComparisonResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'dase-cache-bench-'));
  const ours = new CacheManager({ root: join(root, 'dase') });
  const theirs = join(root, 'cacache');
  const results: ComparisonResult[] = [];
  try {
    // Every put writes new content (a counter in the first bytes), so neither side can skip the write.
    let n = 0;
    const small = randomBytes(1024, 1);
    const smallNext = () => { const b = small.slice(); new DataView(b.buffer).setUint32(0, ++n); return b; };
    const big = Float64Array.from({ length: 131072 }, (_, i) => Math.sin(i));
    const bigNext = () => { const a = big.slice(); a[0] = ++n; return a; };
    // Each side walks the same key sequence on its own counter.
    const counters = { ours: 0, theirs: 0 };
    const key = (side: keyof typeof counters) => `k${(counters[side]++) % KEYS}`;
    for (let k = 0; k < KEYS; k++) {
      await ours.save('fftw_wisdom', `k${k}`, smallNext());
      await cacache.put(theirs, `k${k}`, smallNext());
    }

    results.push(await compareAsync({
      name: 'put, 1 KiB bytes',
      subject: { name: 'dase-cache save', run: () => ours.save('fftw_wisdom', key('ours'), smallNext()) },
      baselines: [{ name: CACACHE, run: () => cacache.put(theirs, key('theirs'), smallNext()) }],
      bytesPerOp: 1024,
      targets: [{ baseline: CACACHE, atLeast: 1.5 }],
    }));
    results.push(await compareAsync({
      name: 'get, 1 KiB bytes (both verify the content hash)',
      subject: { name: 'dase-cache load', run: () => ours.load('fftw_wisdom', key('ours')) },
      baselines: [{ name: CACACHE, run: () => cacache.get(theirs, key('theirs')) }],
      bytesPerOp: 1024,
      targets: [{ baseline: CACACHE, atLeast: 1.5 }],
    }));
    for (let k = 0; k < KEYS; k++) {
      await ours.save('state_profiles', `k${k}`, bigNext());
      await cacache.put(theirs, `bigk${k}`, new Uint8Array(bigNext().buffer));
    }
    results.push(await compareAsync({
      name: 'put, 1 MiB Float64Array',
      subject: { name: 'dase-cache save (.npz)', run: () => ours.save('state_profiles', key('ours'), bigNext()) },
      baselines: [{ name: CACACHE, run: () => cacache.put(theirs, `big${key('theirs')}`, new Uint8Array(bigNext().buffer)) }],
      bytesPerOp: big.byteLength,
      targets: [{ baseline: CACACHE, atLeast: 1.5 }],
    }));
    results.push(await compareAsync({
      name: 'get, 1 MiB Float64Array (back as a Float64Array)',
      subject: { name: 'dase-cache load', run: () => ours.load('state_profiles', key('ours')) },
      baselines: [{
        name: CACACHE,
        run: async () => {
          const { data } = await cacache.get(theirs, `big${key('theirs')}`);
          return new Float64Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
        },
      }],
      bytesPerOp: big.byteLength,
      targets: [{ baseline: CACACHE, atLeast: 1.5 }],
    }));

    const eightMb = Float64Array.from({ length: 1 << 20 }, (_, k) => Math.cos(k));
    const path = await ours.save('state_profiles', 'eight_mb', eightMb);
    const NATIVE = 'readFileSync + node:crypto sha256 (floor)';
    results.push(await compareAsync({
      name: 'load an 8 MB Float64Array vs reading and hashing its file natively (target: within 1.5x)',
      subject: { name: 'dase-cache load', run: () => ours.load('state_profiles', 'eight_mb') },
      baselines: [{ name: NATIVE, run: async () => createHash('sha256').update(readFileSync(path)).digest() }],
      bytesPerOp: eightMb.byteLength,
      targets: [{ baseline: NATIVE, atLeast: 1 / 1.5 }],
    }));

    // Two categories, 100 and 10,000 entries; saves overwrite existing keys so the sizes stay put.
    const grown = new CacheManager({ root: join(root, 'grown'), categories: { hundred: { kind: 'bytes' }, tenThousand: { kind: 'bytes' } } });
    for (let k = 0; k < 100; k++) await grown.save('hundred', `e${k}`, smallNext());
    for (let k = 0; k < 10_000; k++) await grown.save('tenThousand', `e${k}`, smallNext());
    let a = 0, b = 0;
    const AT_100 = 'save into a 100-entry category';
    results.push(await compareAsync({
      name: 'save rate at 10,000 entries vs at 100 (target: at least half)',
      subject: { name: 'save into a 10,000-entry category', run: () => grown.save('tenThousand', `e${(a += 7919) % 10_000}`, smallNext()) },
      baselines: [{ name: AT_100, run: () => grown.save('hundred', `e${(b++) % 100}`, smallNext()) }],
      targets: [{ baseline: AT_100, atLeast: 0.5 }],
    }));
    await grown.close();
  } finally {
    await ours.close();
    rmSync(root, { recursive: true, force: true });
  }
  return results;
}
