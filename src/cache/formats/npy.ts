// NumPy's .npy format (numpy.lib.format) in memory: encode typed arrays as NumPy writes them, decode what
// NumPy (any version of the format, either byte order, C or Fortran order) writes.

import { describe, optionsObject, knownKeys } from '../../_args.js';
import { hostIsLittleEndian, swapBytes } from './byte-order.js';
import { float32ToHalfBytes, halfToFloat32 } from './half.js';

/** The typed arrays that have a NumPy dtype (Float16Array is left out: Node 20 has none). */
export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** The constructor of one of the {@link TypedArray} kinds. */
export type TypedArrayConstructor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Uint8ClampedArrayConstructor | Int16ArrayConstructor
  | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor
  | Float64ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

/**
 * An N-D array in C order (last axis fastest), as NumPy keeps it; `shape` is always NumPy's shape. Numeric
 * arrays carry their dtype in the kind of `data`; `dtype` is only set where that kind says too little, and
 * says what `data` means (always in its little-endian spelling, whatever the file's byte order):
 * - `'|S<n>'` fixed-width byte strings (e.g. SciPy's `format` entry): a Uint8Array of n bytes per element,
 *   NUL-padded as NumPy pads them (see {@link npyStrings}).
 * - `'|b1'` booleans (e.g. SciPy's `_is_array` entry): a Uint8Array of one byte, 0 or 1, per element.
 * - `'<f2'` float16: a Float32Array of the values widened (exactly: every half, subnormals, ±0, ±inf and NaN
 *   payloads included, is a float32), so they can be used as numbers; encoding rounds back to half (to
 *   nearest, ties to even, as NumPy's `astype(float16)`), which gives back the very bits that were read.
 * - `'<c8'` complex64 / `'<c16'` complex128: a Float32Array / Float64Array of twice the element count,
 *   real and imaginary parts interleaved (`[re0, im0, re1, im1, …]`), as they lie in memory.
 * - `'<U<n>'` unicode strings: a Uint32Array of n UTF-32 code points per element, NUL-padded as NumPy pads
 *   them (see {@link npyStrings}).
 */
export type NdArray = {
  /** The elements, in C order. */
  data: TypedArray;
  /** NumPy's shape: the length of each axis ([] for a 0-d array). */
  shape: number[];
  /** Set only where the kind of `data` says too little (see above). */
  dtype?: string;
};

type Kind = 'i' | 'u' | 'f';

// The dtype of each kind; Uint8ClampedArray shares '|u1' with Uint8Array because NumPy has no clamped type.
const KINDS: ReadonlyArray<readonly [TypedArrayConstructor, Kind, number]> = [
  [Int8Array, 'i', 1], [Uint8Array, 'u', 1], [Uint8ClampedArray, 'u', 1],
  [Int16Array, 'i', 2], [Uint16Array, 'u', 2], [Int32Array, 'i', 4], [Uint32Array, 'u', 4],
  [Float32Array, 'f', 4], [Float64Array, 'f', 8], [BigInt64Array, 'i', 8], [BigUint64Array, 'u', 8],
];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
// NumPy pads the header so that the first axis can grow to this many digits in place; so do we, so that
// our files are byte-identical to numpy.save's.
const GROWTH_AXIS_MAX_DIGITS = 21;
const MAX_DIMS = 64; // NPY_MAXDIMS: NumPy 2 cannot load more axes
const MAX_HEADER = 1 << 20;

/** True for the typed arrays that have a NumPy dtype. */
export function isTypedArray(value: unknown): value is TypedArray {
  return KINDS.some(([ctor]) => value instanceof ctor);
}

function kindOf(ctor: Function): readonly [TypedArrayConstructor, Kind, number] | undefined {
  return KINDS.find(([c]) => c === ctor);
}

/**
 * The little-endian NumPy dtype string ("descr") a typed array is stored as.
 * @param data - a typed array.
 * @returns e.g. '<f8' for a Float64Array, '|u1' for a Uint8Array or Uint8ClampedArray.
 * @throws {TypeError} when `data` is not one of the {@link TypedArray} kinds.
 * @example
 * npyDescr(new BigInt64Array(1)); // '<i8'
 */
export function npyDescr(data: TypedArray): string {
  const kind = isTypedArray(data) ? kindOf(data.constructor) : undefined;
  if (kind === undefined) {
    throw new TypeError(`npyDescr: expected data to be an integer or float typed array, got ${describe(data)}`);
  }
  return `${kind[2] === 1 ? '|' : '<'}${kind[1]}${kind[2]}`;
}

