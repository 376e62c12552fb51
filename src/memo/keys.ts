// Canonical cache keys from a function's name and arguments: readable where the arguments are simple
// (numbers, short words, integer shapes), and made unambiguous by a hash where they are not.

import { describe } from '../_args.js';
import { KEY_PATTERN } from '../cache/keys.js';
import { isTypedArray } from '../cache/formats/npy.js';
import { isPlainObject } from '../cache/formats/json.js';
import { sha256Hex } from '../kernels/sha256.js';

/** Hex SHA-256 of bytes; the cache passes its platform's fastest engine. */
export type Digest = (bytes: Uint8Array) => string;

// Keys end up as file names (plus an extension) and must stay under the key pattern's 200 characters.
const MAX_READABLE = 120;
const HASH_CHARS = 32; // 128 bits
// Arguments larger than this are keyed by their hash alone.
const MAX_INLINE_STRING = 64;
const MAX_INLINE_ARRAY = 16;

const RESERVED_WORDS = new Set(['true', 'false', 'null', 'undefined', 'nan', 'inf']);

/**
 * A number as Python's `repr` writes it (the shortest digits that read back to the same double), so keys
 * match those the Python cache wrote: `0.5`, `0.01`, `1e-05`, `1000`. Two differences a file name needs:
 * an integral value has no `.0`, and an exponent has no `+` (`1e16`). -0, NaN and ±Infinity are `-0`,
 * `nan`, `inf`, `-inf`.
 * @param x - any number.
 * @returns its spelling in keys.
 * @example formatNumber(3 / 2) === '1.5'; formatNumber(1e-5) === '1e-05'
 */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  // toExponential() with no argument gives the shortest round-trip digits.
  const [mantissa, exp] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const e = Number(exp);
  const sign = x < 0 ? '-' : '';
  if (e < -4 || e >= 16) {
    const rest = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const expDigits = String(Math.abs(e)).padStart(2, '0');
    return `${sign}${digits[0]}${rest}e${e < 0 ? '-' : ''}${expDigits}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  if (digits.length <= e + 1) return `${sign}${digits}${'0'.repeat(e + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
}

// instanceof, not the constructor's name: a Buffer is keyed as the Uint8Array it is.
const DTYPES: [abstract new (...args: never[]) => ArrayBufferView, string][] = [
  [Float64Array, 'f64'], [Float32Array, 'f32'], [Int8Array, 'i8'], [Uint8Array, 'u8'], [Uint8ClampedArray, 'u8c'],
  [Int16Array, 'i16'], [Uint16Array, 'u16'], [Int32Array, 'i32'], [Uint32Array, 'u32'],
  [BigInt64Array, 'i64'], [BigUint64Array, 'u64'],
];

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

interface Rendered {
  /** What goes into the key. */
  readable: string;
  /** Whether `readable` alone tells this argument apart from every other (else a hash is appended). */
  exact: boolean;
  /** A complete, unambiguous spelling of the argument, hashed when the readable one is not exact. */
  canonical: string;
}

class KeyError extends TypeError {}

function render(value: unknown, digest: Digest, path: string, seen: Set<object>): Rendered {
  const exact = (text: string): Rendered => ({ readable: text, exact: true, canonical: text });
  switch (typeof value) {
    case 'number': return exact(formatNumber(value));
    case 'bigint': return exact(`${value}n`);
    case 'boolean': return exact(String(value));
    case 'undefined': return exact('undefined');
    case 'string': {
      const canonical = JSON.stringify(value);
      if (value.length > MAX_INLINE_STRING) {
        return { readable: `s${value.length}`, exact: false, canonical: `str:${digest(new TextEncoder().encode(value))}` };
      }
      // A simple word cannot be mistaken for a number, a shape, or a hashed array (those contain '-' or start with a digit).
      if (/^[A-Za-z][A-Za-z0-9.]*$/.test(value) && !RESERVED_WORDS.has(value.toLowerCase())) return { readable: value, exact: true, canonical };
      return { readable: value.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-+|-+$/g, '') || 's', exact: false, canonical };
    }
    case 'object': {
      if (value === null) return exact('null');
      if (isTypedArray(value) || value instanceof DataView || value instanceof ArrayBuffer) {
        const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : bytesOf(value);
        const dtype = DTYPES.find(([ctor]) => value instanceof ctor)?.[1] ?? 'bytes';
        const length = dtype === 'bytes' ? bytes.length : (value as { length: number }).length;
        const token = `${dtype}-${length}-${digest(bytes).slice(0, HASH_CHARS)}`;
        return exact(token);
      }
      if (seen.has(value)) throw new KeyError(`${path} refers to itself (a cycle)`);
      seen.add(value);
      try {
        if (Array.isArray(value)) return renderArray(value, digest, path, seen);
        if (isPlainObject(value)) {
          // An N-D array { data, shape } is keyed like its data, with the shape in place of the length.
          if (isTypedArray(value.data) && Array.isArray(value.shape) && Object.keys(value).length === 2) {
            const data = render(value.data, digest, `${path}.data`, seen).readable.split('-');
            return exact(`${data[0]}-${(value.shape as unknown[]).map((n) => formatNumber(Number(n))).join('x')}-${data[2]}`);
          }
          return renderObject(value, digest, path, seen);
        }
      } finally {
        seen.delete(value);
      }
      throw new KeyError(`${path} is ${describe(value)}, which has no canonical form (give memoize a key function)`);
    }
    default:
      throw new KeyError(`${path} is ${describe(value)}, which has no canonical form (give memoize a key function)`);
  }
}

function renderArray(items: unknown[], digest: Digest, path: string, seen: Set<object>): Rendered {
  const parts = items.map((item, i) => render(item, digest, `${path}[${i}]`, seen));
  const canonical = `[${parts.map((p) => p.canonical).join(',')}]`;
  // Integer shapes, the common case, read as 64x64x64.
  if (items.length > 0 && items.length <= MAX_INLINE_ARRAY && items.every((n) => Number.isSafeInteger(n))) {
    return { readable: parts.map((p) => p.readable).join('x'), exact: true, canonical };
  }
  if (items.length > MAX_INLINE_ARRAY) return { readable: `a${items.length}`, exact: false, canonical };
  return { readable: parts.map((p) => p.readable).join('.') || 'a0', exact: false, canonical };
}

function renderObject(record: Record<string, unknown>, digest: Digest, path: string, seen: Set<object>): Rendered {
  const names = Object.keys(record).filter((name) => record[name] !== undefined).sort();
  const parts = names.map((name) => [name, render(record[name], digest, `${path}.${name}`, seen)] as const);
  const canonical = `{${parts.map(([name, p]) => `${JSON.stringify(name)}:${p.canonical}`).join(',')}}`;
  const readable = parts.map(([name, p]) => `${name.replace(/[^A-Za-z0-9]+/g, '')}-${p.readable}`).join('.');
  return { readable: readable || 'o', exact: false, canonical };
}

/**
 * The canonical key of a call: `<name>_<arg1>_<arg2>...`. Numbers are written as {@link formatNumber}
 * does, integer arrays as `64x64`, simple words as themselves, typed arrays as `<dtype>-<length>-<sha256>`
 * (`{ data, shape }` with its shape), and when any argument has no exact readable form (objects, other
 * strings and arrays, large inputs) the key ends in a hash of the arguments' complete spelling. Keys
 * longer than the pattern allows keep a readable prefix and that hash. Trailing `undefined` arguments are
 * dropped, so `f(1)` and `f(1, undefined)` share a key.
 * @param name - the function's name; it must be a valid key on its own.
 * @param args - the call's arguments.
 * @param digest - hex SHA-256 (the cache's).
 * @returns a key that matches the cache's key pattern.
 * @throws {TypeError} for a bad name, or an argument with no canonical form (a function, a symbol, a
 *   class instance, a cycle), naming the argument.
 * @example canonicalKey('kernel', [0.5, 0.01, 1000]) === 'kernel_0.5_0.01_1000'
 */
export function canonicalKey(name: string, args: readonly unknown[], digest: Digest = sha256Hex): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(name) || name.length > MAX_READABLE) {
    throw new TypeError(`memoize: expected a function name of letters, digits, '.' and '-' (at most ${MAX_READABLE}), `
      + `got ${describe(name)}; give memoize a name option or a key function`);
  }
  let count = args.length;
  while (count > 0 && args[count - 1] === undefined) count--;
  const parts: Rendered[] = [];
  for (let i = 0; i < count; i++) {
    try {
      parts.push(render(args[i], digest, `argument ${i + 1}`, new Set()));
    } catch (error) {
      if (error instanceof KeyError) throw new TypeError(`memoize(${name}): cannot key the call: ${error.message}`);
      throw error;
    }
  }
  const readable = [name, ...parts.map((p) => p.readable)].join('_');
  const exact = parts.every((p) => p.exact);
  if (exact && readable.length <= MAX_READABLE) return readable;
  const hash = digest(new TextEncoder().encode(`${name}(${parts.map((p) => p.canonical).join(',')})`)).slice(0, HASH_CHARS);
  const prefix = readable.slice(0, MAX_READABLE).replace(/[._-]+$/, '');
  const key = `${prefix}_${hash}`;
  if (!KEY_PATTERN.test(key)) throw new Error(`memoize(${name}): internal error, made an invalid key ${key}`);
  return key;
}
