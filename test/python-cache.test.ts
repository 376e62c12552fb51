// A cache root written by the Python cache (test/fixtures/make_python_cache.py: its index schema, numpy's
// savez_compressed, .meta.json companions, checksums turned off, keys outside our pattern, torch.save state
// dicts): every entry loads, validate is clean, repair deletes nothing, history survives.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CacheManager, npyStrings } from '../src/node.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/make_python_cache.py', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'dist/cli/main.js'); // built by the global setup

/** Debian's /usr/bin/python3 when it has numpy and torch (for real .pt files), else the python3 on PATH. */
function python(): { exe: string; torch: boolean } {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy, torch'], { stdio: 'ignore' });
    return { exe: '/usr/bin/python3', torch: true };
  } catch {
    return { exe: 'python3', torch: false };
  }
}

let template: string;
let root: string;
let cache: CacheManager;
const { exe, torch } = python();

// Written once (starting Python with torch takes a second), copied for each test.
beforeAll(() => {
  template = mkdtempSync(join(tmpdir(), 'dase-python-cache-template-'));
  execFileSync(exe, [SCRIPT, template]);
});
afterAll(() => rmSync(template, { recursive: true, force: true }));

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dase-python-cache-'));
  cpSync(template, root, { recursive: true });
  cache = new CacheManager({ root });
});