/** Reorders `count` elements of `size` bytes from Fortran order to C order over `shape`. */
function fortranToC(src: Uint8Array, shape: number[], size: number, count: number): Uint8Array {
  const dst = new Uint8Array(src.length);
  const n = shape.length;
  const fStride = new Array<number>(n);
  for (let d = 0, s = 1; d < n; d++) { fStride[d] = s; s *= shape[d]; }
  const index = new Array<number>(n).fill(0);
  // Integer views move whole elements; the buffers are fresh, so aligned. Floats are never loaded as floats,
  // which keeps NaN payloads intact.
  const words = size % 4 === 0 ? size / 4 : 0;
  const s32 = words ? new Uint32Array(src.buffer, src.byteOffset, src.length / 4) : undefined;
  const d32 = words ? new Uint32Array(dst.buffer, 0, dst.length / 4) : undefined;
  let f = 0; // Fortran offset (in elements) of the C-order element c
  for (let c = 0; c < count; c++) {
    if (s32 && d32) {
      for (let w = 0; w < words; w++) d32[c * words + w] = s32[f * words + w];
    } else {
      dst.set(src.subarray(f * size, f * size + size), c * size);
    }
    // Advance the C-order multi-index (last axis fastest), tracking the Fortran offset.
    for (let d = n - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) { f += fStride[d]; break; }
      f -= (index[d] - 1) * fStride[d];
      index[d] = 0;
    }
  }
  return dst;
}

