// The codecs against NumPy and SciPy themselves: numpy.load and scipy.sparse.load_npz read our files, and we
// read what numpy.save, savez, savez_compressed and scipy.sparse.save_npz write. Skipped without python3.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, type NdArray, type TypedArray } from '../src/cache/formats/npy.js';
import { decodeNpz, encodeNpz } from '../src/cache/formats/npz.js';
import { decodeCsrNpz, encodeCsrNpz } from '../src/cache/formats/sparse.js';
import { laplacian } from '../src/kernels/laplacian.js';
import type { CsrMatrix } from '../src/kernels/csr.js';
import { bytesOf, nodeSha256Hex } from './fixtures/util.js';

const probe = spawnSync('python3', ['-c', 'import numpy, scipy'], { encoding: 'utf8', timeout: 30_000 });
const havePython = probe.status === 0;
if (!havePython) {
  console.warn(`npy-interop: skipping the NumPy/SciPy interop tests: \`python3 -c "import numpy, scipy"\` failed `
    + `(${probe.error?.message ?? probe.stderr.trim().split('\n').pop()})`);
}

function python(script: string, ...args: string[]): string {
  const run = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.error?.message ?? run.stderr}`);
  return run.stdout;
}

const sha = (a: ArrayBufferView) => nodeSha256Hex(bytesOf(a));
const hex = (a: ArrayBufferView) => Buffer.from(bytesOf(a)).toString('hex');

type Summary = { descr: string; shape: number[]; sha: string; resaved_identical?: boolean };

// Reads each file we wrote with numpy.load / scipy.sparse.load_npz and describes what it found.
const READ_OURS = String.raw`
import hashlib, io, json, os, sys
import numpy as np, scipy.sparse as sp
root = sys.argv[1]
def summary(a):
    return {'descr': a.dtype.str, 'shape': list(a.shape), 'sha': hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()}
out = {}
for name, kind in json.load(open(os.path.join(root, 'manifest.json'))).items():
    path = os.path.join(root, name)
    if kind == 'npy':
        a = np.load(path)
        buf = io.BytesIO(); np.save(buf, a)
        out[name] = dict(summary(a), resaved_identical=buf.getvalue() == open(path, 'rb').read())
    elif kind == 'npz':
        with np.load(path) as z:
            out[name] = {k: summary(z[k]) for k in z.files}
    else:
        m = sp.load_npz(path)
        out[name] = {'cls': type(m).__name__, 'format': m.format, 'shape': list(m.shape),
                     'indptr': m.indptr.tolist(), 'indices': m.indices.tolist(), 'data': m.data.tobytes().hex(),
                     'dtypes': [m.indptr.dtype.str, m.indices.dtype.str, m.data.dtype.str]}
print(json.dumps(out))
`;

// Writes files the way NumPy and SciPy users do, with the C-order little-endian bytes each should decode to.
const WRITE_THEIRS = String.raw`
import json, os, sys
import numpy as np, scipy.sparse as sp
from numpy.lib import format as npf
root = sys.argv[1]
def le_hex(a):
    b = np.ascontiguousarray(a)
    if b.dtype.byteorder == '>':
        b = b.byteswap().view(b.dtype.newbyteorder('<'))
    return b.tobytes().hex()
def expect(a):
    return {'descr': np.dtype(a.dtype).newbyteorder('<').str, 'shape': list(a.shape), 'hex': le_hex(a)}
manifest = {}
def save(name, a, version=None):
    path = os.path.join(root, name)
    if version is None:
        np.save(path, a)
    else:
        with open(path, 'wb') as f: npf.write_array(f, a, version=version)
    manifest[name] = {'kind': 'npy', 'arrays': {'': expect(a)}}
