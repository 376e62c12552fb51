// The cost model of a cache root: what it predicts from measured loads, how it follows the machine, how it
// is kept in the root (merged across processes, robust to a torn or garbage file), and what stats shows.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheManager } from '../src/node.js';
import { COST_FILE, COMPUTES_KEPT, emptyCostState, mergeCostStates, parseCostFile, serializeCostState } from '../src/cost/cost-file.js';
import { LoadModel, PRIOR_COSTS, SAMPLES_KEPT } from '../src/cost/load-model.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';

const run = promisify(execFile);
let root: string;

beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'dase-cost-test-')); });
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe.runIf(FIRST_BUILD_PASS)('LoadModel', () => {
  it('predicts from the prior until loads are measured, then from them: a fixed cost and a throughput', () => {
    const model = new LoadModel(PRIOR_COSTS.disk);
    expect(model.estimate(0)).toBe(PRIOR_COSTS.disk.fixedMs);
    // Loads of a machine with 0.2 ms per load and 2 GB/s.
    for (const bytes of [1e3, 4e3, 1e4, 2e6, 8e6, 16e6]) model.observe(bytes, 0.2 + bytes / 2e6);
    expect(model.estimate(0)).toBeCloseTo(0.2, 2);
    expect(model.estimate(8e6)).toBeCloseTo(4.2, 1);
  });

  it('follows a change of machine at the next measurements, not after many', () => {
    const model = new LoadModel(PRIOR_COSTS.disk);
    for (let i = 0; i < SAMPLES_KEPT; i++) model.observe(1000, 0.1, i);
    expect(model.estimate(1000)).toBeLessThan(0.2);
    // The disk got 20x slower: once that is most of the recent loads, it decides (a median).
    for (let i = 0; i < SAMPLES_KEPT / 2 + 2; i++) model.observe(1000, 2, 100 + i);
    expect(model.estimate(1000)).toBeGreaterThan(1.9);
    expect(model.small).toHaveLength(SAMPLES_KEPT);
  });

  it('is not swung by one slow load (not even the first), and refuses measurements that cannot be', () => {
    const first = new LoadModel(PRIOR_COSTS.disk);
    first.observe(800_000, 200); // 250x the prior's prediction: a garbage collection
    expect(first.estimate(8e6)).toBeCloseTo(PRIOR_COSTS.disk.fixedMs + 8e6 * PRIOR_COSTS.disk.msPerByte, 5);
    const model = new LoadModel(PRIOR_COSTS.disk);
    for (let i = 0; i < 9; i++) model.observe(1000, 0.3, i);
    model.observe(1000, 500, 10); // the machine stalled
    expect(model.estimate(1000)).toBeLessThan(0.5);
    expect(model.observe(-1, 1)).toBe(false);
    expect(model.observe(10, Number.NaN)).toBe(false);
    expect(model.observe(10, Infinity)).toBe(false);
    expect(model.samples).toBe(10);
  });
});