function checkShape(where: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${where}: expected shape to be an array of integers, got ${describe(shape)}`);
  if (shape.length > MAX_DIMS) throw new RangeError(`${where}: expected shape to have at most ${MAX_DIMS} axes, got ${shape.length}`);
  shape.forEach((n, i) => {
    if (typeof n !== 'number') throw new TypeError(`${where}: expected shape[${i}] to be a non-negative integer, got ${describe(n)}`);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`${where}: expected shape[${i}] to be a non-negative integer, got ${describe(n)}`);
    }
  });
  return shape as number[];
}

function product(shape: readonly number[]): number {
  return shape.reduce((p, n) => p * n, 1);
}

function shapeRepr(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/**
 * Encodes an array as a .npy file (format 1.0, as numpy.save writes it: little-endian, C order, the data
 * starting at a multiple of 64 bytes). Float bit patterns (NaN payloads, -0) are copied as they are.
 * @param array - `{ data, shape }` with data.length equal to the product of shape (1 for `[]`, a 0-d array);
 *   or `{ data, shape, dtype }` as {@link decodeNpy} returns it: a Uint8Array with '|S<n>' (byte strings of n
 *   bytes each) or '|b1' (0 or 1); a Float32Array with '<f2' (rounded to float16, to nearest, ties to even);
 *   a Float32Array with '<c8' or a Float64Array with '<c16' (real and imaginary parts interleaved, twice the
 *   element count); a Uint32Array with '<U<n>' (n code points each).
 * @returns the file's bytes.
 * @throws {TypeError} when data is not a supported typed array, or shape not an array.
 * @throws {RangeError} when shape has negative, non-integer or over 64 axes, or does not match data's length,
 *   or dtype is none of those above.
 * @example
 * const file = encodeNpy({ data: new Float64Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
 * encodeNpy({ data: new Float64Array([1, 2, 3, -4]), shape: [2], dtype: '<c16' }); // [1+2j, 3-4j]
 * // numpy.load reads it as array([[1., 2., 3.], [4., 5., 6.]])
 */
export function encodeNpy(array: NdArray): Uint8Array {
  const { header, body } = npyParts('encodeNpy', array);
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/**
 * A .npy file as two pieces, its header and its data, so that a container can write the data straight from
 * the array (on little-endian hosts `body` is a view of the array's bytes, not a copy).
 */
export function npyParts(where: string, array: NdArray): { header: Uint8Array; body: Uint8Array } {
  if (array === null || typeof array !== 'object') throw new TypeError(`${where}: expected an array { data, shape }, got ${describe(array)}`);
  const { data, dtype } = array;
  if (!isTypedArray(data)) throw new TypeError(`${where}: expected data to be an integer or float typed array, got ${describe(data)}`);
  const shape = checkShape(where, array.shape);
  const count = product(shape);
  let descr: string;
  let itemsize: number;
  let perElement = 1; // values of data per array element
  let per = '';
  if (dtype === undefined || dtype === npyDescr(data)) {
    descr = npyDescr(data);
    itemsize = data.BYTES_PER_ELEMENT;
  } else {
    const m = typeof dtype === 'string' ? /^(?:\|S([1-9][0-9]{0,8})|\|b1|<f2|<c(8|16)|<U([1-9][0-9]{0,8}))$/.exec(dtype) : null;
    if (!m) {
      throw new RangeError(`${where}: expected dtype to be '|S<n>', '|b1', '<f2', '<c8', '<c16', '<U<n>' or ${JSON.stringify(npyDescr(data))} (the data's own), got ${describe(dtype)}`);
    }
    const ctor = dtype === '<f2' || dtype === '<c8' ? Float32Array : dtype === '<c16' ? Float64Array : m[3] !== undefined ? Uint32Array : Uint8Array;
    if (!(data instanceof ctor)) {
      throw new TypeError(`${where}: expected the data of a ${dtype} array to be a ${ctor.name}, got ${describe(data)}`);
    }
    descr = dtype;
    if (m[1] !== undefined) { itemsize = Number(m[1]); perElement = itemsize; per = ` (${itemsize} bytes per element)`; }
    else if (m[2] !== undefined) { itemsize = Number(m[2]); perElement = 2; per = ' (2 values per element: real, imaginary)'; }
    else if (m[3] !== undefined) { perElement = Number(m[3]); itemsize = 4 * perElement; per = ` (${perElement} code points per element)`; }
    else itemsize = dtype === '<f2' ? 2 : 1;
    const bad = dtype === '|b1' ? data.findIndex((b) => b > 1) : -1;
    if (bad >= 0) throw new RangeError(`${where}: expected the bytes of a |b1 array to be 0 or 1, got data[${bad}] = ${data[bad]}`);
  }
  if (data.length !== count * perElement) {
    throw new RangeError(`${where}: expected data of length ${count * perElement} for shape [${shape.join(', ')}]${per}, got length ${data.length}`);
  }

  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // Version 1.0 has a 2-byte header length; NumPy falls back to 2.0 (4 bytes) only for huge headers.
  const lengthBytes = header.length + 1 + ARRAY_ALIGN > 0xffff ? 4 : 2;
  const prefix = MAGIC.length + 2 + lengthBytes;
  const padded = header.length + 1 + (ARRAY_ALIGN - ((prefix + header.length + 1) % ARRAY_ALIGN));
  const out = new Uint8Array(prefix + padded);
  out.set(MAGIC);
  out[6] = lengthBytes === 2 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, padded, true); else view.setUint32(8, padded, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.fill(0x20, prefix + header.length, prefix + padded - 1);
  out[prefix + padded - 1] = 0x0a;
  let body: Uint8Array;
  if (descr === '<f2') {
    body = float32ToHalfBytes(data as Float32Array);
  } else {
    body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (!hostIsLittleEndian() && data.BYTES_PER_ELEMENT > 1) {
      body = body.slice();
      swapBytes(body, data.BYTES_PER_ELEMENT);
    }
  }
  return { header: out, body };
}

/**
 * The elements of a string array as JS strings, in C order, trailing NULs stripped (as NumPy strips them;
 * NULs inside a string are kept).
 * @param array - a '<U<n>' array (Uint32Array of code points) or a '|S<n>' array (Uint8Array of bytes, each
 *   byte one character, as latin-1: bytes are not text, and this keeps every byte).
 * @returns one string per element (one for a 0-d array).
 * @throws {TypeError} when array is not a '<U<n>' or '|S<n>' array.
 * @throws {RangeError} when a '<U<n>' element holds a code point above 0x10FFFF.
 * @example
 * npyStrings(decodeNpy(file)); // ['alpha', 'β', ''] for numpy.save(file, np.array(['alpha', 'β', '']))
 */
