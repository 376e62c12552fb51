// The .npy, .npz and save_npz codecs on their own: round trips, NumPy's header layout, byte orders,
// Fortran order and malformed files (files from NumPy itself are in npy-interop.test.ts).
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { decodeNpy, encodeNpy, npyDescr, type NdArray, type TypedArray } from '../src/cache/formats/npy.js';
import { decodeNpz, encodeNpz } from '../src/cache/formats/npz.js';
import { csrFromNpzEntries, csrToNpzEntries, decodeCsrNpz, encodeCsrNpz, isCsrNpz } from '../src/cache/formats/sparse.js';
import { laplacian } from '../src/kernels/laplacian.js';
import type { CsrMatrix } from '../src/kernels/csr.js';
import { bytesOf } from './fixtures/util.js';

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** The header text of a version 1.0 file, padding and newline included. */
function headerText(file: Uint8Array): string {
  return latin1(file.subarray(10, 10 + (file[8] | (file[9] << 8))));
}

/** A .npy file with the given header dict text, padded to 64 as NumPy does. */
function craft(dict: string, data: Uint8Array, version: 1 | 2 | 3 = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const text = new TextEncoder().encode(dict);
  const len = text.length + 1 + (64 - ((prefix + text.length + 1) % 64));
  const out = new Uint8Array(prefix + len + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, len, true); else view.setUint32(8, len, true);
  out.fill(0x20, prefix, prefix + len - 1);
  out.set(text, prefix);
  out[prefix + len - 1] = 0x0a;
  out.set(data, prefix + len);
  return out;
}

/** The bytes of each `size`-byte element reversed (a second, independent byte swap). */
function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i - (i % size) + size - 1 - (i % size)];
  return out;
}

/** C-order values laid out in Fortran order (first axis fastest). */
function toFortran<T>(values: T[], shape: number[]): T[] {
  const out = new Array<T>(values.length);
  values.forEach((v, c) => {
    let f = 0, stride = 1, rest = c;
    const index = shape.map(() => 0);
    for (let d = shape.length - 1; d >= 0; d--) { index[d] = rest % shape[d]; rest = Math.floor(rest / shape[d]); }
    for (let d = 0; d < shape.length; d++) { f += index[d] * stride; stride *= shape[d]; }
    out[f] = v;
  });
  return out;
}

const EXTREMES: Array<[TypedArray, string]> = [
  [new Int8Array([-128, -1, 0, 1, 127]), '|i1'],
  [new Uint8Array([0, 1, 128, 255, 7]), '|u1'],
  [new Uint8ClampedArray([0, 1, 128, 255, 7]), '|u1'],
  [new Int16Array([-32768, -1, 0, 1, 32767]), '<i2'],
  [new Uint16Array([0, 1, 256, 65535, 7]), '<u2'],
  [new Int32Array([-(2 ** 31), -1, 0, 1, 2 ** 31 - 1]), '<i4'],
  [new Uint32Array([0, 1, 2 ** 16, 2 ** 32 - 1, 7]), '<u4'],
  [new Float32Array([-3.4028234663852886e38, -1.5, 1.401298464324817e-45, 0.1, Infinity]), '<f4'],
  [new Float64Array([-Number.MAX_VALUE, -1.5, Number.MIN_VALUE, 0.1, -Infinity]), '<f8'],
  [new BigInt64Array([-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n]), '<i8'],
  [new BigUint64Array([0n, 1n, 2n ** 32n, 2n ** 64n - 1n, 7n]), '<u8'],
];

