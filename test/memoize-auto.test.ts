// Policy 'auto' across processes: a result cheaper to compute than to load is never loaded, in the first
// process or any later one (whoever stored it); an expensive one is stored, then loaded; a load found slower
// than computing is not made again; and each call says why.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheManager, kernelInfo, memoize } from '../src/node.js';
import { COST_FILE, emptyCostState, serializeCostState } from '../src/cost/cost-file.js';
import { LIBRARY_VERSION } from '../src/wasm/generated/embedded.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';

const run = promisify(execFile);
let root: string;

beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'dase-auto-test-')); });
afterEach(() => rmSync(root, { recursive: true, force: true }));

interface Outcome { source: string; reason: string; stored: boolean; ok: boolean }

/** One process calling `kind`(n) memoized with `policy` (test/fixtures/auto-worker.ts). */
async function call(policy: string, kind: 'cheap' | 'costly', n: number, version?: string): Promise<Outcome> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/auto-worker.ts', root, policy, kind, String(n), ...(version ? [version] : [])]);
  const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;
  expect(outcome.ok).toBe(true);
  return outcome;
}

/** The access count index.json gives an entry: how many times it was loaded. */
function accesses(key: string): number {
  return JSON.parse(readFileSync(join(root, 'stencils', 'index.json'), 'utf8')).entries[key].access_count;
}

/** Loads measured on this root as costing `ms` each, whatever their size (as a slow disk would). */
function measuredLoads(ms: number): void {
  const state = emptyCostState();
  for (let i = 0; i < 8; i++) state.loads.get('disk')!.observe(1000 * (i + 1), ms, i + 1);
  for (let i = 0; i < 8; i++) state.loads.get('disk')!.observe(1e6 * (i + 1), ms, i + 1);
  writeFileSync(join(root, COST_FILE), serializeCostState(state));
}

