import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheManager, CacheMissError, IntegrityError, DEFAULT_CATEGORIES, glWeights, laplacian } from '../src/node.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';

let root: string;
let cache: CacheManager;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dase-cache-test-'));
  cache = new CacheManager({ root });
});

afterEach(async () => {
  await cache.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const readIndex = (category: string) => JSON.parse(readFileSync(join(root, category, 'index.json'), 'utf8'));

describe('CacheManager: layout', () => {
  it('creates every default category folder with its index.json on first use', async () => {
    await cache.listKeys('stencils');
    for (const category of Object.keys(DEFAULT_CATEGORIES)) {
      const index = readIndex(category);
      expect(index).toMatchObject({ version: '1.0', total_entries: 0, total_size_mb: 0, entries: {} });
      expect(typeof index.created_at).toBe('string');
    }
    expect(Object.keys(DEFAULT_CATEGORIES).sort()).toEqual([
      'echo_templates', 'fftw_wisdom', 'fractional_kernels', 'mission_graph', 'source_maps', 'state_profiles', 'stencils', 'surrogates',
    ]);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('does no I/O in the constructor', () => {
    const lazy = new CacheManager({ root: join(root, 'not-yet') });
    expect(() => statSync(join(root, 'not-yet'))).toThrow();
    void lazy.close();
  });

  it('takes the root from the option, else DASE_CACHE_DIR, else ./cache', async () => {
    const saved = process.env.DASE_CACHE_DIR;
    try {
      process.env.DASE_CACHE_DIR = join(root, 'from-env');
      const fromEnv = new CacheManager();
      expect(fromEnv.root).toBe(join(root, 'from-env'));
      delete process.env.DASE_CACHE_DIR;
      expect(new CacheManager().root).toBe(join(process.cwd(), 'cache'));
    } finally {
      if (saved === undefined) delete process.env.DASE_CACHE_DIR; else process.env.DASE_CACHE_DIR = saved;
    }
  });

  it('writes <root>/<category>/<key>.<ext> and an index entry whose checksum is the sha256 of the file', async () => {
    const path = await cache.save('fractional_kernels', 'kernel_1.5_0.01_1000', glWeights(1.5, 1000), { metadata: { alpha: 1.5 } });
    expect(path).toBe(join(root, 'fractional_kernels', 'kernel_1.5_0.01_1000.npz'));
    await cache.close();
    const index = readIndex('fractional_kernels');
    const entry = index.entries['kernel_1.5_0.01_1000'];
    const bytes = readFileSync(path);
    expect(entry).toMatchObject({ key: 'kernel_1.5_0.01_1000', size_bytes: bytes.length, access_count: 0, checksum: `sha256:${sha(bytes)}` });
    expect(Date.parse(entry.created_at)).not.toBeNaN();
    expect(Date.parse(entry.last_accessed)).not.toBeNaN();
    expect(index.total_entries).toBe(1);
    expect(index.total_size_mb).toBeCloseTo(bytes.length / 2 ** 20, 3);
    expectIndexAtRest(root);
  });
});

describe('CacheManager: values come back as they were saved', () => {
  const arrays = [
    new Int8Array([-128, 0, 127]), new Uint8Array([0, 255]), new Uint8ClampedArray([0, 200]),
    new Int16Array([-32768, 32767]), new Uint16Array([65535]), new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
    new Uint32Array([2 ** 32 - 1]), new Float32Array([1.5, -0, Infinity, NaN]), new Float64Array([Math.PI, -0, -Infinity, NaN, 5e-324]),
    new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]), new BigUint64Array([2n ** 64n - 1n]), new Float64Array(0),
  ];

  it.each(arrays.map((a) => [a.constructor.name, a] as const))('a %s', async (_, array) => {
    await cache.save('state_profiles', 'p', array);
    const back = await cache.load('state_profiles', 'p');
    expect(back).toBeInstanceOf(array.constructor);
    const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    expect(bytes(back as typeof array)).toEqual(bytes(array)); // bit for bit
    await cache.close();
    expectIndexAtRest(root);
  });

  it('N-D arrays, records of arrays, CSR matrices, JSON, bytes and tensors', async () => {
    const nd = { data: Float32Array.from({ length: 24 }, (_, i) => i), shape: [2, 3, 4] };
    const record = { x: new Float64Array([1, 2]), grid: { data: new Int32Array(6), shape: [2, 3] } };
    const a = laplacian([5, 4], { boundary: 'periodic' });
    const json = { alpha: 0.5, nodes: [{ id: 1, next: [2, 3] }], name: 'mission ✓', ok: true, nothing: null };
    const checkpoint = {
      model_state_dict: { layer1: { weight: { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] }, bias: new Float32Array([0.5, -0.5]) } },
      optimizer_state_dict: { lr: 1e-3, betas: [0.9, 0.999] }, epoch: 7, loss: 0.125,
    };
    await cache.save('echo_templates', 'nd', nd);
    await cache.save('echo_templates', 'record', record);
    await cache.save('stencils', 'csr', a);
    await cache.save('mission_graph', 'graph', json);
    await cache.save('fftw_wisdom', 'bytes', new Uint8Array([1, 2, 3]));
    await cache.save('fftw_wisdom', 'buffer', new Uint8Array([4, 5]).buffer);
    await cache.save('surrogates', 'model', checkpoint);
    await cache.save('surrogates', 'state', { 'fc.weight': new Float64Array([1, 2]) });
    expect(await cache.load('echo_templates', 'nd')).toEqual(nd);
    expect(await cache.load('echo_templates', 'record')).toEqual(record);
    expect(await cache.load('stencils', 'csr')).toEqual(a);
    expect(await cache.load('mission_graph', 'graph')).toEqual(json);
    expect(await cache.load('fftw_wisdom', 'bytes')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await cache.load('fftw_wisdom', 'buffer')).toEqual(new Uint8Array([4, 5]).buffer);
    expect(await cache.load('surrogates', 'model')).toEqual(checkpoint);
    expect(await cache.load('surrogates', 'state')).toEqual({ 'fc.weight': new Float64Array([1, 2]) });
    expect(readdirSync(join(root, 'surrogates')).filter((f) => !f.startsWith('.')).sort()).toEqual(['index.json', 'model.safetensors', 'state.safetensors']);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('a record whose tensor is named model_state_dict, as checkStorable classifies it', async () => {
    const record = { model_state_dict: new Float32Array([1, 2, 3]) };
    expect(() => cache.checkStorable('surrogates', record)).not.toThrow();
    await cache.save('surrogates', 'named', record);
    expect(await cache.load('surrogates', 'named')).toEqual(record);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('keeps metadata and replaces a value whose kind changes', async () => {
    await cache.save('source_maps', 'm', new Float64Array([1]), { metadata: { source: 'test', n: 1 } });
    expect(await cache.loadMetadata('source_maps', 'm')).toEqual({ source: 'test', n: 1 });
    await cache.save('source_maps', 'm', { now: 'json' });
    expect(await cache.load('source_maps', 'm')).toEqual({ now: 'json' });
    expect(await cache.loadMetadata('source_maps', 'm')).toBeUndefined();
    expect(readdirSync(join(root, 'source_maps')).filter((f) => f.startsWith('m.'))).toEqual(['m.json']);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('compresses on request and still loads the same array', async () => {
    const smooth = Float64Array.from({ length: 50_000 }, (_, i) => Math.sin(i / 1000));
    await cache.save('state_profiles', 'plain', smooth);
    await cache.save('state_profiles', 'small', smooth, { compression: 'deflate' });
    expect(await cache.getSize('state_profiles', 'small')).toBeLessThan(await cache.getSize('state_profiles', 'plain'));
    expect(await cache.load('state_profiles', 'small')).toEqual(smooth);
    await cache.close();
    expectIndexAtRest(root);
  });
});

describe('CacheManager: the rest of the API', () => {
  it('exists, delete, listKeys (sorted), getSize, getStats, clearCategory, clearAll', async () => {
    for (const key of ['b', 'a', 'c10', 'c2']) await cache.save('stencils', key, { key });
    expect(await cache.listKeys('stencils')).toEqual(['a', 'b', 'c10', 'c2']);
    expect(await cache.exists('stencils', 'a')).toBe(true);
    expect(await cache.delete('stencils', 'a')).toBe(true);
    expect(await cache.delete('stencils', 'a')).toBe(false);
    expect(await cache.exists('stencils', 'a')).toBe(false);
    await expect(cache.load('stencils', 'a')).rejects.toBeInstanceOf(CacheMissError);
    expect(await cache.getSize('stencils', 'b')).toBe(statSync(join(root, 'stencils', 'b.json')).size);
    const stats = await cache.getStats('stencils');
    expect(stats.total_entries).toBe(3);
    expect(Object.keys(stats.entries)).toEqual(['b', 'c10', 'c2']);
    await cache.save('mission_graph', 'g', [1, 2, 3]);
    const all = await cache.getStats();
    expect(all.total_categories).toBe(8);
    expect(all.categories.mission_graph.total_entries).toBe(1);
    expect(await cache.clearCategory('stencils')).toBe(3);
    expect(await cache.listKeys('stencils')).toEqual([]);
    expect(readdirSync(join(root, 'stencils')).filter((f) => !f.startsWith('.'))).toEqual(['index.json']);
    const cleared = await cache.clearAll();
    expect(cleared.mission_graph).toBe(1);
    expect(Object.values(cleared).reduce((a, b) => a + b, 0)).toBe(1);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('counts accesses without rewriting index.json on reads, and writes the counts on close', async () => {
    await cache.save('stencils', 'k', { x: 1 });
    await cache.close();
    cache = new CacheManager({ root });
    const before = statSync(join(root, 'stencils', 'index.json'));
    for (let i = 0; i < 15; i++) await cache.load('stencils', 'k');
    const during = statSync(join(root, 'stencils', 'index.json'));
    expect(during.mtimeMs).toBe(before.mtimeMs);
    expect(during.ino).toBe(before.ino);
    expect((await cache.getStats('stencils')).entries.k.access_count).toBe(0); // not flushed yet
    await cache.close();
    expect(readIndex('stencils').entries.k.access_count).toBe(15);
    expectIndexAtRest(root);
  });

  it('keeps one view of the index when calls on a category overlap', async () => {
    for (const key of ['k0', 'k1']) await cache.save('stencils', key, { key });
    await cache.close();
    const other = new CacheManager({ root });
    for (let i = 0; i < 3; i++) await other.load('stencils', 'k0');
    await other.close(); // a journal line of access counts, for the overlapping reads below to replay
    cache = new CacheManager({ root });
    await cache.save('stencils', 'k2', { key: 'k2' });
    expect(await Promise.all(['k0', 'k1', 'k2', 'k9'].map((key) => cache.exists('stencils', key)))).toEqual([true, true, true, false]);
    await cache.save('stencils', 'k3', { key: 'k3' });
    expect(await cache.listKeys('stencils')).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect((await cache.getStats('stencils')).entries.k0.access_count).toBe(3);
    await cache.close();
    expectIndexAtRest(root);
  });

  it('extra categories from the options', async () => {
    const custom = new CacheManager({ root, categories: { checkpoints: { kind: 'tensors' }, blobs: { kind: 'bytes' } } });
    await custom.save('blobs', 'x', new Uint8Array([9]));
    expect(await custom.load('blobs', 'x')).toEqual(new Uint8Array([9]));
    expect(readIndex('checkpoints').total_entries).toBe(0);
    await custom.close();
    expect(() => new CacheManager({ root, categories: { 'bad/name': { kind: 'bytes' } } })).toThrow(RangeError);
    expect(() => new CacheManager({ root, categories: { x: { kind: 'blobs' } } as never })).toThrow(/kind to be one of arrays, bytes, tensors/);
    expectIndexAtRest(root);
  });
});

describe('CacheManager: bad input is refused before anything is written', () => {
  it('keys, categories and values', async () => {
    await cache.save('stencils', 'keep', { safe: true });
    const snapshot = () => readdirSync(join(root, 'stencils')).sort();
    const before = snapshot();
    for (const key of ['../escape', 'a/b', '', '.hidden', '-dash', 'x'.repeat(201), 'sp ace', 'ünï']) {
      await expect(cache.save('stencils', key, { x: 1 })).rejects.toThrow(/expected key to match/);
    }
    // Reading accepts the keys another writer may have used (the Python cache: 'sp ace', '-dash'), never a path.
    for (const key of ['../escape', 'a/b', '', '.hidden', 'x'.repeat(256), 'a\\b', 'tab\tkey']) {
      await expect(cache.load('stencils', key)).rejects.toThrow(RangeError);
    }
    for (const key of ['-dash', 'sp ace', 'ünï', 'x'.repeat(201)]) await expect(cache.load('stencils', key)).rejects.toBeInstanceOf(CacheMissError);
    await expect(cache.save('stencils', 42 as unknown as string, {})).rejects.toThrow(TypeError);
    await expect(cache.save('nope', 'k', { x: 1 })).rejects.toThrow(/Unknown cache category/);
    await expect(cache.load('nope', 'k')).rejects.toThrow(/Unknown cache category/);
    await expect(cache.listKeys('nope')).rejects.toThrow(/Unknown cache category/);
    await expect(cache.save('fftw_wisdom', 'w', { not: 'bytes' })).rejects.toThrow(/expects bytes/);
    await expect(cache.save('fftw_wisdom', 'w', new Float64Array(2))).rejects.toThrow(/expects bytes/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await expect(cache.save('stencils', 'cyclic', cyclic)).rejects.toThrow(TypeError);
    await expect(cache.save('stencils', 'fn', { f: () => 1 })).rejects.toThrow(/value\.f/);
    await expect(cache.save('stencils', 'nan', { loss: NaN })).rejects.toThrow(/value\.loss/);
    await expect(cache.save('stencils', 'date', { when: new Date() })).rejects.toThrow(TypeError);
    await expect(cache.save('stencils', 'big', { n: 10n })).rejects.toThrow(TypeError);
    await expect(cache.save('stencils', 'meta', { x: 1 }, { metadata: { f: () => 1 } as never })).rejects.toThrow(/metadata/);
    await expect(cache.save('stencils', 'opt', { x: 1 }, { compresion: 'deflate' } as never)).rejects.toThrow(/unknown option "compresion"/);
    await expect(cache.save('stencils', 'cmp', new Float64Array(1), { compression: 'zstd' as never })).rejects.toThrow(/compression/);
    expect(snapshot()).toEqual(before);
    expect(await cache.load('stencils', 'keep')).toEqual({ safe: true });
    await cache.close();
    expectIndexAtRest(root);
  });

  it('a root that cannot be written gives a clear error', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a folder');
    const bad = new CacheManager({ root: join(file, 'cache') });
    await expect(bad.save('stencils', 'k', { x: 1 })).rejects.toThrow(/cannot open the cache root .*a-file\/cache for writing/);
    if (process.getuid?.() !== 0) {
      const readOnly = join(root, 'ro');
      rmSync(readOnly, { recursive: true, force: true });
      writeFileSync(join(root, 'placeholder'), '');
      chmodSync(root, 0o500);
      try {
        await expect(new CacheManager({ root: readOnly }).save('stencils', 'k', {})).rejects.toThrow(/cannot open the cache root/);
      } finally {
        chmodSync(root, 0o700);
      }
    }
  });
});

describe('CacheManager: damage is detected and repaired', () => {
  async function seeded(): Promise<void> {
    await cache.save('state_profiles', 'a', Float64Array.from({ length: 1000 }, (_, i) => i));
    await cache.save('state_profiles', 'b', { b: 2 });
    await cache.save('state_profiles', 'c', new Int32Array([1, 2, 3]));
    await cache.close();
    cache = new CacheManager({ root });
  }

  it('a flipped byte: IntegrityError, never the data; repair removes the entry', async () => {
    await seeded();
    const path = join(root, 'state_profiles', 'a.npz');
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0x10;
    writeFileSync(path, bytes);
    const error = (await cache.load('state_profiles', 'a').catch((e: unknown) => e)) as IntegrityError;
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error).toMatchObject({ code: 'EINTEGRITY', category: 'state_profiles', key: 'a', path });
    expect(error.message).toContain(path);
    const report = await cache.validate();
    expect(report.ok).toBe(false);
    expect(report.categories.state_profiles.problems).toEqual([expect.objectContaining({ problem: 'checksum_mismatch', key: 'a' })]);
    const repaired = await cache.validate({ repair: true });
    const moved = repaired.categories.state_profiles.actions.find((a) => a.startsWith('quarantined a.npz as '))!;
    expect(moved).toMatch(/^quarantined a\.npz as \.quarantine\/state_profiles\/.*-a\.npz$/);
    // Never deleted: the damaged bytes wait in the quarantine folder, which no reader looks into.
    expect(readFileSync(join(root, moved.slice('quarantined a.npz as '.length)))).toEqual(bytes);
    expect((await cache.validate()).ok).toBe(true);
    expectIndexAtRest(root);
    await expect(cache.load('state_profiles', 'a')).rejects.toBeInstanceOf(CacheMissError);
    expect(await cache.load('state_profiles', 'b')).toEqual({ b: 2 });
  });

  it('a truncated file: IntegrityError', async () => {
    await seeded();
    const path = join(root, 'state_profiles', 'c.npz');
    writeFileSync(path, readFileSync(path).subarray(0, 50));
    await expect(cache.load('state_profiles', 'c')).rejects.toBeInstanceOf(IntegrityError);
  });

  it('a garbage index.json: entries unknown until repair, which rebuilds the index from the files', async () => {
    await seeded();
    writeFileSync(join(root, 'state_profiles', 'index.json'), '{"version": "1.0", "entries": {"a": ');
    const fresh = new CacheManager({ root });
    await expect(fresh.load('state_profiles', 'a')).rejects.toBeInstanceOf(CacheMissError);
    const report = await fresh.validate();
    expect(report.categories.state_profiles.problems.map((p) => p.problem).sort()).toEqual(['index_unreadable', 'orphan_file', 'orphan_file', 'orphan_file']);
    await fresh.validate({ repair: true });
    expect(await fresh.load('state_profiles', 'a')).toEqual(Float64Array.from({ length: 1000 }, (_, i) => i));
    expect(await fresh.load('state_profiles', 'b')).toEqual({ b: 2 });
    expect((await fresh.validate()).ok).toBe(true);
    await fresh.close();
    expect(readIndex('state_profiles').total_entries).toBe(3);
    expectIndexAtRest(root);
  });

  it('a data file deleted behind its entry: a miss; repair drops the entry', async () => {
    await seeded();
    rmSync(join(root, 'state_profiles', 'b.json'));
    await expect(cache.load('state_profiles', 'b')).rejects.toBeInstanceOf(CacheMissError);
    expect((await cache.validate()).categories.state_profiles.problems).toEqual([expect.objectContaining({ problem: 'missing_file', key: 'b' })]);
    await cache.validate({ repair: true });
    expect(await cache.listKeys('state_profiles')).toEqual(['a', 'c']);
    expectIndexAtRest(root);
  });

  it('leftover temporary files are reported and removed by repair', async () => {
    await seeded();
    const temp = join(root, 'state_profiles', '.tmp-999999-deadbeef');
    writeFileSync(temp, 'half a file');
    const old = new Date(Date.now() - 3_600_000);
    const { utimesSync } = await import('node:fs');
    utimesSync(temp, old, old);
    expect((await cache.validate()).categories.state_profiles.problems).toEqual([expect.objectContaining({ problem: 'temp_file' })]);
    await cache.validate({ repair: true });
    expect(() => statSync(temp)).toThrow();
    expectIndexAtRest(root);
  });
});

describe('CacheManager: many entries', () => {
  it('keeps index.json complete while the journal is folded in as the category grows', async () => {
    for (let i = 0; i < 1200; i++) await cache.save('echo_templates', `t${i}`, { i });
    const index = readIndex('echo_templates'); // compacted at least once along the way, not yet at close
    expect(index.total_entries).toBeGreaterThan(0);
    await cache.close();
    expect(readIndex('echo_templates').total_entries).toBe(1200);
    const reopened = new CacheManager({ root });
    expect((await reopened.listKeys('echo_templates')).length).toBe(1200);
    expect(await reopened.load('echo_templates', 't777')).toEqual({ i: 777 });
    await reopened.close();
    expectIndexAtRest(root);
  });
});

const python = spawnSync('python3', ['-c', 'import numpy, scipy'], { encoding: 'utf8' });
const hasPython = python.status === 0;
if (!hasPython) console.warn('cache interop test skipped: python3 with numpy and scipy is not available');

describe.skipIf(!hasPython)('CacheManager: files Python reads', () => {
  it('numpy.load and scipy.sparse.load_npz read the cache files; index.json checksums match hashlib', async () => {
    const w = glWeights(0.5, 100);
    await cache.save('fractional_kernels', 'kernel_0.5_0.01_100', w);
    await cache.save('stencils', 'laplacian_2d_6_5_dirichlet', laplacian([6, 5]));
    await cache.save('state_profiles', 'profile', { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
    await cache.close();
    const script = `
import json, hashlib, sys, numpy as np, scipy.sparse as sp
root = sys.argv[1]
w = np.load(f"{root}/fractional_kernels/kernel_0.5_0.01_100.npz")["data"]
a = sp.load_npz(f"{root}/stencils/laplacian_2d_6_5_dirichlet.npz")
p = np.load(f"{root}/state_profiles/profile.npz")["data"]
idx = json.load(open(f"{root}/stencils/index.json"))
e = idx["entries"]["laplacian_2d_6_5_dirichlet"]
digest = hashlib.sha256(open(f"{root}/stencils/" + e["key"] + ".npz", "rb").read()).hexdigest()
print(json.dumps({"w": w[:4].tolist(), "wdtype": str(w.dtype), "a_shape": list(a.shape), "a_nnz": int(a.nnz),
  "a_center": float(a[7, 7]), "p": p.tolist(), "pdtype": str(p.dtype), "checksum_ok": e["checksum"] == "sha256:" + digest}))
`;
    const run = spawnSync('python3', ['-c', script, root], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout);
    expect(out).toEqual({
      w: [...w.subarray(0, 4)], wdtype: 'float64', a_shape: [30, 30], a_nnz: laplacian([6, 5]).data.length,
      a_center: -4, p: [[1, 2, 3], [4, 5, 6]], pdtype: 'float32', checksum_ok: true,
    });
  });
});
