// A root that keeps within its budget by itself: eviction after saves, in the order the policy gives, pins,
// and several processes saving at once.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheManager, CacheMissError } from '../src/node.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { FIRST_BUILD_PASS, sleep } from './fixtures/util.js';

const run = promisify(execFile);
let root: string;

beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'dase-budget-test-')); });
afterEach(() => rmSync(root, { recursive: true, force: true }));

const KIB = 1024;
/** An array whose .npz file takes about `kib` KiB. */
const array = (kib: number, fill = 1) => new Float64Array((kib * KIB) / 8).fill(fill);

async function keys(cache: CacheManager, category = 'state_profiles'): Promise<string[]> {
  return cache.listKeys(category);
}

describe.runIf(FIRST_BUILD_PASS)('a budget the root keeps by itself', () => {
  it('checks its options', () => {
    expect(() => new CacheManager({ root, maxBytes: '12Q' })).toThrow(/maxBytes: bad size "12Q"/);
    expect(() => new CacheManager({ root, maxBytes: -1 })).toThrow(/expected a whole number of bytes >= 0, got -1/);
    expect(() => new CacheManager({ root, budgets: { nope: '1M' } })).toThrow(/unknown category "nope"/);
    expect(() => new CacheManager({ root, maxBytes: '1M', eviction: 'fifo' as never })).toThrow(/expected options.eviction to be 'gdsf', 'lru', 'lfu', got "fifo"/);
  });

  it('stays within its budget plus the entry just saved while saves write three times the budget', async () => {
    const cache = new CacheManager({ root, maxBytes: '256K' });
    let largest = 0;
    for (let i = 0; i < 24; i++) {
      await cache.save('state_profiles', `p${i}`, array(32, i), { metadata: { compute_ms: 10 } });
      const { budget } = await cache.getStats();
      const entry = await cache.loadMetadata('state_profiles', `p${i}`).then(() => cache.getSize('state_profiles', `p${i}`));
      largest = Math.max(largest, entry);
      expect(budget.totalBytes).toBeLessThanOrEqual(256 * KIB + largest);
    }
    const { budget } = await cache.getStats();
    expect(budget).toMatchObject({ maxBytes: 256 * KIB, policy: 'gdsf', errors: 0 });
    expect(budget.evicted).toBeGreaterThanOrEqual(24 - 8);
    expect(budget.evictedComputeMs).toBe(budget.evicted * 10);
    expect(budget.keptComputeMs).toBe((await keys(cache)).length * 10);
    // The newest entry is never its own victim.
    expect(await keys(cache)).toContain('p23');
    await cache.close();
    expectIndexAtRest(root);
    expect((await new CacheManager({ root }).getStats()).budget).toMatchObject({ maxBytes: null, evicted: budget.evicted });
  });

  it('evicts what saves the least compute time per byte first (gdsf), the least recent (lru), the least used (lfu)', async () => {
    const fill = async (cache: CacheManager) => {
      // a: large and cheap; b: small and dear; c: small and cheap, used often; d: the save that overflows.
      await cache.save('stencils', 'a', array(64), { metadata: { compute_ms: 1 } });
      await sleep(5);
      await cache.save('stencils', 'b', array(8), { metadata: { compute_ms: 500 } });
      await sleep(5);
      await cache.save('stencils', 'c', array(8), { metadata: { compute_ms: 2 } });
      for (let i = 0; i < 5; i++) await cache.load('stencils', 'c');
      await sleep(5);
      await cache.load('stencils', 'a'); // a was used last
      await sleep(5);
      await cache.save('stencils', 'd', array(16), { metadata: { compute_ms: 3 } });
    };
    const survivors: Record<string, string[]> = {};
    for (const eviction of ['gdsf', 'lru', 'lfu'] as const) {
      const dir = join(root, eviction);
      const cache = new CacheManager({ root: dir, budgets: { stencils: 90 * KIB }, eviction });
      await fill(cache);
      survivors[eviction] = await keys(cache, 'stencils');
      await cache.close();
    }
    expect(survivors.gdsf).toEqual(['b', 'c', 'd']); // a: 1 ms for 64 KiB
    expect(survivors.lru).toEqual(['a', 'c', 'd']); // b: untouched since its save
    expect(survivors.lfu).toEqual(['a', 'c', 'd']); // b: never loaded, and older than the other unused one
  });

  it('never evicts a pinned entry, until it is unpinned', async () => {
    const cache = new CacheManager({ root, maxBytes: '96K' });
    await cache.save('surrogates', 'model', array(40), { metadata: { compute_ms: 1 } });
    expect(await cache.pin('surrogates', 'model')).toBe(true);
    expect(await cache.pin('surrogates', 'model')).toBe(false);
    await expect(cache.pin('surrogates', 'missing')).rejects.toBeInstanceOf(CacheMissError);
    for (let i = 0; i < 6; i++) await cache.save('state_profiles', `p${i}`, array(24), { metadata: { compute_ms: 100 } });
    expect(await keys(cache, 'surrogates')).toEqual(['model']);
    expect((await cache.getStats()).budget.pinned).toEqual(['surrogates/model']);
    expect(await cache.unpin('surrogates', 'model')).toBe(true);
    expect(await cache.unpin('surrogates', 'model')).toBe(false);
    await cache.save('state_profiles', 'last', array(24), { metadata: { compute_ms: 100 } });
    expect(await keys(cache, 'surrogates')).toEqual([]);
    await cache.close();
  });

  it('takes its budget from $DASE_CACHE_MAX_BYTES when the option is absent', async () => {
    const saved = process.env.DASE_CACHE_MAX_BYTES;
    process.env.DASE_CACHE_MAX_BYTES = '2M';
    try {
      const cache = new CacheManager({ root });
      expect((await cache.getStats()).budget.maxBytes).toBe(2 * 1024 * KIB);
      await cache.close();
    } finally {
      if (saved === undefined) delete process.env.DASE_CACHE_MAX_BYTES;
      else process.env.DASE_CACHE_MAX_BYTES = saved;
    }
  });

  it('leaves a cache that repair settles, and a budget that goes on, when a process is killed while it evicts', async () => {
    const budget = 256 * KIB;
    for (let round = 0; round < 3; round++) {
      const writer = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/budget-writer.ts', root, String(budget), `k${round}`, '400', String(24 * KIB)], { stdio: 'ignore' });
      // Killed once it has saved past the budget (so it is evicting), or after 10 s at most.
      const watcher = new CacheManager({ root });
      for (let look = 0; look < 200 && (await watcher.getStats()).budget.evicted < 3 * (round + 1); look++) await sleep(50);
      writer.kill('SIGKILL');
      await new Promise((done) => writer.once('exit', done));
      await watcher.close();
    }
    const cache = new CacheManager({ root, maxBytes: budget });
    const report = await cache.validate({ repair: true });
    expect(report.ok).toBe(true);
    expect((await cache.validate()).ok).toBe(true);
    // The eviction lock of the killed process is taken over: saves go on evicting.
    for (let i = 0; i < 12; i++) await cache.save('state_profiles', `after_${i}`, array(24), { metadata: { compute_ms: 5 } });
    const { budget: stats } = await cache.getStats();
    expect(stats.totalBytes).toBeLessThanOrEqual(budget + 26 * KIB);
    expect(stats.errors).toBe(0);
    await cache.close();
    expectIndexAtRest(root);
  });

  for (const writers of [1, 4]) {
    it(`stays within budget plus one entry per writer while ${writers} process(es) save three times the budget, as another process sees it`, async () => {
      const budget = 512 * KIB;
      const perWriter = Math.ceil((3 * budget) / (24 * KIB) / writers);
      const running = Array.from({ length: writers }, (_, w) => run(process.execPath,
        ['--import', 'tsx', 'test/fixtures/budget-writer.ts', root, String(budget), `w${w}`, String(perWriter), String(24 * KIB)]));
      // Another process (this one) watches the total while they write: a bounded number of looks.
      const watcher = new CacheManager({ root });
      let looks = 0;
      let worst = 0;
      let done = false;
      void Promise.all(running).finally(() => { done = true; });
      while (!done && looks < 400) {
        worst = Math.max(worst, (await watcher.getStats()).budget.totalBytes);
        looks++;
        await sleep(5);
      }
      const outputs = await Promise.all(running);
      // Each writer may have one entry past the budget between its save and its eviction.
      expect(worst).toBeLessThanOrEqual(budget + writers * 26 * KIB);
      const final = (await watcher.getStats()).budget;
      expect(final.totalBytes).toBeLessThanOrEqual(budget + 26 * KIB);
      expect(final.evicted).toBeGreaterThanOrEqual(writers * perWriter - Math.ceil(budget / (24 * KIB)) - writers);
      expect(outputs.map((o) => JSON.parse(o.stdout.trim().split('\n').pop()!).errors)).toEqual(Array(writers).fill(0));
      expect((await watcher.validate()).ok).toBe(true);
      await watcher.close();
      expectIndexAtRest(root);
    });
  }
});