afterEach(async () => {
  await cache.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

/** Every file under the root but the cache's own (journals, locks): what repair must never delete. */
const userFiles = () => readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((p) => !p.split('/').some((part) => part.startsWith('.')) && !p.endsWith('index.json') && p.includes('.')).sort();

describe('a cache the Python cache wrote', () => {
  it('loads every entry with its value and metadata, including keys outside the pattern and unverified ones', async () => {
    expect(await cache.listKeys('fractional_kernels')).toEqual(['_private', 'dtypes', 'kernel alpha=1.5', 'kernel_1.5_0.01_1000']);
    // Dtypes without a typed array of their own, as npy.ts represents them: bool as 0/1 bytes, float16 widened
    // to float32, complex as interleaved real and imaginary parts, unicode as code points (npyStrings reads them).
    const dtypes = await cache.load('fractional_kernels', 'dtypes') as Record<string, { data: ArrayLike<number>; shape: number[]; dtype: string }>;
    expect(dtypes.b).toEqual({ data: new Uint8Array([1, 0, 1]), shape: [3], dtype: '|b1' });
    expect(dtypes.h).toEqual({ data: new Float32Array([1.5, -0, 65504]), shape: [3], dtype: '<f2' });
    expect(dtypes.c).toEqual({ data: new Float32Array([1, 2]), shape: [1], dtype: '<c8' });
    expect(dtypes.z).toEqual({ data: new Float64Array([3, -4, 0, 0.5]), shape: [1, 2], dtype: '<c16' });
    expect(npyStrings(dtypes.s as never)).toEqual(['ab', 'xyz']);
    const kernel = await cache.load('fractional_kernels', 'kernel_1.5_0.01_1000') as Float64Array;
    expect(kernel).toBeInstanceOf(Float64Array);
    expect(kernel.length).toBe(1000);
    expect(kernel[999]).toBe(1);
    expect(await cache.load('fractional_kernels', 'kernel alpha=1.5')).toEqual({ data: new Int32Array([0, 1, 2, 3, 4, 5]), shape: [2, 3] });
    expect(await cache.load('fractional_kernels', '_private')).toEqual({
      a: { data: new Float64Array([1, 1, 1]), shape: [3] }, b: { data: new Float32Array(4), shape: [2, 2] },
    });
    expect(await cache.load('mission_graph', 'graph_v1')).toEqual({ nodes: [1, 2, 3], edges: [[1, 2], [2, 3]] });
    expect(await cache.load('fftw_wisdom', 'plan_1024')).toEqual(new TextEncoder().encode('(fftw-3.3.10 fftw_wisdom)'));
    expect(await cache.loadMetadata('fftw_wisdom', 'plan_1024')).toEqual({ n: 1024, planner: 'measure' });
    expect(await cache.exists('fractional_kernels', 'kernel alpha=1.5')).toBe(true);
    if (torch) {
      expect(await cache.load('surrogates', 'model_v1')).toEqual({
        'fc.weight': { data: new Float32Array([0, 1, 2, 3, 4, 5]), shape: [2, 3], dtype: 'F32' },
        'fc.bias': { data: new Float32Array([0.5, -1]), shape: [2], dtype: 'F32' },
      });
    } else {
      console.warn('skipped the .pt entry: needs Debian\'s python3-torch and python3-numpy for /usr/bin/python3');
    }
  });

  it('validates clean (unverified entries reported, not repaired), and repair deletes nothing', async () => {
    const before = userFiles();
    const report = await cache.validate();
    expect(report.ok).toBe(true);
    expect(Object.values(report.categories).flatMap((c) => c.problems)).toEqual([]);
    expect(report.categories.fractional_kernels.kept).toEqual([expect.objectContaining({ reason: 'unverified', key: '_private' })]);
    await cache.validate({ repair: true });
    expect(userFiles()).toEqual(before);
    expect((await cache.validate()).ok).toBe(true);
    expect(await cache.loadMetadata('fftw_wisdom', 'plan_1024')).toEqual({ n: 1024, planner: 'measure' });
  });

  it('keeps the access history through loads, compaction and reopening', async () => {
    await cache.load('fractional_kernels', 'kernel_1.5_0.01_1000');
    await cache.load('fractional_kernels', 'kernel alpha=1.5'); // never loaded by Python: last_accessed null
    await cache.close();
    const index = JSON.parse(readFileSync(join(root, 'fractional_kernels', 'index.json'), 'utf8'));
    expect(index.entries['kernel_1.5_0.01_1000']).toMatchObject({ access_count: 4, created_at: '2025-03-01T12:00:00.123456Z' });
    expect(index.entries['kernel alpha=1.5'].access_count).toBe(1);
    expect(typeof index.entries['kernel alpha=1.5'].last_accessed).toBe('string');
    cache = new CacheManager({ root });
    expect(await cache.delete('fractional_kernels', 'kernel alpha=1.5')).toBe(true);
    expect(existsSync(join(root, 'fractional_kernels', 'kernel alpha=1.5.npz'))).toBe(false);
  });

  it('moves a damaged file to the quarantine instead of deleting it', async () => {
    const file = join(root, 'fractional_kernels', 'kernel_1.5_0.01_1000.npz');
    const bytes = readFileSync(file);
    bytes[100] ^= 0xff;
    writeFileSync(file, bytes);
    const report = await cache.validate();
    expect(report.categories.fractional_kernels.problems).toEqual([expect.objectContaining({ problem: 'checksum_mismatch', repair: 'quarantine' })]);
    await cache.validate({ repair: true });
    const quarantined = readdirSync(join(root, '.quarantine', 'fractional_kernels'));
    expect(quarantined).toHaveLength(1);
    expect(readFileSync(join(root, '.quarantine', 'fractional_kernels', quarantined[0]))).toEqual(bytes);
    expect(await cache.listKeys('fractional_kernels')).toEqual(['_private', 'dtypes', 'kernel alpha=1.5']);
  });

  it('dase-cache ls and info show every entry\'s kind, dtype, shape and history', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--root', root, '--json'], { cwd: REPO, encoding: 'utf8' });
    const ls = cli('ls');
    expect(ls.status, ls.stderr).toBe(0);
    const entries = (JSON.parse(ls.stdout) as { entries: { key: string; kind: string; dtype: string | null; shape: number[] | null }[] }).entries;
    expect(entries.find((e) => e.key === 'kernel alpha=1.5')).toMatchObject({ kind: 'ndarray', dtype: '<i4', shape: [2, 3] });
    expect(entries.find((e) => e.key === 'kernel_1.5_0.01_1000')).toMatchObject({ kind: 'array', dtype: '<f8', shape: [1000] });
    expect(entries.every((e) => e.kind !== 'unknown')).toBe(true);
    const info = cli('info', 'fractional_kernels', 'kernel alpha=1.5');
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ entry: { access_count: 0, last_accessed: null } });
    for (const e of entries as unknown as { category: string; key: string }[]) {
      const each = cli('info', e.category, e.key);
      expect(each.status, `${e.category}/${e.key}: ${each.stderr}`).toBe(0);
      expect(JSON.parse(each.stdout).preview, `${e.category}/${e.key}`).not.toBeNull();
    }
  });

  it('sees an entry the Python cache adds while a manager has the root open, and keeps its own unfolded saves', async () => {
    await cache.save('fractional_kernels', 'first', new Float64Array([0]));
    await cache.checkpoint(); // index.json now names the journal that goes on: .journal-1
    await cache.save('fractional_kernels', 'ours', new Float64Array([1, 2, 3])); // in that journal, not yet in index.json
    // What the Python cache's save does: savez_compressed, then index.json rewritten whole, in place.
    execFileSync('python3', ['-c', `
import hashlib, json, sys, numpy as np
folder = sys.argv[1]
np.savez_compressed(folder + '/theirs.npz', data=np.arange(4.0))
data = open(folder + '/theirs.npz', 'rb').read()
index = json.load(open(folder + '/index.json'))
index.pop('journal', None)
index['entries']['theirs'] = {'key': 'theirs', 'created_at': '2025-03-02T00:00:00Z', 'size_bytes': len(data),
  'access_count': 0, 'last_accessed': None, 'checksum': 'sha256:' + hashlib.sha256(data).hexdigest()}
index['total_entries'] = len(index['entries'])
open(folder + '/index.json', 'w').write(json.dumps(index, indent=2))
`, join(root, 'fractional_kernels')]);
    expect(await cache.listKeys('fractional_kernels')).toEqual(['_private', 'dtypes', 'first', 'kernel alpha=1.5', 'kernel_1.5_0.01_1000', 'ours', 'theirs']);
    expect(await cache.load('fractional_kernels', 'theirs')).toEqual(new Float64Array([0, 1, 2, 3]));
    expect(await cache.load('fractional_kernels', 'ours')).toEqual(new Float64Array([1, 2, 3]));
    await cache.close();
    const index = JSON.parse(readFileSync(join(root, 'fractional_kernels', 'index.json'), 'utf8'));
    expect(Object.keys(index.entries).sort()).toEqual(['_private', 'dtypes', 'first', 'kernel alpha=1.5', 'kernel_1.5_0.01_1000', 'ours', 'theirs']);
  });

  it('dase-cache convert rewrites entries in this cache\'s formats, which NumPy and a safetensors reader read back', async () => {
    await cache.close();
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--root', root, '--json'], { cwd: REPO, encoding: 'utf8' });
    const before = await new CacheManager({ root }).load('fractional_kernels', 'kernel_1.5_0.01_1000');
    const one = cli('convert', 'fractional_kernels', 'kernel_1.5_0.01_1000', '--to', 'npz');
    expect(one.status, one.stderr).toBe(0);
    const all = cli('convert', '--all');
    expect(all.status, all.stderr).toBe(0);
    const { converted, skipped } = JSON.parse(all.stdout) as { converted: { key: string; to: string }[]; skipped: { key: string }[] };
    expect(skipped.map((s) => s.key).sort()).toEqual(['_private', 'kernel alpha=1.5']); // keys new saves refuse
    if (torch) expect(converted.find((c) => c.key === 'model_v1')?.to).toBe('model_v1.safetensors');
    cache = new CacheManager({ root });
    expect(await cache.load('fractional_kernels', 'kernel_1.5_0.01_1000')).toEqual(before);
    expect(await cache.loadMetadata('fftw_wisdom', 'plan_1024')).toEqual({ n: 1024, planner: 'measure' });
    const index = JSON.parse(readFileSync(join(root, 'fractional_kernels', 'index.json'), 'utf8'));
    expect(index.entries['kernel_1.5_0.01_1000']).toMatchObject({ access_count: 3, value: { kind: 'array' } });
    // Outside readers: NumPy loads the converted .npz; the safetensors layout (u64 header length, JSON header, raw data) parses.
    const check = execFileSync(exe, ['-c', `
import json, struct, sys, numpy as np
root = sys.argv[1]
print(float(np.load(root + '/fractional_kernels/kernel_1.5_0.01_1000.npz')['data'][-1]))
if sys.argv[2] == '1':
    raw = open(root + '/surrogates/model_v1.safetensors', 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    start, end = header['fc.weight']['data_offsets']
    print(np.frombuffer(raw[8 + n + start:8 + n + end], dtype='<f4').tolist())
`, root, torch ? '1' : '0'], { encoding: 'utf8' });
    expect(check.trim().split('\n')[0]).toBe('1.0');
    if (torch) {
      expect(check.trim().split('\n')[1]).toBe('[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]');
      expect(existsSync(join(root, 'surrogates', 'model_v1.pt'))).toBe(false);
    }
    expect((await cache.validate()).ok).toBe(true);
  });

  it('the other way: a root dase-cache wrote is listed, verified and loaded by a reader using only json, hashlib and numpy', async () => {
    const ours = mkdtempSync(join(tmpdir(), 'dase-for-python-'));
    try {
      const writer = new CacheManager({ root: ours });
      await writer.save('fractional_kernels', 'kernel_0.5_0.01_8', new Float64Array([1, -0.5, -0.125]));
      await writer.save('stencils', 'grid', { u: { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] }, v: new Int16Array([7]) });
      await writer.save('mission_graph', 'graph', { nodes: [1, 2] });
      await writer.close();
      const read = execFileSync(exe, ['-c', `
import hashlib, json, os, sys, numpy as np
root = sys.argv[1]
out = {}
for category in sorted(os.listdir(root)):
    index_path = os.path.join(root, category, 'index.json')
    if not os.path.isfile(index_path):
        continue
    for key, entry in json.load(open(index_path))['entries'].items():
        path = os.path.join(root, category, entry['file'])
        data = open(path, 'rb').read()
        assert entry['checksum'] == 'sha256:' + hashlib.sha256(data).hexdigest(), key
        if path.endswith('.npz'):
            with np.load(path) as z:
                out[key] = {name: z[name].tolist() for name in z.files}
        else:
            out[key] = json.loads(data)
print(json.dumps(out, sort_keys=True))
`, ours], { encoding: 'utf8' });
      expect(JSON.parse(read)).toEqual({
        'kernel_0.5_0.01_8': { data: [1, -0.5, -0.125] },
        grid: { u: [[1, 2], [3, 4]], v: [7] },
        graph: { nodes: [1, 2] },
      });
    } finally {
      rmSync(ours, { recursive: true, force: true });
    }
  });

  it('never lists, reads or drops an entry whose key would name a path outside the category folder', async () => {
    await cache.close();
    const path = join(root, 'mission_graph', 'index.json');
    const index = JSON.parse(readFileSync(path, 'utf8'));
    for (const key of ['../escape', '.hidden']) index.entries[key] = { ...index.entries.graph_v1, key };
    writeFileSync(path, JSON.stringify(index));
    cache = new CacheManager({ root });
    expect(await cache.listKeys('mission_graph')).toEqual(['graph_v1']);
    const report = await cache.validate({ repair: true });
    expect(report.categories.mission_graph.kept.map((k) => [k.reason, k.key])).toEqual([['unsafe_key', '../escape'], ['unsafe_key', '.hidden']]);
    await cache.close();
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).entries).sort()).toEqual(['../escape', '.hidden', 'graph_v1']);
  });
});
