// The NumPy dtypes with no typed array of their own (float16, complex64/128, unicode strings, bool): their
// JS representation, round trips, and NumPy itself (numpy.save's bytes, numpy's float16 conversions).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, npyStrings, type NdArray } from '../src/cache/formats/npy.js';
import { decodeNpz, encodeNpz } from '../src/cache/formats/npz.js';
import { bytesOf, mulberry32 } from './fixtures/util.js';

/** A .npy file with the given header dict text, padded to 64 as NumPy does. */
function craft(dict: string, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(dict);
  const len = text.length + 1 + (64 - ((10 + text.length + 1) % 64));
  const out = new Uint8Array(10 + len + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, len, true);
  out.fill(0x20, 10, 10 + len - 1);
  out.set(text, 10);
  out[10 + len - 1] = 0x0a;
  out.set(data, 10 + len);
  return out;
}

const header = (descr: string, shape: string, fortran = false) => `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;

/** The bytes of each `size`-byte unit reversed. */
function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i - (i % size) + size - 1 - (i % size)];
  return out;
}

/** The data bytes of a file we wrote (after the header). */
const body = (file: Uint8Array) => file.subarray(10 + (file[8] | (file[9] << 8)));

/** The value of a half, from its definition (an independent reference for the bit conversion). */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
}

const ALL_HALVES = Uint16Array.from({ length: 65536 }, (_, i) => i);

describe('float16', () => {
  it('widens every one of the 65536 halves exactly, in either byte order, and narrows back to the same bits', () => {
    const le = bytesOf(ALL_HALVES);
    for (const [descr, raw] of [['<f2', le], ['>f2', swapped(le, 2)], ['=f2', le]] as const) {
      const a = decodeNpy(craft(header(descr, '(65536,)'), raw));
      expect(a.dtype).toBe('<f2');
      expect(a.shape).toEqual([65536]);
      expect(a.data).toBeInstanceOf(Float32Array);
      const data = a.data as Float32Array;
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      for (let h = 0; h < 65536; h++) {
        const v = halfValue(h);
        if (Number.isNaN(v)) {
          // NaN: the sign and all 10 payload bits kept, at the top of the float32 payload.
          expect(bits[h] >>> 0).toBe((((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0);
        } else if (!Object.is(data[h], v)) {
          expect.fail(`half 0x${h.toString(16)}: got ${data[h]}, expected ${v}`);
        }
      }
      const again = encodeNpy(a);
      expect(Buffer.from(body(again)).equals(Buffer.from(le))).toBe(true);
    }
  });

  it('rounds float32 to the nearest half, ties to even, as NumPy does', () => {
    const cases: Array<[number, number]> = [
      [1 + 2 ** -11, 1], [1 + 3 * 2 ** -11, 1 + 2 ** -9], [1 + 2 ** -11 + 2 ** -20, 1 + 2 ** -10], // ties to even, above a tie
      [65504, 65504], [65519, 65504], [65520, Infinity], [1e9, Infinity], [-1e9, -Infinity],
      [2 ** -24, 2 ** -24], [2 ** -25, 0], [2 ** -25 * (1 + 2 ** -23), 2 ** -24], [-(2 ** -26), -0], [1e-45, 0],
      [3 * 2 ** -25, 2 * 2 ** -24], // a subnormal tie, to even
      [2 ** -14 - 2 ** -25, 2 ** -14], // the largest subnormal rounds up into the smallest normal
      [0.1, 0.0999755859375], [-0, -0], [NaN, NaN],
    ];
    const a = decodeNpy(encodeNpy({ data: Float32Array.from(cases, ([x]) => x), shape: [cases.length], dtype: '<f2' }));
    cases.forEach(([x, want], i) => expect(a.data[i], `float16(${x})`).toBe(want));
    // NaN payloads: the top 10 bits kept; a payload only in the low 13 bits still gives a NaN.
    const nan = new Float32Array(2);
    new Uint32Array(nan.buffer).set([0xffc0_2000, 0x7f80_0001]);
    const halves = new Uint16Array(body(encodeNpy({ data: nan, shape: [2], dtype: '<f2' })).slice().buffer);
    expect(Array.from(halves, (h) => h.toString(16))).toEqual(['fe01', '7c01']);
  });
});

describe('complex64 and complex128', () => {
  it('decode to interleaved real and imaginary parts, in either byte order and in Fortran order', () => {
    const values = [1, -2, 0.5, 3, -0, Infinity, NaN, 1e-300];
    for (const [Ctor, size] of [[Float32Array, 8], [Float64Array, 16]] as const) {
      const parts = new Ctor(values);
      for (const order of ['<', '>']) {
        const raw = order === '>' ? swapped(bytesOf(parts), size / 2) : bytesOf(parts);
        const a = decodeNpy(craft(header(`${order}c${size}`, '(2, 2)'), raw));
        expect(a).toEqual({ data: parts, shape: [2, 2], dtype: `<c${size}` });
      }
      // Fortran order moves whole complex elements: [[a, b], [c, d]] is stored a, c, b, d.
      const fortran = new Ctor([1, 10, 3, 30, 2, 20, 4, 40]);
      const f = decodeNpy(craft(header(`<c${size}`, '(2, 2)', true), bytesOf(fortran)));
      expect(f.data).toEqual(new Ctor([1, 10, 2, 20, 3, 30, 4, 40]));
      expect(decodeNpy(encodeNpy(f))).toEqual(f);
      const scalar = { data: new Ctor([1.5, -2.5]), shape: [], dtype: `<c${size}` };
      expect(decodeNpy(encodeNpy(scalar))).toEqual(scalar);
      expect(decodeNpy(craft(header(`<c${size}`, '(1,)'), bytesOf(new Ctor([1, 2]))), { as: Ctor }).data).toEqual(new Ctor([1, 2]));
    }
    expect(() => decodeNpy(craft(header('<c8', '(1,)'), new Uint8Array(8)), { as: Float64Array }))
      .toThrow("decodeNpy: the file holds <c8 data, which cannot be read as Float64Array (it is read as a Float32Array)");
  });

  it('encodes only the matching float array of twice the element count', () => {
    expect(() => encodeNpy({ data: new Float64Array(3), shape: [2], dtype: '<c16' }))
      .toThrow(new RangeError('encodeNpy: expected data of length 4 for shape [2] (2 values per element: real, imaginary), got length 3'));
    expect(() => encodeNpy({ data: new Float32Array(4), shape: [2], dtype: '<c16' }))
      .toThrow(new TypeError('encodeNpy: expected the data of a <c16 array to be a Float64Array, got a Float32Array of length 4'));
    expect(() => encodeNpy({ data: new Float64Array(4), shape: [2], dtype: '>c16' })).toThrow(RangeError);
    expect(() => encodeNpy({ data: new Float64Array(4), shape: [2], dtype: '<c32' })).toThrow(RangeError);
  });
});

describe('unicode strings', () => {
  it('decode to n code points per element, and npyStrings strips the trailing NULs', () => {
    const text = ['ab', '', 'a\0b', 'β😀c'];
    const cps = new Uint32Array(12);
    text.forEach((s, e) => [...s].forEach((c, i) => { cps[e * 3 + i] = c.codePointAt(0)!; }));
    for (const order of ['<', '>']) {
      const raw = order === '>' ? swapped(bytesOf(cps), 4) : bytesOf(cps);
      const a = decodeNpy(craft(header(`${order}U3`, '(2, 2)'), raw));
      expect(a).toEqual({ data: cps, shape: [2, 2], dtype: '<U3' });
      expect(npyStrings(a)).toEqual(text);
      expect(decodeNpy(encodeNpy(a))).toEqual(a);
    }
    expect(npyStrings({ data: new Uint8Array([104, 105, 0, 0xe9, 0, 0]), shape: [2], dtype: '|S3' })).toEqual(['hi', '\u00e9']);
    expect(npyStrings({ data: new Uint32Array(0), shape: [2], dtype: '<U0' })).toEqual(['', '']);
    expect(npyStrings(decodeNpy(craft(header('<U0', '(2,)'), new Uint8Array(0))))).toEqual(['', '']);
  });

  it('rejects what is not a string array, and bad lengths', () => {
    expect(() => npyStrings({ data: new Float64Array(1), shape: [] })).toThrow(TypeError);
    expect(() => npyStrings({ data: new Uint8Array(3), shape: [], dtype: '<U3' })).toThrow(TypeError);
    expect(() => npyStrings({ data: new Uint32Array([0x110000]), shape: [], dtype: '<U1' })).toThrow(/up to 0x10FFFF, got 0x110000 in element 0/);
    expect(() => encodeNpy({ data: new Uint32Array(5), shape: [2], dtype: '<U3' }))
      .toThrow(new RangeError('encodeNpy: expected data of length 6 for shape [2] (3 code points per element), got length 5'));
    expect(() => encodeNpy({ data: new Uint8Array(6), shape: [2], dtype: '<U3' })).toThrow(TypeError);
  });
});

describe('other dtypes', () => {
  it('refuses objects, datetimes, timedeltas, structured, void and long double dtypes, naming them', () => {
    const hdr = (descr: string) => () => decodeNpy(craft(header(descr, '(1,)'), new Uint8Array(16)));
    expect(hdr('|O')).toThrow("decodeNpy: object arrays (pickled Python objects) are not supported, got descr '|O'");
    expect(hdr('<M8[ns]')).toThrow("decodeNpy: datetime arrays are not supported, got descr '<M8[ns]'");
    expect(hdr('<m8[s]')).toThrow("decodeNpy: timedelta arrays are not supported, got descr '<m8[s]'");
    expect(hdr('|V16')).toThrow("decodeNpy: void/structured arrays are not supported, got descr '|V16'");
    expect(hdr('<f16')).toThrow(/only 2-, 4- and 8-byte floats .* got descr '<f16'/);
    expect(hdr('<c32')).toThrow(/only complex64 \(c8\) and complex128 \(c16\) .* got descr '<c32'/);
    expect(() => decodeNpy(craft("{'descr': [('a', '<U2')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8))))
      .toThrow("decodeNpy: structured dtypes are not supported, got descr [('a', '<U2')]");
    expect(() => encodeNpy({ data: new Uint8Array(8), shape: [1], dtype: '<M8[ns]' })).toThrow(/got "<M8\[ns\]"/);
  });

  it('carry through .npz, float16 widened and all', () => {
    const record: Record<string, NdArray> = {
      half: { data: new Float32Array([1.5, -0, 65504]), shape: [3], dtype: '<f2' },
      z: { data: new Float64Array([1, 2, 3, 4]), shape: [2], dtype: '<c16' },
      names: { data: new Uint32Array([0x61, 0, 0x3b2, 0x62]), shape: [2], dtype: '<U2' },
      flags: { data: new Uint8Array([1, 0]), shape: [2], dtype: '|b1' },
    };
    for (const compression of ['none', 'deflate'] as const) expect(decodeNpz(encodeNpz(record, { compression }))).toEqual(record);
  });
});

// ---- Against NumPy itself. ----

const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8', timeout: 30_000 });
const havePython = probe.status === 0;
if (!havePython) console.warn('npy-dtypes: skipping the NumPy tests: `python3 -c "import numpy"` failed');

function python(script: string, ...args: string[]): string {
  const run = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.error?.message ?? run.stderr}`);
  return run.stdout;
}

