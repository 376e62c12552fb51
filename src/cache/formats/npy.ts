// NumPy's .npy format (numpy.lib.format) in memory: encode typed arrays as NumPy writes them, decode what
// NumPy (any version of the format, either byte order, C or Fortran order) writes.

import { describe, optionsObject, knownKeys } from '../../_args.js';
import { hostIsLittleEndian, swapBytes } from './byte-order.js';

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
 * An N-D array in C order (last axis fastest), as NumPy keeps it. Numeric arrays carry their dtype in the
 * kind of `data`; `dtype` is only set where that kind says too little, and `data` is then a Uint8Array:
 * `'|S<n>'` fixed-width byte strings (e.g. SciPy's `format` entry), n bytes per element, NUL-padded as
 * NumPy pads them; `'|b1'` booleans (e.g. SciPy's `_is_array` entry), one byte 0 or 1 per element.
 */
export type NdArray = { data: TypedArray; shape: number[]; dtype?: string };

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
 *   or `{ data: Uint8Array, shape, dtype }` with dtype '|S<n>' (byte strings of n bytes each) or '|b1' (0 or 1).
 * @returns the file's bytes.
 * @throws {TypeError} when data is not a supported typed array, or shape not an array.
 * @throws {RangeError} when shape has negative, non-integer or over 64 axes, or does not match data's length.
 * @example
 * const file = encodeNpy({ data: new Float64Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
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
  if (dtype === undefined || dtype === npyDescr(data)) {
    descr = npyDescr(data);
    itemsize = data.BYTES_PER_ELEMENT;
  } else {
    const m = typeof dtype === 'string' ? /^\|(?:S([1-9][0-9]{0,8})|b1)$/.exec(dtype) : null;
    if (!m) throw new RangeError(`${where}: expected dtype to be '|S<n>', '|b1' or ${JSON.stringify(npyDescr(data))} (the data's own), got ${describe(dtype)}`);
    if (!(data instanceof Uint8Array)) throw new TypeError(`${where}: expected the data of a ${dtype} array to be a Uint8Array, got ${describe(data)}`);
    descr = dtype;
    itemsize = m[1] === undefined ? 1 : Number(m[1]);
    const bad = m[1] === undefined ? data.findIndex((b) => b > 1) : -1;
    if (bad >= 0) throw new RangeError(`${where}: expected the bytes of a |b1 array to be 0 or 1, got data[${bad}] = ${data[bad]}`);
  }
  if (data.byteLength !== count * itemsize) {
    const per = itemsize === data.BYTES_PER_ELEMENT ? '' : ` (${itemsize} bytes per element)`;
    throw new RangeError(`${where}: expected data of length ${count * itemsize / data.BYTES_PER_ELEMENT} for shape [${shape.join(', ')}]${per}, got length ${data.length}`);
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
  let body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (!hostIsLittleEndian() && dtype === undefined) {
    body = body.slice();
    swapBytes(body, itemsize);
  }
  return { header: out, body };
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

type Dtype = { descr: string; kind: Kind | 'S' | 'b'; size: number; littleEndian: boolean };

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
    if (kind === 'S' && size <= 0xffffffff) return { descr, kind: 'S', size, littleEndian: little };
    if (kind === 'b' && size === 1) return { descr, kind: 'b', size, littleEndian: little };
    if ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(size)) return { descr, kind, size, littleEndian: little };
    if (kind === 'f' && (size === 4 || size === 8)) return { descr, kind, size, littleEndian: little };
  }
  const hints: Record<string, string> = {
    O: 'object arrays (pickled Python objects) are not supported', b: 'bool arrays are 1 byte (|b1)',
    f: 'only 4- and 8-byte floats are supported (Node 20 has no Float16Array)', c: 'complex arrays are not supported',
    U: 'unicode string arrays are not supported (only byte strings |S<n>)', V: 'void/structured arrays are not supported',
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
 * @returns `{ data, shape }`; for byte strings and booleans `{ data: Uint8Array, shape, dtype: '|S<n>' | '|b1' }`.
 * @throws {TypeError} when bytes is not a Uint8Array or `as` is not a typed-array constructor.
 * @throws {Error} for a malformed file (bad magic, unknown version, unparseable header, truncated or
 *   excess data), an unsupported dtype (objects, structured, complex, float16, unicode, datetime), or a dtype
 *   that `as` cannot hold.
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
  const inPlace = opts.view === true && (bytes.byteOffset + dataStart) % dtype.size === 0
    && (dtype.size === 1 || dtype.littleEndian === hostIsLittleEndian()) && !(fortran && shape.length > 1 && count > 1);
  let raw: Uint8Array = inPlace ? bytes.subarray(dataStart) : new Uint8Array(bytes.subarray(dataStart));
  if (dtype.kind !== 'S' && dtype.size > 1 && dtype.littleEndian !== hostIsLittleEndian()) swapBytes(raw, dtype.size);
  if (fortran && shape.length > 1 && count > 1) raw = fortranToC(raw, shape, dtype.size, count);

  if (dtype.kind === 'S' || dtype.kind === 'b') {
    if (as !== undefined && as !== Uint8Array) throw new Error(`${where}: the file holds ${dtype.descr} data, which cannot be read as ${(as as Function).name}`);
    return { data: raw, shape, dtype: dtype.kind === 'S' ? `|S${dtype.size}` : '|b1' };
  }
  const ctor = as ?? KINDS.find(([, k, s]) => k === dtype.kind && s === dtype.size)![0];
  const kind = kindOf(ctor as Function)!;
  if (kind[1] !== dtype.kind || kind[2] !== dtype.size) {
    throw new Error(`${where}: the file holds ${dtype.descr} data, which cannot be read as ${(ctor as Function).name}`);
  }
  return { data: new (ctor as Uint8ArrayConstructor)(raw.buffer, raw.byteOffset, count) as TypedArray, shape };
}