describe.runIf(FIRST_BUILD_PASS)("policy 'auto' across processes", () => {
  it('never loads a result cheaper to compute than to load: not in the first process, nor in later ones', async () => {
    const first = await call('auto', 'cheap', 1000);
    expect(first).toMatchObject({ source: 'computed', stored: false });
    expect(first.reason).toMatch(/^kept in memory only: computing it took .*, a load of 8\.\d KB would take about/);
    for (let i = 0; i < 2; i++) {
      const later = await call('auto', 'cheap', 1000);
      expect(later).toMatchObject({ source: 'computed', stored: false });
      // Known from the first process: the cache is not even looked at.
      expect(later.reason).toMatch(/^(recomputed without looking in the cache|called directly)/);
    }
    expect(JSON.parse(readFileSync(join(root, 'stencils', 'index.json'), 'utf8')).entries).toEqual({});
    expectIndexAtRest(root);
  });

  it("never loads such a result stored by 'always', nor one stored without a compute time (an older writer)", async () => {
    expect(await call('always', 'cheap', 1000)).toMatchObject({ source: 'computed', stored: true });
    const found = await call('auto', 'cheap', 1000);
    expect(found).toMatchObject({ source: 'computed' });
    expect(found.reason).toMatch(/^recomputed: computing it takes .*, a load of 8\.\d KB takes about/);
    expect((await call('auto', 'cheap', 1000)).reason).toMatch(/^(recomputed without looking in the cache|called directly)/);
    expect(accesses('cheap_1000')).toBe(0);

    // An entry that does not say what it cost: computed once (which measures it), then known. (A version of
    // the function of its own, which no call has measured yet.)
    const cache = new CacheManager({ root });
    await cache.save('stencils', 'cheap_2000', Float64Array.from({ length: 2000 }, (_, i) => i), {
      metadata: { function: 'cheap', library_version: LIBRARY_VERSION, wasm_sha256: kernelInfo().wasmSha256, version: 'v2' },
    });
    await cache.close();
    expect((await call('auto', 'cheap', 2000, 'v2')).reason).toMatch(/^recomputed: the entry does not say what computing it costs/);
    expect((await call('auto', 'cheap', 2000, 'v2')).source).toBe('computed');
    expect(accesses('cheap_2000')).toBe(0);
    expectIndexAtRest(root);
  });

  it('stores an expensive result, and every later process loads it', async () => {
    const first = await call('auto', 'costly', 1000);
    expect(first).toMatchObject({ source: 'computed', stored: true });
    expect(first.reason).toMatch(/^stored: computing it took \d+\.\d ms, a load of 8\.\d KB would take about/);
    for (let i = 1; i <= 2; i++) {
      const later = await call('auto', 'costly', 1000);
      expect(later.source).toBe('disk');
      expect(later.reason).toMatch(/^loaded: computing it takes \d+\.\d ms, a load of 8\.\d KB takes about/);
      expect(accesses('costly_1000')).toBe(i);
    }
    expectIndexAtRest(root);
  });

  it('keeps an expensive result off a disk measured slower than computing it', async () => {
    measuredLoads(500);
    expect(await call('auto', 'costly', 1000)).toMatchObject({ source: 'computed', stored: false });
  });

  it('does not load again a result whose load was measured slower than computing it', async () => {
    // Loads predicted nearly free, and an entry said to compute in 1 µs: the prediction says load, the
    // measured load (a read, a SHA-256, a decode) says otherwise, and the next process believes the measurement.
    measuredLoads(0.0001);
    const cache = new CacheManager({ root });
    await cache.save('stencils', 'cheap_1000', Float64Array.from({ length: 1000 }, (_, i) => i), {
      metadata: { compute_ms: 0.001, function: 'cheap', library_version: LIBRARY_VERSION, wasm_sha256: kernelInfo().wasmSha256 },
    });
    await cache.close();
    const first = await call('auto', 'cheap', 1000);
    expect(first.source).toBe('disk');
    expect(first.reason).toMatch(/^loaded, but the load took .* against 1 µs to compute: later calls compute it/);
    const second = await call('auto', 'cheap', 1000);
    expect(second.source).toBe('computed');
    expect(second.reason).toMatch(/^recomputed without looking in the cache: computing it took .*, its load was measured at/);
    expect(accesses('cheap_1000')).toBe(1);
  });
});

describe.runIf(FIRST_BUILD_PASS)("policy 'auto' in one process", () => {
  it('calls directly a function that computes faster than a call is served from memory, and stops when it slows down', async () => {
    const cache = new CacheManager({ root });
    let slow = false;
    const points = Array.from({ length: 64 }, (_, i) => i + 0.5);
    const sum = memoize((xs: number[]) => {
      if (slow) { const until = performance.now() + 5; while (performance.now() < until) { /* compute */ } }
      return Float64Array.of(xs.length);
    }, { cache, category: 'stencils', name: 'sum' });
    // Keying 64 numbers (formatted, hashed) takes longer than the function: after a few measured calls it is called directly.
    const calls = [];
    for (let i = 0; i < 8; i++) calls.push(await sum.withInfo(points.map((x) => x + i)));
    expect(calls.at(-1)!.reason).toMatch(/^called directly: its calls compute in .* or less, and keying one to serve it from memory takes/);
    expect(calls.at(-1)!.key).toMatch(/^sum_/); // the key, made when asked for
    expect(sum.stats.direct).toBeGreaterThan(0);
    expect((await cache.getStats()).costs.functions.direct).toEqual(['stencils/sum']);
    slow = true;
    const slowed = await sum.withInfo(points);
    expect(slowed.reason).toMatch(/^called directly/);
    // That measurement ends it: the next call is keyed again (and a 5 ms result is worth storing).
    const next = await sum.withInfo(points.map((x) => x * 2));
    expect(next.reason).not.toMatch(/^called directly/);
    expect(next.source).toBe('computed');
    await cache.close();
  });
});