// Saves arrays of each dtype as users do (either byte order, Fortran order, 0-d, empty) beside numpy.save's
// file of the same array in little-endian C order, which our encoder must reproduce byte for byte.
const WRITE = String.raw`
import json, os, sys
import numpy as np
root = sys.argv[1]
out = {}
def save(name, a):
    np.save(os.path.join(root, name + '.npy'), a)
    canon = a.astype(a.dtype.newbyteorder('<'), order='C')  # (ascontiguousarray would make a 0-d array 1-d)
    np.save(os.path.join(root, name + '.canon.npy'), canon)
    info = {'descr': canon.dtype.str, 'shape': list(a.shape)}
    if a.dtype.kind == 'U': info['strings'] = [str(s) for s in canon.ravel()]
    if a.dtype.kind == 'S': info['strings'] = [s.decode('latin-1') for s in canon.ravel()]
    if a.dtype.kind == 'c': info['parts'] = canon.reshape(-1).view(canon.real.dtype).tobytes().hex()
    if a.dtype.kind in 'fb': info['hex'] = canon.tobytes().hex()
    out[name] = info
rng = np.random.default_rng(3)
halves = np.array([0, -0.0, 1, -2.5, 65504, 6e-8, 6.1e-5, np.inf, -np.inf, np.nan, 0.1, 1/3], dtype='<f2')
for order in '<>':
    o = 'le' if order == '<' else 'be'
    save(f'half_{o}', halves.astype(order + 'f2').reshape(3, 4))
    save(f'half_fortran_{o}', np.asfortranarray(halves.astype(order + 'f2').reshape(3, 4)))
    for t in ['c8', 'c16']:
        z = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(order + t)
        z[0, 0] = complex(np.inf, -0.0); z[0, 1] = complex(np.nan, 1e-30)
        save(f'{t}_{o}', z)
        save(f'{t}_fortran_{o}', np.asfortranarray(z))
        save(f'{t}_scalar_{o}', np.array(1.5 - 2j, dtype=order + t))
    save(f'unicode_{o}', np.array([['alpha', ''], ['β😀', 'a\x00b']], dtype=order + 'U5'))
    save(f'unicode_fortran_{o}', np.asfortranarray(np.array([['ab', 'c'], ['dé', '']], dtype=order + 'U2')))
save('unicode_scalar', np.array('naïve'))
save('unicode_empty', np.zeros((0, 2), dtype='<U3'))
save('bytes', np.array([b'csr', b'a', b''], dtype='S3'))
save('bools', np.array([[True, False, True], [False, False, True]]))
save('bools_fortran', np.asfortranarray(np.array([[True, False, True], [False, False, True]])))
save('bool_scalar', np.array(True))
print(json.dumps(out))
`;

