// memoize(): canonical keys, the memory tier, the policies, invalidation, single flight in one process,
// and bad input. (Single flight across processes: memoize-processes.test.ts.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CacheManager, MemoryTier, canonicalKey, formatNumber, kernelInfo, memoize, memoryTierOf,
} from '../src/node.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { sleep } from './fixtures/util.js';

let root: string;
let cache: CacheManager;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dase-memo-test-'));
  cache = new CacheManager({ root });
});

afterEach(async () => {
  await cache.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

/** Busy for `ms`: a computation that costs more than loading its result back. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* compute */ }
}
const hasPython = spawnSync('python3', ['-c', 'print(1)']).status === 0;

describe('canonical keys', () => {
  const key = (...args: unknown[]) => canonicalKey('f', args);

  it('writes the keys the Python cache wrote for simple arguments', () => {
    expect(canonicalKey('kernel', [0.5, 0.01, 1000])).toBe('kernel_0.5_0.01_1000');
    expect(canonicalKey('kernel', [1.5, 0.001, 100000])).toBe('kernel_1.5_0.001_100000');
    expect(key([64, 64, 64], 'periodic', true)).toBe('f_64x64x64_periodic_true');
  });

  it('gives one key for one number however it was written, and one spelling to -0, NaN and infinities', () => {
    expect(key(1.5)).toBe(key(1.50));
    expect(key(1.5)).toBe(key(3 / 2));
    expect(key(0.1 + 0.2)).not.toBe(key(0.3)); // different doubles
    expect([key(-0), key(0), key(NaN), key(Infinity), key(-Infinity)]).toEqual(['f_-0', 'f_0', 'f_nan', 'f_inf', 'f_-inf']);
    expect(key(Number('NaN'))).toBe(key(0 / 0));
  });

  it.skipIf(!hasPython)('spells numbers as Python repr does (shortest round trip), without "+" and ".0"', () => {
    const numbers = [0.5, 0.01, 1e-5, 1e-4, 0.00012345, 123.456, 1e15, 1e16, 1.5e16, 2 ** 53, 1 / 3, -2.5e-7,
      5e-324, 1.7976931348623157e308, 123456789.123, 100, 0.1 + 0.2, 1e22, -1e-10];
    const script = `import sys, json\nfor x in json.load(sys.stdin): print(repr(float(x)))`;
    const result = spawnSync('python3', ['-c', script], { input: JSON.stringify(numbers), encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const python = result.stdout.trim().split('\n').map((s) => s.replace('e+', 'e').replace(/\.0$/, '').replace(/\.0e/, 'e'));
    expect(numbers.map(formatNumber)).toEqual(python);
    for (const x of numbers) expect(Number(formatNumber(x))).toBe(x); // round trip
  });

  it('tells apart arguments that differ, including their types and positions', () => {
    const calls: unknown[][] = [
      [1, 2], [[1, 2]], [12], [1.2], ['1_2'], ['a', 'b'], ['a_b'], ['ab'], [true], ['true'], [null], ['null'], [undefined, 1],
      [new Float64Array([1, 2])], [new Float32Array([1, 2])], [new Float64Array([2, 1])], [{ data: new Float64Array([1, 2]), shape: [2, 1] }],
      [{ a: 1 }], [{ a: '1' }], [{ a: 1, b: 2 }], [[1.5, 2]], [[1.5, 2.5]], [-0], [0], [1n], ['x'.repeat(100)], ['x'.repeat(101)],
      [new Uint8Array([1, 2])], [new Uint8ClampedArray([1, 2])], [new BigInt64Array([1n, 2n])],
    ];
    const keys = calls.map((args) => key(...args));
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/);
  });

  it('is the same for equal arguments: object key order, trailing undefined, a Buffer and its Uint8Array', () => {
    expect(key({ a: 1, b: [2, 3] })).toBe(key({ b: [2, 3], a: 1 }));
    expect(key(1)).toBe(key(1, undefined));
    expect(key(new Float64Array([1, NaN]))).toBe(key(new Float64Array([1, NaN])));
    expect(key(Buffer.from([1, 2, 3]))).toBe(key(new Uint8Array([1, 2, 3])));
    // The JSON pitfall: [NaN] and [Infinity] serialize alike, their keys must not.
    expect(key(new Float64Array([NaN]))).not.toBe(key(new Float64Array([Infinity])));
  });

  it('replaces typed arrays by dtype, length and SHA-256, and shortens long keys with a hash', () => {
    const data = new Float64Array(100_000).map((_, i) => Math.sin(i));
    const k = key(data, 0.5);
    expect(k).toMatch(/^f_f64-100000-[0-9a-f]{32}_0\.5$/);
    const long = key(...Array.from({ length: 60 }, (_, i) => i + 0.5));
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long).toMatch(/^f_0\.5_1\.5_.*_[0-9a-f]{32}$/);
    expect(long).not.toBe(key(...Array.from({ length: 60 }, (_, i) => (i === 59 ? 0 : i + 0.5))));
  });

  it('is stable across processes and runs', () => {
    const args = [0.5, [64, 64], 'periodic', { accuracy: 4, spacing: [0.1, 0.2] }, new Float64Array([1, 2, 3]), -0, 1e-7];
    const here = canonicalKey('op', args);
    const script = `import { canonicalKey } from './src/node.ts';
      console.log(canonicalKey('op', [0.5, [64, 64], 'periodic', { spacing: [0.1, 0.2], accuracy: 4 }, new Float64Array([1, 2, 3]), -0, 1e-7]));`;
    const repo = fileURLToPath(new URL('..', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout.trim()).toBe(here);
    expect(here).toMatch(/^op_0\.5_64x64_periodic_accuracy-4\.spacing-0\.1\.0\.2_f64-3-[0-9a-f]{32}_-0_1e-07_[0-9a-f]{32}$/);
  });

  it('refuses arguments with no canonical form, naming them', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => key(1, cyclic)).toThrow(/argument 2\.self refers to itself/);
    expect(() => key(() => 1)).toThrow(TypeError);
    expect(() => key(new Map())).toThrow(/argument 1 is .*canonical form/);
    expect(() => key(Symbol('s'))).toThrow(TypeError);
    expect(() => canonicalKey('', [1])).toThrow(/function name/);
    expect(() => canonicalKey('a b', [1])).toThrow(/function name/);
  });
});