describe('encodeNpy / decodeNpy', () => {
  it('round-trips every dtype, extremes included, with the little-endian descr', () => {
    for (const [data, descr] of EXTREMES) {
      expect(npyDescr(data)).toBe(descr);
      const file = encodeNpy({ data, shape: [5] });
      expect(headerText(file)).toContain(`'descr': '${descr}'`);
      const back = decodeNpy(file);
      const kind = data instanceof Uint8ClampedArray ? Uint8Array : data.constructor;
      expect(back.data.constructor).toBe(kind);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(data as ArrayLike<number | bigint>));
      expect(back.shape).toEqual([5]);
      expect(back.dtype).toBeUndefined();
    }
  });

  it('decodes Uint8ClampedArray back as itself when asked, and refuses a kind that does not match', () => {
    const file = encodeNpy({ data: new Uint8ClampedArray([0, 200, 255]), shape: [3] });
    const back = decodeNpy(file, { as: Uint8ClampedArray });
    expect(back.data).toBeInstanceOf(Uint8ClampedArray);
    expect(Array.from(back.data as Uint8ClampedArray)).toEqual([0, 200, 255]);
    expect(() => decodeNpy(file, { as: Int8Array })).toThrow("decodeNpy: the file holds |u1 data, which cannot be read as Int8Array");
    expect(() => decodeNpy(encodeNpy({ data: new Float32Array(1), shape: [] }), { as: Int32Array })).toThrow(/holds <f4 data, which cannot be read as Int32Array/);
    expect(() => decodeNpy(file, { as: Array as never })).toThrow(TypeError);
    expect(() => decodeNpy(file, { like: Uint8Array } as never)).toThrow(/unknown option "like"/);
  });

  it('keeps float bit patterns: NaN payloads, signalling NaNs, -0 and infinities', () => {
    const f64 = new Float64Array(5);
    const w64 = new DataView(f64.buffer);
    w64.setBigUint64(0, 0x7ff8000000000001n, true); // quiet NaN with a payload
    w64.setBigUint64(8, 0x7ff0000000000001n, true); // signalling NaN
    w64.setBigUint64(16, 0xfff8000000000000n, true); // negative NaN
    f64[3] = -0; f64[4] = -Infinity;
    const f32 = new Float32Array(5);
    const w32 = new DataView(f32.buffer);
    w32.setUint32(0, 0x7fc00001, true); w32.setUint32(4, 0x7f800001, true); w32.setUint32(8, 0xffc00000, true);
    f32[3] = -0; f32[4] = Infinity;
    for (const data of [f64, f32]) {
      const back = decodeNpy(encodeNpy({ data, shape: [5] }));
      expect(bytesOf(back.data)).toEqual(bytesOf(data));
      expect(Object.is(back.data[3], -0)).toBe(true);
    }
  });

  it('writes 0-d, 1-D, empty and 3-D shapes as Python tuples and reads them back', () => {
    const cases: Array<[NdArray, string]> = [
      [{ data: new Float64Array([2.5]), shape: [] }, '()'],
      [{ data: new Int32Array(5).fill(3), shape: [5] }, '(5,)'],
      [{ data: new Float64Array(0), shape: [0] }, '(0,)'],
      [{ data: new Int16Array(0), shape: [0, 3] }, '(0, 3)'],
      [{ data: new BigInt64Array(0), shape: [2, 0, 4] }, '(2, 0, 4)'],
      [{ data: Float32Array.from({ length: 24 }, (_, i) => i / 4), shape: [2, 3, 4] }, '(2, 3, 4)'],
    ];
    for (const [array, tuple] of cases) {
      const file = encodeNpy(array);
      expect(headerText(file)).toContain(`'shape': ${tuple}, }`);
      const back = decodeNpy(file);
      expect(back.shape).toEqual(array.shape);
      expect(back.data).toEqual(array.data);
    }
  });

  it('lays the header out as numpy.save does, the data starting at a multiple of 64', () => {
    // numpy.save(np.zeros((3, 4))): 128-byte header, with room for the first axis to grow to 21 digits.
    const file = encodeNpy({ data: new Float64Array(12), shape: [3, 4] });
    expect(Array.from(file.subarray(0, 10))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    const dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
    expect(headerText(file)).toBe(dict + ' '.repeat(118 - dict.length - 1) + '\n');
    expect(file.length).toBe(128 + 96);
    for (let ndim = 0; ndim <= 64; ndim += 3) {
      for (const first of [1, 7, 12345, 10 ** 15]) {
        // A long first axis (more header digits) with a zero-length last one, so the data stays small.
        const shape = Array.from({ length: ndim }, (_, i) => (i === 0 ? first : i === ndim - 1 && first > 1e6 ? 0 : 1));
        if (ndim === 1 && first > 1e6) continue;
        const count = shape.reduce((p, n) => p * n, 1);
        const f = encodeNpy({ data: new Uint8Array(count), shape });
        const start = f.length - count;
        expect(start % 64).toBe(0);
        expect(f[start - 1]).toBe(0x0a);
        expect(10 + headerText(f).length).toBe(start);
      }
    }
  });

  it('encodes only the elements a subarray views, and decodes into a fresh aligned array', () => {
    const base = Float64Array.from({ length: 10 }, (_, i) => i);
    const file = encodeNpy({ data: base.subarray(3, 7), shape: [2, 2] });
    // The file at an odd offset of a bigger buffer: the data cannot be viewed in place as Float64.
    const host = new Uint8Array(file.length + 3);
    host.set(file, 3);
    const input = host.subarray(3);
    const back = decodeNpy(input);
    expect(back.data).toEqual(new Float64Array([3, 4, 5, 6]));
    expect(back.data.byteOffset).toBe(0);
    expect(back.data.buffer.byteLength).toBe(32);
    (back.data as Float64Array)[0] = 99;
    expect(decodeNpy(input).data[0]).toBe(3);
    // A Node Buffer (what readFile returns) sits in a shared pool, at an offset, and its slice() is a view.
    const pooled = Buffer.from(file);
    expect(pooled.byteOffset === 0 && pooled.buffer.byteLength === pooled.length).toBe(false);
    expect(decodeNpy(pooled).data).toEqual(new Float64Array([3, 4, 5, 6]));
    expect(decodeNpz(Buffer.from(encodeNpz({ x: { data: new Int16Array([-1, 2]), shape: [2] } }))).x.data).toEqual(new Int16Array([-1, 2]));
  });

  it('reads big-endian files of every multi-byte dtype, and =, | and < orders', () => {
    for (const [data, descr] of EXTREMES) {
      if (data.BYTES_PER_ELEMENT === 1 || data instanceof Uint8ClampedArray) continue;
      const le = bytesOf(data);
      const file = craft(`{'descr': '>${descr.slice(1)}', 'fortran_order': False, 'shape': (5,), }`, swapped(le, data.BYTES_PER_ELEMENT));
      expect(bytesOf(decodeNpy(file).data)).toEqual(le);
      for (const order of ['=', '|']) {
        const native = craft(`{'descr': '${order}${descr.slice(1)}', 'fortran_order': False, 'shape': (5,), }`, le);
        expect(bytesOf(decodeNpy(native).data)).toEqual(le);
      }
    }
    const i1 = craft("{'descr': '>i1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([0xff, 1]));
    expect(decodeNpy(i1).data).toEqual(new Int8Array([-1, 1]));
  });

  it('reads Fortran-ordered 2-D and 3-D files into C order, in either byte order', () => {
    for (const shape of [[2, 3], [3, 2], [2, 3, 4], [4, 1, 3], [1, 5]]) {
      const count = shape.reduce((p, n) => p * n, 1);
      const values = Array.from({ length: count }, (_, c) => c * 3 - 7);
      const tuple = `(${shape.join(', ')})`;
      for (const Ctor of [Float64Array, Int16Array, Int8Array, Uint32Array] as const) {
        const fortran = new Ctor(toFortran(values, shape));
        const size = Ctor.BYTES_PER_ELEMENT;
        const kind = Ctor === Float64Array ? 'f' : Ctor === Uint32Array ? 'u' : 'i';
        for (const order of size === 1 ? ['|'] : ['<', '>']) {
          const raw = order === '>' ? swapped(bytesOf(fortran), size) : bytesOf(fortran);
          const file = craft(`{'descr': '${order}${kind}${size}', 'fortran_order': True, 'shape': ${tuple}, }`, raw);
          const back = decodeNpy(file);
          expect(back.shape).toEqual(shape);
          expect(back.data).toEqual(new Ctor(values));
        }
      }
    }
    const big = craft("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 2), }", bytesOf(new BigInt64Array([1n, 3n, 2n, 4n])));
    expect(decodeNpy(big).data).toEqual(new BigInt64Array([1n, 2n, 3n, 4n]));
    // 0-d and 1-D arrays are the same in either order.
    expect(decodeNpy(craft("{'descr': '<i2', 'fortran_order': True, 'shape': (3,), }", bytesOf(new Int16Array([1, 2, 3])))).data)
      .toEqual(new Int16Array([1, 2, 3]));
  });

  it('reads format 2.0 and 3.0 headers, double quotes, and Python 2 long integers', () => {
    const data = bytesOf(new Int32Array([1, 2, 3]));
    expect(decodeNpy(craft("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", data, 2)).data).toEqual(new Int32Array([1, 2, 3]));
    expect(decodeNpy(craft('{"shape": (3,), "descr": "<i4", "fortran_order": False}', data, 3)).shape).toEqual([3]);
    expect(decodeNpy(craft("{'descr': '<i4', 'fortran_order': False, 'shape': (3L,), }", data)).shape).toEqual([3]);
  });

  it('round-trips byte strings and booleans through dtype', () => {
    const csr = encodeNpy({ data: new Uint8Array([0x63, 0x73, 0x72]), shape: [], dtype: '|S3' });
    expect(headerText(csr)).toContain("{'descr': '|S3', 'fortran_order': False, 'shape': (), }");
    expect(decodeNpy(csr)).toEqual({ data: new Uint8Array([0x63, 0x73, 0x72]), shape: [], dtype: '|S3' });
    const padded = { data: new Uint8Array([104, 105, 0, 0, 0]), shape: [1], dtype: '|S5' };
    expect(decodeNpy(encodeNpy(padded))).toEqual(padded);
    const bools = { data: new Uint8Array([1, 0, 1, 1]), shape: [2, 2], dtype: '|b1' };
    expect(decodeNpy(encodeNpy(bools))).toEqual(bools);
    expect(decodeNpy(encodeNpy({ data: new Float64Array(1), shape: [], dtype: '<f8' })).dtype).toBeUndefined();
    expect(() => encodeNpy({ data: new Uint8Array([2]), shape: [1], dtype: '|b1' })).toThrow(/\|b1 array to be 0 or 1, got data\[0\] = 2/);
    expect(() => encodeNpy({ data: new Uint8Array(4), shape: [], dtype: '|S3' })).toThrow(/expected data of length 3 for shape \[\] \(3 bytes per element\), got length 4/);
    expect(() => encodeNpy({ data: new Int8Array(3), shape: [], dtype: '|S3' })).toThrow(TypeError);
    expect(() => encodeNpy({ data: new Float64Array(1), shape: [], dtype: '<f4' })).toThrow(RangeError);
    expect(() => decodeNpy(csr, { as: Int8Array })).toThrow(/holds \|S3 data/);
  });

  it('rejects bad arguments with TypeError or RangeError saying what came', () => {
    const enc = (a: unknown) => () => encodeNpy(a as NdArray);
    expect(enc({ data: new Float64Array(6), shape: [2, 4] })).toThrow(new RangeError('encodeNpy: expected data of length 8 for shape [2, 4], got length 6'));
    expect(enc({ data: new Float64Array(1), shape: [-1] })).toThrow(new RangeError('encodeNpy: expected shape[0] to be a non-negative integer, got -1'));
    expect(enc({ data: new Float64Array(1), shape: [1.5] })).toThrow(RangeError);
    expect(enc({ data: new Float64Array(1), shape: ['1'] })).toThrow(new TypeError('encodeNpy: expected shape[0] to be a non-negative integer, got "1"'));
    expect(enc({ data: new Float64Array(1), shape: new Array(65).fill(1) })).toThrow(/at most 64 axes, got 65/);
    expect(enc({ data: new Float64Array(1), shape: 1 })).toThrow(TypeError);
    expect(enc({ data: [1, 2], shape: [2] })).toThrow(/expected data to be an integer or float typed array, got an array of length 2/);
    expect(enc({ data: new DataView(new ArrayBuffer(8)), shape: [8] })).toThrow(TypeError);
    expect(enc(null)).toThrow(TypeError);
    expect(() => decodeNpy([1, 2] as never)).toThrow(TypeError);
    expect(() => npyDescr({} as never)).toThrow(TypeError);
  });

  it('rejects malformed and unsupported files with an Error saying what was found', () => {
    const good = encodeNpy({ data: new Float64Array([1, 2, 3]), shape: [3] });
    const body = bytesOf(new Float64Array([1, 2, 3]));
    const hdr = (dict: string, data = body) => () => decodeNpy(craft(dict, data));
    expect(() => decodeNpy(new TextEncoder().encode('PK\x03\x04 not an npy file'))).toThrow('decodeNpy: not an NPY file: expected it to start with the magic \\x93NUMPY (93 4e 55 4d 50 59), got 50 4b 03 04 20 6e');
    expect(() => decodeNpy(new Uint8Array(0))).toThrow(/got an empty file/);
    expect(() => decodeNpy(good.subarray(0, 8))).toThrow(/not an NPY file.*\(8 bytes\)/);
    const v4 = good.slice(); v4[6] = 4;
    expect(() => decodeNpy(v4)).toThrow('decodeNpy: unsupported NPY format version 4.0 (expected 1.0, 2.0 or 3.0)');
    expect(() => decodeNpy(good.subarray(0, 60))).toThrow(/truncated file: expected a header of 118 bytes, got 50/);
    expect(() => decodeNpy(good.subarray(0, good.length - 1))).toThrow('decodeNpy: truncated data: expected 24 data bytes for <f8 shape (3,), got 23');
    const longer = new Uint8Array(good.length + 8); longer.set(good);
    expect(() => decodeNpy(longer)).toThrow(/unexpected bytes after the data: expected 24 data bytes .* got 32/);
    expect(hdr("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }")).toThrow("decodeNpy: object arrays (pickled Python objects) are not supported, got descr '|O'");
    expect(hdr("{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (3,), }"))
      .toThrow("decodeNpy: structured dtypes are not supported, got descr [('a', '<i4'), ('b', '<f8')]");
    expect(hdr("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (3,), }")).toThrow(/datetime arrays are not supported, got descr '<M8\[ns\]'/);
    expect(hdr("{'descr': '<q9', 'fortran_order': False, 'shape': (3,), }")).toThrow(/unknown or unsupported dtype, got descr '<q9'/);
    expect(hdr("{'descr': '<f8', 'fortran_order': False, 'shape': [3], }")).toThrow("decodeNpy: expected shape to be a tuple of at most 64 non-negative integers, got [3]");
    expect(hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (3, -1), }")).toThrow(/got \(3, -1\)/);
    expect(hdr("{'descr': '<f8', 'fortran_order': 'no', 'shape': (3,), }")).toThrow("decodeNpy: expected fortran_order to be True or False, got 'no'");
    expect(hdr("{'descr': '<f8', 'shape': (3,), }")).toThrow("decodeNpy: expected the header keys 'descr', 'fortran_order', 'shape', got 'descr', 'shape'");
    expect(hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}")).toThrow(/got 'descr', 'fortran_order', 'shape', 'x'/);
    expect(hdr("('<f8', False, (3,))")).toThrow(/expected the header to be a dictionary, got \('<f8', False, \(3,\)\)/);
    expect(hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), ")).toThrow(/^decodeNpy: cannot parse the header "\{'descr'.*\(3,\),": unexpected end at character 118$/);
    expect(hdr("{'descr': '<f8', 'fortran_order': False, 'shape': 3.0}")).toThrow(/cannot parse the header .*: expected ',' or '}' at character 51/);
    expect(hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} extra")).toThrow(/unexpected text after the dictionary/);
  });
});

describe('encodeNpz / decodeNpz', () => {
  const entries: Record<string, NdArray> = {
    weights: { data: Float64Array.from({ length: 12 }, (_, i) => Math.sqrt(i)), shape: [3, 4] },
    'alpha_0.5': { data: new BigInt64Array([-(2n ** 63n)]), shape: [] },
    'mask-1': { data: new Uint8Array([1, 0]), shape: [2], dtype: '|b1' },
    empty: { data: new Int32Array(0), shape: [0] },
  };

  it('round-trips records, stored by default and deflated on request, deterministically', () => {
    const stored = encodeNpz(entries);
    const deflated = encodeNpz(entries, { compression: 'deflate' });
    expect(decodeNpz(stored)).toEqual(entries);
    expect(decodeNpz(deflated)).toEqual(entries);
    // The compression method of the first local file header: 0 stored, 8 deflate.
    expect(stored[8]).toBe(0);
    expect(deflated[8]).toBe(8);
    expect(encodeNpz(entries)).toEqual(stored);
    expect(latin1(stored.subarray(30, 30 + 'weights.npy'.length))).toBe('weights.npy');
    const compressible = { z: { data: new Float64Array(10_000), shape: [10_000] } };
    expect(encodeNpz(compressible, { compression: 'deflate' }).length).toBeLessThan(encodeNpz(compressible).length / 10);
  });

  it('decodes per-name kinds with options.as, and ignores members that are not .npy', () => {
    const file = zipSync({
      'px.npy': encodeNpy({ data: new Uint8Array([1, 255]), shape: [2] }),
      'README.txt': new TextEncoder().encode('hello'),
    });
    const back = decodeNpz(file, { as: { px: Uint8ClampedArray } });
    expect(Object.keys(back)).toEqual(['px']);
    expect(back.px.data).toBeInstanceOf(Uint8ClampedArray);
    expect(decodeNpz(file).px.data).toBeInstanceOf(Uint8Array);
    expect(() => decodeNpz(file, { as: 5 } as never)).toThrow(TypeError);
  });

  it('rejects bad names, empty records and unknown options', () => {
    const one = (name: string) => () => encodeNpz({ [name]: { data: new Int8Array(1), shape: [1] } });
    for (const name of ['', 'a/b', '..', '.hidden', 'a..b', 'with space', '-x', 'é', 'a'.repeat(201)]) {
      expect(one(name), name).toThrow(RangeError);
    }
    expect(one('a/b')).toThrow(/encodeNpz: expected a name of 1 to 200 letters, digits, '_', '.' or '-', not starting with '.' or '-', got "a\/b"/);
    expect(one('a..b')).toThrow(`encodeNpz: expected a name without '..', got "a..b"`);
    expect(() => encodeNpz({})).toThrow(new RangeError('encodeNpz: expected at least one array, got an empty record'));
    expect(() => encodeNpz(entries, { compression: 'zstd' as never })).toThrow(/expected options.compression to be one of "none", "deflate", got "zstd"/);
    expect(() => encodeNpz(entries, { level: 9 } as never)).toThrow(TypeError);
    expect(() => encodeNpz(null as never)).toThrow(TypeError);
    expect(() => encodeNpz({ x: { data: new Float64Array(3), shape: [2] } })).toThrow(new RangeError('encodeNpz: array "x": expected data of length 2 for shape [2], got length 3'));
    expect(() => encodeNpz({ x: { data: [1], shape: [1] } as never })).toThrow(TypeError);
  });

  it('rejects non-zips, zips without .npy members and bad members, naming them', () => {
    expect(() => decodeNpz(encodeNpy({ data: new Int8Array(1), shape: [] }))).toThrow(/^decodeNpz: not a zip archive: expected it to start with "PK" \(50 4b\), got 93 4e 55 4d \(\d+ bytes\)$/);
    expect(() => decodeNpz(new Uint8Array(0))).toThrow(/got an empty file/);
    expect(() => decodeNpz(zipSync({ 'a.txt': new Uint8Array(3) }))).toThrow('decodeNpz: expected the zip to hold .npy members, got none');
    const garbled = new Uint8Array(100); garbled.set([0x50, 0x4b, 3, 4]);
    expect(() => decodeNpz(garbled)).toThrow(/^decodeNpz: not a readable zip archive: no end-of-central-directory record/);
    expect(() => decodeNpz(zipSync({ 'x.npy': new Uint8Array(20) }))).toThrow(/^decodeNpz: member "x.npy": not an NPY file/);
    expect(() => decodeNpz(zipSync({ 'dir/x.npy': encodeNpy({ data: new Int8Array(1), shape: [] }) }))).toThrow(/unsupported member name: .*got "dir\/x.npy"/);
    expect(() => decodeNpz('PK' as never)).toThrow(TypeError);
  });
});

describe('encodeCsrNpz / decodeCsrNpz', () => {
  const small: CsrMatrix = { shape: [2, 3], indptr: new Int32Array([0, 1, 3]), indices: new Int32Array([2, 0, 1]), data: new Float64Array([1.5, -2, NaN]) };

  it('round-trips matrices in the save_npz layout', () => {
    for (const a of [small, laplacian([4, 3]), laplacian([5], { boundary: 'periodic', accuracy: 4 }),
      { shape: [0, 0], indptr: new Int32Array(1), indices: new Int32Array(0), data: new Float64Array(0) } as CsrMatrix]) {
      for (const compression of ['none', 'deflate'] as const) {
        const file = encodeCsrNpz(a, { compression });
        expect(decodeCsrNpz(file)).toEqual(a);
      }
    }
    const entries = decodeNpz(encodeCsrNpz(small));
    expect(Object.keys(entries)).toEqual(['indices', 'indptr', 'format', 'shape', 'data']);
    expect(entries.format).toEqual({ data: new Uint8Array([0x63, 0x73, 0x72]), shape: [], dtype: '|S3' });
    expect(entries.shape).toEqual({ data: new BigInt64Array([2n, 3n]), shape: [2] });
    expect(entries.indices.data).toBeInstanceOf(Int32Array);
    expect(isCsrNpz(entries)).toBe(true);
    expect(isCsrNpz(decodeNpz(encodeNpz({ data: entries.data })))).toBe(false);
    expect(isCsrNpz({ ...entries, format: { data: new Uint8Array([0x63, 0x73, 0x63]), shape: [], dtype: '|S3' } })).toBe(false);
    expect(csrFromNpzEntries(csrToNpzEntries(small))).toEqual(small);
  });

  it('accepts int64 indices, other integer kinds and non-float64 data, converting them', () => {
    const entries = {
      ...csrToNpzEntries(small),
      indices: { data: new BigInt64Array([2n, 0n, 1n]), shape: [3] },
      indptr: { data: new Uint16Array([0, 1, 3]), shape: [3] },
      shape: { data: new Int32Array([2, 3]), shape: [2] },
      data: { data: new Float32Array([1.5, -2, NaN]), shape: [3] },
      _is_array: { data: new Uint8Array([1]), shape: [], dtype: '|b1' },
    };
    const a = decodeCsrNpz(encodeNpz(entries));
    expect(a).toEqual(small);
    expect(a.indices).toBeInstanceOf(Int32Array);
    expect(a.data).toBeInstanceOf(Float64Array);
  });

  it('rejects other formats, missing members and inconsistent matrices as malformed files', () => {
    const base = csrToNpzEntries(small);
    const dec = (patch: Record<string, NdArray | undefined>) => () => {
      const e: Record<string, NdArray> = { ...base };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete e[k]; else e[k] = v;
      return decodeCsrNpz(encodeNpz(e));
    };
    expect(dec({ format: { data: new Uint8Array([0x63, 0x73, 0x63]), shape: [], dtype: '|S3' } }))
      .toThrow(`decodeCsrNpz: expected a sparse matrix in 'csr' format, got format "csc"`);
    expect(dec({ format: undefined })).toThrow(/not a scipy.sparse file: expected a 'format' member, got indices, indptr, shape, data/);
    expect(dec({ indptr: undefined })).toThrow('decodeCsrNpz: expected the members indices, indptr, format, shape, data; missing indptr');
    expect(dec({ indices: { data: new BigInt64Array([2n, 2n ** 31n, 1n]), shape: [3] } }))
      .toThrow('decodeCsrNpz: expected indices values to fit in int32, got indices[1] = 2147483648n');
    expect(dec({ indices: { data: new Int32Array([2, 3, 1]), shape: [3] } }))
      .toThrow('decodeCsrNpz: the file holds an inconsistent CSR matrix: expected column indices in [0, 3), got matrix.indices[1] = 3');
    expect(dec({ indptr: { data: new Int32Array([0, 2, 1]), shape: [3] } })).toThrow(/inconsistent CSR matrix: expected matrix.indptr to be non-decreasing/);
    expect(dec({ indices: { data: new Float64Array([2, 0, 1]), shape: [3] } })).toThrow(/expected indices to hold integers, got Float64Array/);
    expect(dec({ shape: { data: new BigInt64Array([2n, 3n, 1n]), shape: [3] } })).toThrow(/expected shape to hold \[rows, cols\], got 3 values/);
    expect(() => decodeCsrNpz(new Uint8Array(30))).toThrow(/decodeNpz: not a zip archive/);
  });

  it('checks the matrix before encoding', () => {
    expect(() => encodeCsrNpz({ ...small, indices: new Int32Array([3, 0, 1]) }))
      .toThrow(new RangeError('encodeCsrNpz: expected column indices in [0, 3), got matrix.indices[0] = 3'));
    expect(() => encodeCsrNpz({ ...small, indptr: new Int32Array([0, 1]) })).toThrow(/encodeCsrNpz: expected matrix.indptr to have length 3, got length 2/);
    expect(() => encodeCsrNpz({ ...small, data: [1, 2, 3] } as never)).toThrow(TypeError);
    expect(() => encodeCsrNpz(small, { compression: 'gzip' } as never)).toThrow(RangeError);
  });
});

describe('the .npz container', () => {
  it('aligns stored array data to 64 bytes in the file, so loads can view it in place', async () => {
    const { encodeNpz: encode, decodeNpz: decode } = await import('../src/cache/formats/npz.js');
    const file = encode({ a: { data: new Float64Array([1, 2, 3]), shape: [3] }, bb: { data: new Int16Array([7]), shape: [] } });
    const copy = new Uint8Array(file); // own buffer, offset 0
    const viewed = decode(copy, { view: true });
    expect(viewed.a.data.buffer).toBe(copy.buffer);
    expect(viewed.a.data.byteOffset % 64).toBe(0);
    expect(viewed.bb.data.byteOffset % 64).toBe(0);
    expect([...viewed.a.data]).toEqual([1, 2, 3]);
    const copied = decode(copy);
    expect(copied.a.data.buffer).not.toBe(copy.buffer);
  });
});