// numpy's own float16 conversions, both ways, for bit-level comparison.
const CONVERT = String.raw`
import json, sys
import numpy as np
h = np.arange(65536, dtype='<u2').view('<f2')
widened = h.astype('<f4').view('<u4')
f = np.frombuffer(bytes.fromhex(sys.stdin.read().strip()), dtype='<f4')
print(json.dumps({'widened': widened.tobytes().hex(), 'narrowed': f.astype('<f2').view('<u2').tobytes().hex()}))
`;

describe.skipIf(!havePython)('against NumPy', () => {
  let dir = '';
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'dase-npy-dtypes-')); });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('decodes what numpy.save writes for each dtype, and encodes it back to numpy.save\'s exact bytes', () => {
    const files = JSON.parse(python(WRITE, dir)) as Record<string, { descr: string; shape: number[]; strings?: string[]; parts?: string; hex?: string }>;
    expect(Object.keys(files).length).toBeGreaterThan(25);
    for (const [name, e] of Object.entries(files)) {
      const a = decodeNpy(readFileSync(join(dir, `${name}.npy`)));
      expect(a.shape, name).toEqual(e.shape);
      expect(a.dtype, name).toBe(e.descr.replace(/^=/, '<'));
      if (e.strings) expect(npyStrings(a), name).toEqual(e.strings);
      if (e.parts) expect(Buffer.from(bytesOf(a.data)).toString('hex'), name).toBe(e.parts);
      if (e.hex && e.descr === '|b1') expect(Buffer.from(bytesOf(a.data)).toString('hex'), name).toBe(e.hex);
      if (e.hex && e.descr === '<f2') expect(Buffer.from(body(encodeNpy(a))).toString('hex'), name).toBe(e.hex);
      const canon = readFileSync(join(dir, `${name}.canon.npy`));
      expect(Buffer.from(encodeNpy(a)).equals(canon), `${name}: encodeNpy(decodeNpy(file)) is numpy.save's bytes`).toBe(true);
    }
  });

  it('widens all 65536 halves to the same float32 bits as numpy (NaNs aside) and rounds float32 as numpy does', () => {
    const rnd = mulberry32(11);
    // Random float32 bits over the whole range, plus every tie and near-tie around a sample of halves.
    const bits = Uint32Array.from({ length: 40000 }, () => Math.floor(rnd() * 2 ** 32));
    const ties: number[] = [];
    for (let h = 0; h < 0x7c00; h += 37) {
      const f = new Uint32Array(new Float32Array([halfValue(h)]).buffer)[0];
      ties.push(f + 0x1000, f + 0xfff, f + 0x1001, f - 0x1000);
    }
    ties.push(0x33000000, 0x33000001, 0x33800000, 0x387fc000, 0x387fe000, 0x477ff000, 0x477fefff);
    const all = new Uint32Array([...bits, ...ties.map((t) => t >>> 0), ...ties.map((t) => (t | 0x80000000) >>> 0)]);
    // Leave NaNs out: numpy may quiet them through the CPU's conversion instruction.
    const floats = new Float32Array(all.buffer).filter((x) => !Number.isNaN(x));
    const run = spawnSync('python3', ['-c', CONVERT], { input: Buffer.from(bytesOf(floats)).toString('hex'), encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const numpy = JSON.parse(run.stdout) as { widened: string; narrowed: string };
    const theirs = new Uint32Array(new Uint8Array(Buffer.from(numpy.widened, 'hex')).buffer);
    const file = craft(header('<f2', '(65536,)'), bytesOf(ALL_HALVES));
    const widened = new Uint32Array(decodeNpy(file).data.buffer);
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue;
      if (widened[h] !== theirs[h]) expect.fail(`half 0x${h.toString(16)}: ours 0x${widened[h].toString(16)}, numpy 0x${theirs[h].toString(16)}`);
    }
    const narrowed = body(encodeNpy({ data: floats, shape: [floats.length], dtype: '<f2' }));
    expect(Buffer.from(narrowed).toString('hex')).toBe(numpy.narrowed);
  });
});