def extremes(dt):
    dt = np.dtype(dt)
    if dt.kind == 'f':
        fi = np.finfo(dt)
        a = np.array([fi.min, fi.max, fi.tiny, -0.0, np.inf, -np.inf, np.nan, 0.1], dtype=dt)
        bits = np.dtype('u%d' % dt.itemsize)
        a[7] = np.array([(1 << (dt.itemsize * 8 - 1)) - 1], dtype=bits).view(dt)[0]  # NaN, all payload bits
        return a.reshape(2, 4)
    ii = np.iinfo(dt)
    return np.array([ii.min, ii.max, 0, 1, ii.max // 3, ii.min // 2 if ii.min else 5, 7, 2], dtype=dt).reshape(2, 4)
for t in ['i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f4', 'f8']:
    for order in '<>':
        a = extremes(order + t)
        save(f'ext_{order == "<" and "le" or "be"}_{t}.npy', a)
        f = np.asfortranarray((np.arange(24).reshape(2, 3, 4) * 3).astype(order + t))
        assert np.isfortran(f) and a.dtype.str == f.dtype.str == np.dtype(order + t).str
        save(f'fortran_{order == "<" and "le" or "be"}_{t}.npy', f)
save('scalar.npy', np.array(np.pi))
save('empty.npy', np.zeros((0, 3)))
save('bytes.npy', np.array(b'csr'))
save('bools.npy', np.array([[True, False], [False, True]]))
save('v2.npy', np.arange(5, dtype='>i4'), version=(2, 0))
save('v3.npy', np.arange(5.0), version=(3, 0))
members = {'x': np.linspace(0, 1, 7), 'big': np.asfortranarray(np.arange(6, dtype='>i8').reshape(2, 3)), 'arr_0': np.int16(-3)}
assert members['big'].dtype.str == '>i8' and np.isfortran(members['big'])
np.savez(os.path.join(root, 'plain.npz'), **members)
np.savez_compressed(os.path.join(root, 'compressed.npz'), **members)
for name in ['plain.npz', 'compressed.npz']:
    manifest[name] = {'kind': 'npz', 'arrays': {k: expect(np.asarray(v)) for k, v in members.items()}}
dense = np.array([[0, 1.5, 0, -2], [0, 0, 0, 0], [np.pi, 0, 0, 1e-300]])
def csr(name, m, compressed=True):
    sp.save_npz(os.path.join(root, name), m, compressed=compressed)
    c = sp.csr_matrix(m)
    manifest[name] = {'kind': 'csr', 'shape': list(c.shape), 'indptr': c.indptr.tolist(), 'indices': c.indices.tolist(),
                      'data': c.data.astype('<f8').tobytes().hex()}
csr('csr_compressed.npz', sp.csr_matrix(dense))
csr('csr_stored.npz', sp.csr_matrix(dense), compressed=False)
csr('csr_array.npz', sp.csr_array(dense))
wide = sp.csr_matrix(dense); wide.indices = wide.indices.astype(np.int64); wide.indptr = wide.indptr.astype(np.int64)
csr('csr_int64.npz', wide)
csr('csr_float32.npz', sp.csr_matrix(dense.astype(np.float32)))
csr('csr_big.npz', sp.random(200, 300, density=0.05, format='csr', rng=np.random.default_rng(7)))
sp.save_npz(os.path.join(root, 'csc.npz'), sp.csc_matrix(dense))
json.dump(manifest, open(os.path.join(root, 'manifest.json'), 'w'))
print(json.dumps({k: v['kind'] for k, v in manifest.items()}))
`;

const KIND_OF_DESCR: Record<string, string> = {
  '|i1': 'Int8Array', '|u1': 'Uint8Array', '<i2': 'Int16Array', '<u2': 'Uint16Array', '<i4': 'Int32Array',
  '<u4': 'Uint32Array', '<i8': 'BigInt64Array', '<u8': 'BigUint64Array', '<f4': 'Float32Array', '<f8': 'Float64Array',
};

describe.skipIf(!havePython)('NumPy and SciPy interop', () => {
  let dir = '';
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'dase-npy-')); });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('numpy.load reads our .npy and .npz exactly, numpy.save writes the same .npy bytes, load_npz reads our CSR', () => {
    const npy: Record<string, NdArray> = {};
    const nan = new Float64Array(3);
    new DataView(nan.buffer).setBigUint64(0, 0x7ff8000000000abcn, true);
    nan[1] = -0; nan[2] = -Infinity;
    const typed: TypedArray[] = [
      new Int8Array([-128, 127, 0]), new Uint8Array([0, 255, 1]), new Uint8ClampedArray([0, 255, 9]),
      new Int16Array([-32768, 32767, 0]), new Uint16Array([0, 65535, 1]),
      new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]), new Uint32Array([0, 2 ** 32 - 1, 1]),
      new Float32Array([-3.4028234663852886e38, 1.401298464324817e-45, NaN]), nan,
      new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]), new BigUint64Array([0n, 2n ** 64n - 1n, 1n]),
    ];
    typed.forEach((data) => { npy[`${data.constructor.name}.npy`] = { data, shape: [3] }; });
    npy['cube.npy'] = { data: Float64Array.from({ length: 24 }, (_, i) => Math.sin(i)), shape: [2, 3, 4] };
    npy['scalar.npy'] = { data: new BigInt64Array([-5n]), shape: [] };
    npy['empty.npy'] = { data: new Float32Array(0), shape: [2, 0, 4] };
    npy['long_axis.npy'] = { data: new Int16Array(1234), shape: [1234] };
    npy['bytes.npy'] = { data: new Uint8Array([0x63, 0x73, 0x72]), shape: [], dtype: '|S3' };
    npy['bools.npy'] = { data: new Uint8Array([1, 0, 0]), shape: [3], dtype: '|b1' };
    const record: Record<string, NdArray> = { a: npy['cube.npy'], b: npy['BigInt64Array.npy'], flags: npy['bools.npy'] };
    const csr: Record<string, CsrMatrix> = {
      'lap.npz': laplacian([5, 4], { boundary: 'neumann', accuracy: 4 }),
      'rect.npz': { shape: [2, 5], indptr: new Int32Array([0, 2, 2]), indices: new Int32Array([4, 1]), data: new Float64Array([0.1, -7]) },
    };

    const manifest: Record<string, string> = {};
    for (const [name, a] of Object.entries(npy)) { writeFileSync(join(dir, name), encodeNpy(a)); manifest[name] = 'npy'; }
    writeFileSync(join(dir, 'stored.npz'), encodeNpz(record));
    writeFileSync(join(dir, 'deflated.npz'), encodeNpz(record, { compression: 'deflate' }));
    manifest['stored.npz'] = manifest['deflated.npz'] = 'npz';
    for (const [name, a] of Object.entries(csr)) { writeFileSync(join(dir, name), encodeCsrNpz(a, { compression: 'deflate' })); manifest[name] = 'csr'; }
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));

    const seen = JSON.parse(python(READ_OURS, dir)) as Record<string, any>;
    const expected = (a: NdArray): Summary => ({ descr: a.dtype ?? encodeNpyDescr(a), shape: a.shape, sha: sha(a.data) });
    for (const [name, a] of Object.entries(npy)) {
      expect(seen[name], name).toEqual({ ...expected(a), resaved_identical: true });
    }
    for (const name of ['stored.npz', 'deflated.npz']) {
      expect(seen[name]).toEqual(Object.fromEntries(Object.entries(record).map(([k, a]) => [k, expected(a)])));
    }
    for (const [name, a] of Object.entries(csr)) {
      expect(seen[name], name).toEqual({
        cls: 'csr_matrix', format: 'csr', shape: a.shape, indptr: Array.from(a.indptr), indices: Array.from(a.indices),
        data: hex(a.data), dtypes: ['<i4', '<i4', '<f8'],
      });
    }
  });

  it('decodes what numpy.save, savez, savez_compressed and scipy.sparse.save_npz write', () => {
    const kinds = JSON.parse(python(WRITE_THEIRS, dir)) as Record<string, string>;
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, any>;
    expect(Object.keys(kinds).length).toBeGreaterThan(40);
    const check = (where: string, a: NdArray, e: { descr: string; shape: number[]; hex: string }) => {
      expect(a.shape, where).toEqual(e.shape);
      expect(hex(a.data), where).toBe(e.hex);
      if (e.descr.startsWith('|S') || e.descr === '|b1') expect(a.dtype, where).toBe(e.descr);
      else expect(a.data.constructor.name, where).toBe(KIND_OF_DESCR[e.descr]);
    };
    for (const [name, entry] of Object.entries(manifest)) {
      const file = readFileSync(join(dir, name));
      if (entry.kind === 'npy') check(name, decodeNpy(file), entry.arrays['']);
      else if (entry.kind === 'npz') {
        const arrays = decodeNpz(file);
        expect(Object.keys(arrays).sort(), name).toEqual(Object.keys(entry.arrays).sort());
        for (const [k, e] of Object.entries(entry.arrays)) check(`${name}:${k}`, arrays[k], e as never);
      } else {
        const m = decodeCsrNpz(file);
        expect(m.shape, name).toEqual(entry.shape);
        expect(Array.from(m.indptr), name).toEqual(entry.indptr);
        expect(Array.from(m.indices), name).toEqual(entry.indices);
        expect(m.indices).toBeInstanceOf(Int32Array);
        expect(hex(m.data), name).toBe(entry.data);
      }
    }
    expect(() => decodeCsrNpz(readFileSync(join(dir, 'csc.npz')))).toThrow(`decodeCsrNpz: expected a sparse matrix in 'csr' format, got format "csc"`);
  });
});

/** The descr our encoder writes for an array (read back from the file, so the test does not restate it). */
function encodeNpyDescr(a: NdArray): string {
  const file = encodeNpy(a);
  return /'descr': '([^']+)'/.exec(new TextDecoder().decode(file.subarray(10, 80)))![1];
}