export function npyStrings(array: NdArray): string[] {
  const where = 'npyStrings';
  const m = typeof array?.dtype === 'string' ? /^(?:<U|\|S)([0-9]+)$/.exec(array.dtype) : null;
  const ctor = array?.dtype?.startsWith('<U') ? Uint32Array : Uint8Array;
  if (array === null || typeof array !== 'object' || !m || !(array.data instanceof ctor)) {
    throw new TypeError(`${where}: expected a '<U<n>' array of a Uint32Array or a '|S<n>' array of a Uint8Array, got ${array !== null && typeof array === 'object' ? `dtype ${describe(array.dtype)} and data ${describe(array.data)}` : describe(array)}`);
  }
  const n = Number(m[1]);
  const count = product(checkShape(where, array.shape));
  const data = array.data as Uint32Array | Uint8Array;
  if (data.length !== count * n) throw new RangeError(`${where}: expected data of length ${count * n} for shape [${array.shape.join(', ')}], got length ${data.length}`);
  const out = new Array<string>(count);
  for (let e = 0; e < count; e++) {
    let end = (e + 1) * n;
    while (end > e * n && data[end - 1] === 0) end--;
    let s = '';
    for (let i = e * n; i < end; i++) {
      const c = data[i];
      if (c > 0x10ffff) throw new RangeError(`${where}: expected code points up to 0x10FFFF, got 0x${c.toString(16)} in element ${e}`);
      s += String.fromCodePoint(c);
    }
    out[e] = s;
  }
  return out;
}

// ---- Header parsing: the header is a Python dict literal; this reads the subset NumPy writes. ----

type PyValue = string | number | boolean | null | { tuple: PyValue[] } | { list: PyValue[] } | { dict: Map<PyValue, PyValue> };

function pyRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if ('tuple' in v) return `(${v.tuple.map(pyRepr).join(', ')}${v.tuple.length === 1 ? ',' : ''})`;
  if ('list' in v) return `[${v.list.map(pyRepr).join(', ')}]`;
  return `{${[...v.dict].map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
}

function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`decodeNpy: cannot parse the header ${JSON.stringify(text.trim().slice(0, 200))}: ${what} at character ${i}`);
  };
  const skip = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const value = (depth: number): PyValue => {
    if (depth > 16) fail('nesting too deep');
    skip();
    if (i >= text.length) fail('unexpected end');
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      let s = '';
      for (i++; i < text.length && text[i] !== ch; i++) {
        if (text[i] === '\\') i++;
        s += text[i] ?? '';
      }
      if (i >= text.length) fail('unterminated string');
      i++;
      return s;
    }
    if (ch === '(' || ch === '[' || ch === '{') {
      const close = ch === '(' ? ')' : ch === '[' ? ']' : '}';
      const items: PyValue[] = [];
      const dict = new Map<PyValue, PyValue>();
      let comma = false;
      i++;
      for (;;) {
        skip();
        if (text[i] === close) { i++; break; }
        const item = value(depth + 1);
        if (ch === '{') {
          skip();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          dict.set(item, value(depth + 1));
        } else {
          items.push(item);
        }
        skip();
        if (text[i] === ',') { i++; comma = true; continue; }
        if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
      if (ch === '{') return { dict };
      if (ch === '[') return { list: items };
      // (x) is x in Python, not a 1-tuple.
      return items.length === 1 && !comma ? items[0] : { tuple: items };
    }
    const m = /^(-?[0-9]+)[lL]?|^(True|False|None)\b/.exec(text.slice(i, i + 40));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[2] !== undefined) return m[2] === 'None' ? null : m[2] === 'True';
    return Number(m[1]);
  };
  const v = value(0);
  skip();
  if (i !== text.length) fail('unexpected text after the dictionary');
  return v;
}

// `size` is the element's bytes; `unit` the bytes of each part that has a byte order (what a swap reverses).
// Kind 'h' is float16, 'c' complex, 'U' unicode (UTF-32) strings.
type Dtype = { descr: string; kind: Kind | 'S' | 'b' | 'h' | 'c' | 'U'; size: number; unit: number; littleEndian: boolean };

function parseDescr(descr: PyValue): Dtype {
  if (typeof descr !== 'string') {
    const what = typeof descr === 'object' && descr !== null && 'list' in descr ? 'structured dtypes are' : 'this dtype is';
    throw new Error(`decodeNpy: ${what} not supported, got descr ${pyRepr(descr)}`);
  }
  const m = /^([<>|=]?)([a-zA-Z])([0-9]+)$/.exec(descr);
  if (m) {
    const [, order, kind, digits] = m;
    const size = Number(digits);
    const little = order !== '>';
    if (kind === 'S' && size <= 0xffffffff) return { descr, kind: 'S', size, unit: 1, littleEndian: little };
    if (kind === 'U' && size <= 0x3fffffff) return { descr, kind: 'U', size: size * 4, unit: 4, littleEndian: little };
    if (kind === 'b' && size === 1) return { descr, kind: 'b', size, unit: 1, littleEndian: little };
    if ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(size)) return { descr, kind, size, unit: size, littleEndian: little };
    if (kind === 'f' && (size === 4 || size === 8)) return { descr, kind, size, unit: size, littleEndian: little };
    if (kind === 'f' && size === 2) return { descr, kind: 'h', size, unit: 2, littleEndian: little };
    if (kind === 'c' && (size === 8 || size === 16)) return { descr, kind: 'c', size, unit: size / 2, littleEndian: little };
  }
  const hints: Record<string, string> = {
    O: 'object arrays (pickled Python objects) are not supported', b: 'bool arrays are 1 byte (|b1)',
    f: 'only 2-, 4- and 8-byte floats are supported (float16, float32, float64; not long double)',
    c: 'only complex64 (c8) and complex128 (c16) arrays are supported (not complex long double)',
    U: 'unicode string arrays are supported as <U<n> only', V: 'void/structured arrays are not supported',
    M: 'datetime arrays are not supported', m: 'timedelta arrays are not supported',
  };
  const kind = /^[<>|=]?([a-zA-Z])/.exec(descr)?.[1] ?? '';
  throw new Error(`decodeNpy: ${hints[kind] ?? 'unknown or unsupported dtype'}, got descr ${pyRepr(descr)}`);
}

/**
 * Decodes a .npy file (format 1.0, 2.0 or 3.0) into a fresh, aligned typed array in C order, little- or
 * big-endian and C- or Fortran-ordered files alike.
 * @param bytes - the file's bytes.
 * @param options - `as`: the typed-array constructor to build, for when one NumPy dtype has two JS kinds
 *   ('|u1' decodes as Uint8Array unless `as` is Uint8ClampedArray); it must match the file's dtype.
 * @returns `{ data, shape }`; for the dtypes with no typed array of their own, `{ data, shape, dtype }` with
 *   dtype '|S<n>', '|b1', '<f2', '<c8', '<c16' or '<U<n>' (see {@link NdArray} for what data holds).
 * @throws {TypeError} when bytes is not a Uint8Array or `as` is not a typed-array constructor.
 * @throws {Error} for a malformed file (bad magic, unknown version, unparseable header, truncated or
 *   excess data), an unsupported dtype (objects, structured, datetime, timedelta, long double, void), or a
 *   dtype that `as` cannot hold.
 * @example
 * decodeNpy(encodeNpy({ data: new Int32Array([1, 2]), shape: [2] })); // { data: Int32Array [1, 2], shape: [2] }
 * decodeNpy(file, { as: Uint8ClampedArray });
 */
export function decodeNpy(bytes: Uint8Array, options?: { as?: TypedArrayConstructor; view?: boolean }): NdArray {
  const where = 'decodeNpy';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${where}: expected bytes to be a Uint8Array, got ${describe(bytes)}`);
  const opts = optionsObject(where, options);
  knownKeys(where, opts, ['as', 'view']);
  const as = opts.as;
  if (as !== undefined && kindOf(as as Function) === undefined) {
    throw new TypeError(`${where}: expected options.as to be a typed-array constructor, got ${describe(as)}`);
  }

  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const head = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`${where}: not an NPY file: expected it to start with the magic \\x93NUMPY (93 4e 55 4d 50 59), got ${head ? `${head}` : 'an empty file'}${bytes.length < 10 ? ` (${bytes.length} bytes)` : ''}`);
  }
  const major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) throw new Error(`${where}: unsupported NPY format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) throw new Error(`${where}: truncated file: expected at least ${prefix} bytes, got ${bytes.length}`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = prefix + headerLength;
  if (bytes.length < dataStart) {
    throw new Error(`${where}: truncated file: expected a header of ${headerLength} bytes, got ${bytes.length - prefix}`);
  }
  // NumPy refuses headers over 10000 characters; we allow more but not a header that could exhaust memory.
  if (headerLength > MAX_HEADER) throw new Error(`${where}: expected a header of at most ${MAX_HEADER} bytes, got ${headerLength}`);
  const headerBytes = bytes.subarray(prefix, dataStart);
  // Versions 1.0 and 2.0 are latin-1 (each byte one character); 3.0 is UTF-8.
  let header = '';
  if (major === 3) header = new TextDecoder().decode(headerBytes);
  else for (const b of headerBytes) header += String.fromCharCode(b);

  const parsed = parsePyLiteral(header);
  if (parsed === null || typeof parsed !== 'object' || !('dict' in parsed)) {
    throw new Error(`${where}: expected the header to be a dictionary, got ${pyRepr(parsed).slice(0, 200)}`);
  }
  const keys = [...parsed.dict.keys()];
  const expectedKeys = ['descr', 'fortran_order', 'shape'];
  if (keys.length !== 3 || !expectedKeys.every((k) => parsed.dict.has(k))) {
    throw new Error(`${where}: expected the header keys 'descr', 'fortran_order', 'shape', got ${keys.map(pyRepr).join(', ') || 'none'}`);
  }
  const dtype = parseDescr(parsed.dict.get('descr')!);
  const fortran = parsed.dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw new Error(`${where}: expected fortran_order to be True or False, got ${pyRepr(fortran!)}`);
  const shapeValue = parsed.dict.get('shape')!;
  if (typeof shapeValue !== 'object' || shapeValue === null || !('tuple' in shapeValue)
    || !shapeValue.tuple.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)
    || shapeValue.tuple.length > MAX_DIMS) {
    throw new Error(`${where}: expected shape to be a tuple of at most ${MAX_DIMS} non-negative integers, got ${pyRepr(shapeValue)}`);
  }
  const shape = shapeValue.tuple as number[];

  const count = product(shape);
  const nbytes = count * dtype.size;
  const available = bytes.length - dataStart;
  if (nbytes !== available) {
    const what = nbytes > available ? 'truncated data' : 'unexpected bytes after the data';
    throw new Error(`${where}: ${what}: expected ${nbytes} data bytes for ${dtype.descr} shape ${shapeRepr(shape)}, got ${available}`);
  }

  // A copy: the data's offset in the file need not be aligned for its element size, and the caller owns it.
  // (Not bytes.slice: on a Node Buffer that is a view into a shared pool.) With options.view, a caller that
  // owns `bytes` (a file just read) gets a view instead when the data is aligned and needs no reordering.
  const inPlace = opts.view === true && (bytes.byteOffset + dataStart) % dtype.unit === 0
    && (dtype.unit === 1 || dtype.littleEndian === hostIsLittleEndian()) && !(fortran && shape.length > 1 && count > 1);
  let raw: Uint8Array = inPlace ? bytes.subarray(dataStart) : new Uint8Array(bytes.subarray(dataStart));
  if (dtype.unit > 1 && dtype.littleEndian !== hostIsLittleEndian()) swapBytes(raw, dtype.unit);
  if (fortran && shape.length > 1 && count > 1) raw = fortranToC(raw, shape, dtype.size, count);

  const special: Partial<Record<Dtype['kind'], [TypedArrayConstructor, string]>> = {
    S: [Uint8Array, `|S${dtype.size}`], b: [Uint8Array, '|b1'], U: [Uint32Array, `<U${dtype.size / 4}`],
    h: [Float32Array, '<f2'], c: [dtype.size === 8 ? Float32Array : Float64Array, `<c${dtype.size}`],
  };
  const represented = special[dtype.kind];
  if (represented !== undefined) {
    const [ctor, name] = represented;
    if (as !== undefined && as !== ctor) {
      throw new Error(`${where}: the file holds ${dtype.descr} data, which cannot be read as ${(as as Function).name} (it is read as a ${ctor.name})`);
    }
    if (dtype.kind === 'h') return { data: halfToFloat32(new Uint16Array(raw.buffer, raw.byteOffset, count)), shape, dtype: name };
    const data = new (ctor as Uint8ArrayConstructor)(raw.buffer, raw.byteOffset, raw.byteLength / ctor.BYTES_PER_ELEMENT) as TypedArray;
    return { data, shape, dtype: name };
  }
  const ctor = as ?? KINDS.find(([, k, s]) => k === dtype.kind && s === dtype.size)![0];
  const kind = kindOf(ctor as Function)!;
  if (kind[1] !== dtype.kind || kind[2] !== dtype.size) {
    throw new Error(`${where}: the file holds ${dtype.descr} data, which cannot be read as ${(ctor as Function).name}`);
  }
  return { data: new (ctor as Uint8ArrayConstructor)(raw.buffer, raw.byteOffset, count) as TypedArray, shape };
}