describe('MemoryTier', () => {
  it('evicts the least recently used results beyond its bound and keeps nothing larger than the bound', () => {
    const tier = new MemoryTier(3 * (8000 + 64));
    const array = () => new Float64Array(1000);
    tier.set('a', array());
    tier.set('b', array());
    tier.set('c', array());
    expect(tier.get('a')).toBeDefined(); // a is now the most recently used
    tier.set('d', array());
    expect(tier.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].every((k) => tier.get(k) !== undefined)).toBe(true);
    expect(tier.stats).toEqual({ entries: 3, bytes: 3 * 8064, maxBytes: 3 * 8064 });
    tier.set('huge', new Float64Array(10_000));
    expect(tier.get('huge')).toBeUndefined();
    expect(tier.stats.entries).toBe(3);
    expect(() => new MemoryTier(-1)).toThrow(RangeError);
  });
});

describe('memoize', () => {
  it('computes once, then serves from memory, and from disk in a fresh memoizer', async () => {
    let calls = 0;
    const slowWeights = (n: number) => { calls++; busy(30); return new Float64Array(n).fill(n); };
    const f = memoize(slowWeights, { cache, category: 'fractional_kernels', policy: 'always' });
    const first = await f.withInfo(100);
    expect(first).toMatchObject({ source: 'computed', stored: true, key: 'slowWeights_100' });
    expect(first.computeMs).toBeGreaterThan(25);
    const second = await f.withInfo(100);
    expect(second.source).toBe('memory');
    expect(second.value).toBe(first.value);
    memoryTierOf(cache).clear();
    const fresh = memoize(slowWeights, { cache, category: 'fractional_kernels', policy: 'always' });
    const third = await fresh.withInfo(100);
    expect(third.source).toBe('disk');
    expect(third.value).toEqual(first.value);
    expect(calls).toBe(1);
    expect(f.stats).toMatchObject({ computed: 1, memory: 1, stored: 1 });
    const metadata = await cache.loadMetadata('fractional_kernels', 'slowWeights_100');
    expect(metadata).toMatchObject({ function: 'slowWeights', library_version: expect.any(String), wasm_sha256: kernelInfo().wasmSha256 });
    expect(metadata!.compute_ms).toBeGreaterThan(25);
    await cache.close();
    expectIndexAtRest(root);
  });

  it("'never' keeps results in memory only", async () => {
    const f = memoize((n: number) => { busy(20); return new Float64Array(n); }, { cache, category: 'stencils', name: 'zeros', policy: 'never' });
    expect((await f.withInfo(10)).source).toBe('computed');
    expect((await f.withInfo(10)).source).toBe('memory');
    await f.settled();
    expect(await cache.listKeys('stencils')).toEqual([]);
    await cache.close();
    expectIndexAtRest(root);
  });

  it("'auto' keeps cheap results off the disk and expensive ones on it", async () => {
    // Zeroing 16 MB takes a few ms; loading it back, verified, ~15 ms: far from the margin either way.
    const cheap = memoize((n: number) => new Float64Array(n), { cache, category: 'stencils', name: 'cheap', memory: 0 });
    const costly = memoize((n: number) => { busy(40); return new Float64Array(n).fill(2); }, { cache, category: 'stencils', name: 'costly' });
    const a = await cheap.withInfo(2e6);
    const b = await costly.withInfo(1e3);
    expect(a).toMatchObject({ source: 'computed', stored: false });
    expect(a.storing).toBeUndefined();
    expect(b).toMatchObject({ source: 'computed', stored: false, storing: true });
    await Promise.all([cheap.settled(), costly.settled()]);
    expect(b).toMatchObject({ stored: true, storing: false });
    expect(await cache.listKeys('stencils')).toEqual(['costly_1000']);
    expect(cheap.stats.keptInMemory).toBe(1);
    await cache.close();
    expectIndexAtRest(root);
  });

  it("'auto' computes rather than loads a result that is faster to compute than to load", async () => {
    let calls = 0;
    const fill = (n: number) => { calls++; return new Float64Array(n).fill(3); };
    await memoize(fill, { cache, category: 'stencils', policy: 'always' })(1e6);
    // As if it had been computed in 1 µs: loading 8 MB back cannot be faster than that.
    const metadata = (await cache.loadMetadata('stencils', 'fill_1000000'))!;
    await cache.save('stencils', 'fill_1000000', await cache.load('stencils', 'fill_1000000'), { metadata: { ...metadata, compute_ms: 0.001 } });
    memoryTierOf(cache).clear();
    const auto = memoize(fill, { cache, category: 'stencils' });
    expect((await auto.withInfo(1e6)).source).toBe('computed');
    expect(calls).toBe(2);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('misses when the version or the WASM binary recorded with the entry differs', async () => {
    let calls = 0;
    const fn = (n: number) => { calls++; busy(20); return new Float64Array(n).fill(calls); };
    const v1 = memoize(fn, { cache, category: 'stencils', name: 'op', version: '1', policy: 'always', memory: 0 });
    await v1(4);
    expect((await v1.withInfo(4)).source).toBe('disk');
    const v2 = memoize(fn, { cache, category: 'stencils', name: 'op', version: '2', policy: 'always', memory: 0 });
    expect((await v2.withInfo(4)).source).toBe('computed');
    expect(await cache.loadMetadata('stencils', 'op_4')).toMatchObject({ version: '2' });
    expect((await v2.withInfo(4)).source).toBe('disk');
    // The same entry as another build of the kernels would have written it.
    const metadata = (await cache.loadMetadata('stencils', 'op_4'))!;
    await cache.save('stencils', 'op_4', await cache.load('stencils', 'op_4'), { metadata: { ...metadata, wasm_sha256: '0'.repeat(64) } });
    const call = await v2.withInfo(4);
    expect(call.source).toBe('computed');
    expect(calls).toBe(3);
    expect((await cache.loadMetadata('stencils', 'op_4'))!.wasm_sha256).toBe(kernelInfo().wasmSha256);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('computes once for 8 concurrent callers of one key', async () => {
    let calls = 0;
    const f = memoize(async (n: number) => { calls++; await sleep(50); return new Float64Array(n).fill(7); },
      { cache, category: 'stencils', name: 'shared', policy: 'always' });
    const results = await Promise.all(Array.from({ length: 8 }, () => f.withInfo(16)));
    expect(calls).toBe(1);
    expect(results.filter((r) => r.source === 'computed')).toHaveLength(1);
    for (const r of results) expect(r.value).toBe(results[0].value);
    expect(readdirSync(join(root, 'stencils', '.locks'))).toEqual([]); // the claim left nothing behind
    await cache.close();
    expectIndexAtRest(root);
  });

  it('passes on a throwing call, keeps nothing, and computes again next time', async () => {
    let calls = 0;
    const f = memoize((n: number) => { calls++; if (calls === 1) throw new Error(`bad ${n}`); busy(20); return new Float64Array(n); },
      { cache, category: 'stencils', name: 'flaky', policy: 'always' });
    await expect(f(3)).rejects.toThrow('bad 3');
    expect(await cache.listKeys('stencils')).toEqual([]);
    expect((await f.withInfo(3)).source).toBe('computed');
    expect(calls).toBe(2);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('rejects a result the category cannot hold, clearly, writing nothing and keeping nothing', async () => {
    class Model { weights = 1; }
    let calls = 0;
    const f = memoize(() => { calls++; return new Model(); }, { cache, category: 'stencils', name: 'model', policy: 'always' });
    await expect(f()).rejects.toThrow(/memoize\(model\): this category expects arrays .* got an instance of Model/);
    await expect(f()).rejects.toThrow(TypeError);
    expect(calls).toBe(2);
    const bytes = memoize(() => new Float64Array(2), { cache, category: 'fftw_wisdom', name: 'wisdom' });
    await expect(bytes()).rejects.toThrow(/expects bytes/);
    expect(await cache.listKeys('stencils')).toEqual([]);
    expect(readdirSync(join(root, 'stencils')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('rejects arguments it cannot key before calling the function', async () => {
    let calls = 0;
    const f = memoize((x: unknown) => { calls++; return [x]; }, { cache, category: 'stencils', name: 'g' });
    await expect(f(() => 1)).rejects.toThrow(/memoize\(g\): cannot key the call: argument 1 is/);
    await expect(f(new Date())).rejects.toThrow(TypeError);
    expect(calls).toBe(0);
    const badKey = memoize((x: number) => [x], { cache, category: 'stencils', key: (x) => `../${x}` });
    await expect(badKey(1)).rejects.toThrow(/key/);
  });

  it('recomputes and replaces a damaged entry', async () => {
    const fn = (n: number) => { busy(20); return new Float64Array(n).fill(5); };
    const f = memoize(fn, { cache, category: 'stencils', name: 'damaged', policy: 'always', memory: 0 });
    const path = join(root, 'stencils', 'damaged_64.npz');
    await f(64);
    const bytes = readFileSync(path);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(path, bytes);
    const call = await f.withInfo(64);
    expect(call.source).toBe('computed');
    expect(call.value).toEqual(new Float64Array(64).fill(5));
    expect((await cache.validate()).ok).toBe(true);
    expectIndexAtRest(root);
  });

  it('checks its options', () => {
    const fn = (n: number) => [n];
    expect(() => memoize(fn, { cache, category: 'nope' })).toThrow(/Unknown cache category/);
    expect(() => memoize(fn, { cache, category: 'stencils', policy: 'sometimes' as never })).toThrow(RangeError);
    expect(() => memoize(42 as never, { cache, category: 'stencils' })).toThrow(/expected a function/);
    expect(() => memoize(fn, { cache: {} as never, category: 'stencils' })).toThrow(/CacheManager/);
    expect(() => memoize(fn, { cache, category: 'stencils', waitMs: -1 })).toThrow(RangeError);
    expect(() => memoize((() => (n: number) => n)(), { cache, category: 'stencils' })).toThrow(/function name/);
    expect(() => memoize(fn, { cache, category: 'stencils', colour: 'red' } as never)).toThrow(/colour/);
  });

  it("writes 'auto' results in the background and reports a failed write", async () => {
    const errors: unknown[] = [];
    const f = memoize((n: number) => { busy(30); return new Float64Array(n); },
      { cache, category: 'stencils', name: 'behind', onWriteError: (e) => errors.push(e) });
    const call = await f.withInfo(8);
    expect(call).toMatchObject({ stored: false, storing: true }); // stored says true only once it is
    await f.settled();
    expect(call).toMatchObject({ stored: true, storing: false });
    expect(await cache.exists('stencils', 'behind_8')).toBe(true);
    expect(errors).toEqual([]);
    expect(existsSync(join(root, 'stencils', '.locks')) ? readdirSync(join(root, 'stencils', '.locks')) : []).toEqual([]);
    await cache.close();
    expectIndexAtRest(root);
  });
});