describe.runIf(FIRST_BUILD_PASS)('the cost file', () => {
  it('reads what it wrote, and merges two processes\' measurements, the newer sample per result', () => {
    const a = emptyCostState();
    a.loads.get('disk')!.observe(1000, 0.4, 1);
    a.computes.set('stencils/x', [0.01, 8, 5]);
    const b = emptyCostState();
    b.loads.get('disk')!.observe(2000, 0.6, 2);
    b.loads.get('remote')!.observe(4e6, 30, 3);
    b.computes.set('stencils/x', [0.02, 8, 6]);
    b.functions.set('stencils/f', [0.001, 0.02, 4, 7]);
    const merged = parseCostFile(serializeCostState(mergeCostStates(a, b)));
    expect(merged.loads.get('disk')!.small.map((s) => s[0])).toEqual([1000, 2000]);
    expect(merged.loads.get('remote')!.large).toEqual([[4e6, 30, 3]]);
    expect(merged.computes.get('stencils/x')).toEqual([0.02, 8, 6]);
    expect(merged.functions.get('stencils/f')).toEqual([0.001, 0.02, 4, 7]);
    // The same measurement read from two files counts once.
    expect(mergeCostStates(merged, merged).loads.get('disk')!.samples).toBe(2);
  });

  it('reads a missing, torn, foreign or garbage file as no measurements, and skips bad samples in a good one', () => {
    const written = new TextDecoder().decode(serializeCostState(emptyCostState()));
    for (const text of [undefined, '', written.slice(0, written.length / 2), '{"format":"something else","loads":{}}', 'garbage{', '[1,2]', 'null']) {
      const state = parseCostFile(text === undefined ? undefined : new TextEncoder().encode(text));
      expect([...state.loads.values()].every((m) => m.samples === 0)).toBe(true);
      expect(state.computes.size).toBe(0);
    }
    const mixed = JSON.parse(written);
    mixed.loads = { disk: { small: [[1000, 0.5, 1], [1000, -1, 2], ['x', 1, 3], [1, 2]], large: 'no' }, tape: { small: [[1, 1, 1]] } };
    mixed.computes = { good: [0.1, 8, 1], bad: [0.1], worse: 'x', nan: [null, 8, 1] };
    const state = parseCostFile(new TextEncoder().encode(JSON.stringify(mixed)));
    expect(state.loads.get('disk')!.small).toEqual([[1000, 0.5, 1]]);
    expect([...state.computes.keys()]).toEqual(['good']);
  });

  it('keeps the newest results when there are too many', () => {
    const state = emptyCostState();
    for (let i = 0; i < COMPUTES_KEPT + 10; i++) state.computes.set(`c/k${i}`, [0.1, 8, i]);
    const kept = parseCostFile(serializeCostState(state)).computes;
    expect(kept.size).toBe(COMPUTES_KEPT);
    expect(kept.has('c/k9')).toBe(false);
    expect(kept.has(`c/k${COMPUTES_KEPT + 9}`)).toBe(true);
  });
});

describe.runIf(FIRST_BUILD_PASS)('the cost model of a cache root', () => {
  it('learns from every verified load, keeps it in the root, and a new manager starts from it', async () => {
    const first = new CacheManager({ root });
    await first.save('stencils', 'a', new Float64Array(1000));
    for (let i = 0; i < 3; i++) await first.load('stencils', 'a');
    expect((await first.getStats()).costs.loads.disk.samples).toBe(3);
    await first.close();
    const file = JSON.parse(readFileSync(join(root, COST_FILE), 'utf8'));
    expect(file.loads.disk.small).toHaveLength(3);
    const second = new CacheManager({ root });
    const costs = (await second.getStats()).costs;
    expect(costs).toMatchObject({ storage: 'disk', file: `${root}/${COST_FILE}` });
    expect(costs.loads.disk.samples).toBe(3);
    expect(costs.loads.disk.fixedMs).toBeLessThan(PRIOR_COSTS.disk.fixedMs * 10);
    await second.close();
  });

  it('survives a garbage file: starts from the prior, and the next write replaces it with a good one', async () => {
    writeFileSync(join(root, COST_FILE), 'garbage{"format"');
    const cache = new CacheManager({ root });
    await cache.save('stencils', 'a', new Float64Array(10));
    expect((await cache.getStats()).costs.loads.disk).toMatchObject({ samples: 0, fixedMs: PRIOR_COSTS.disk.fixedMs });
    await cache.load('stencils', 'a');
    await cache.close();
    expect(parseCostFile(readFileSync(join(root, COST_FILE))).loads.get('disk')!.samples).toBe(1);
  });

  it('keeps every measurement of two processes writing it at once', async () => {
    const rounds = 20;
    const writer = (tag: number) => run(process.execPath, ['--import', 'tsx', 'test/fixtures/cost-writer.ts', root, String(tag), String(rounds)]);
    const outputs = await Promise.all([writer(1), writer(2)]);
    expect(outputs.map((o) => o.stdout.trim())).toEqual(['done', 'done']);
    const state = parseCostFile(readFileSync(join(root, COST_FILE)));
    for (const tag of [1, 2]) {
      for (let round = 0; round < rounds; round++) expect(state.computes.has(`stencils/k${tag}_${round}`)).toBe(true);
    }
    const tags = new Set(state.loads.get('disk')!.small.map(([bytes]) => Math.floor(bytes / 1000)));
    expect(tags).toEqual(new Set([1, 2]));
    // No temporary file or lock is left beside it.
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(root).filter((name) => name.startsWith('.'))).toEqual([COST_FILE]);
  });
});
