// NumPy's .npz format in memory: a zip of one .npy file per named array, as numpy.savez (stored) and
// numpy.savez_compressed (deflate) write it.

import { describe, knownKeys, oneOf, optionsObject } from '../../_args.js';
import { decodeNpy, npyParts, type NdArray, type TypedArrayConstructor } from './npy.js';
import { readZip, writeZip, type Crc32, type ZipMember } from './zip.js';

/** How the arrays are stored in the zip: 'none' as numpy.savez, 'deflate' (level 6) as savez_compressed. */
export type NpzCompression = 'none' | 'deflate';

// Names become file names inside the zip and keys of the decoded record: a safe alphabet only.
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

function nameProblem(name: string): string | undefined {
  if (!NAME.test(name)) {
    return "expected a name of 1 to 200 letters, digits, '_', '.' or '-', not starting with '.' or '-'";
  }
  if (name.includes('..')) return "expected a name without '..'";
  return undefined;
}

/**
 * Encodes named arrays as a .npz file that numpy.load reads (each array as `<name>.npy`).
 * @param entries - a record of at least one array `{ data, shape }`; names are 1 to 200 letters, digits,
 *   '_', '.' and '-', not starting with '.' or '-', without '..'.
 * @param options - `compression`: 'none' (the default, as numpy.savez) or 'deflate' (as savez_compressed);
 *   `comment`: the zip's archive comment (at most 65535 bytes; numpy.load ignores it).
 * @returns the zip's bytes (deterministic: the entries' dates are fixed at 1980-01-01).
 * @throws {TypeError} when entries is not an object, or an array is malformed (see {@link encodeNpy}).
 * @throws {RangeError} for no entries, a bad name, an unknown compression, or an array whose shape does
 *   not match its data.
 * @example
 * const file = encodeNpz({ x: { data: new Float64Array([0, 0.5, 1]), shape: [3] } }, { compression: 'deflate' });
 * // numpy.load(file)['x'] is array([0. , 0.5, 1. ])
 */
export function encodeNpz(entries: Record<string, NdArray>, options?: { compression?: NpzCompression; crc32?: Crc32; comment?: Uint8Array }): Uint8Array {
  const where = 'encodeNpz';
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries) || ArrayBuffer.isView(entries)) {
    throw new TypeError(`${where}: expected entries to be a record of arrays, got ${describe(entries)}`);
  }
  const opts = optionsObject(where, options);
  knownKeys(where, opts, ['compression', 'crc32', 'comment']);
  const compression = opts.compression === undefined ? 'none' : oneOf(where, 'options.compression', opts.compression, ['none', 'deflate'] as const);
  const names = Object.keys(entries);
  if (names.length === 0) throw new RangeError(`${where}: expected at least one array, got an empty record`);
  const members: ZipMember[] = [];
  for (const name of names) {
    const problem = nameProblem(name);
    if (problem) throw new RangeError(`${where}: ${problem}, got ${describe(name)}`);
    let npy: { header: Uint8Array; body: Uint8Array };
    try {
      npy = npyParts('encodeNpy', entries[name]);
    } catch (error) {
      // Say which array was wrong, keeping the error's class.
      if (error instanceof TypeError || error instanceof RangeError) {
        const Class = error.constructor as new (message: string, options?: { cause?: unknown }) => Error;
        throw new Class(`${where}: array ${JSON.stringify(name)}: ${error.message.replace(/^encodeNpy: /, '')}`, { cause: error });
      }
      throw error;
    }
    members.push({ name: `${name}.npy`, parts: [npy.header, npy.body] });
  }
  return writeZip(members, { deflate: compression === 'deflate', crc32: opts.crc32 as Crc32 | undefined, comment: opts.comment as Uint8Array | undefined });
}

/**
 * Decodes a .npz file (as numpy.savez, savez_compressed or scipy.sparse.save_npz write) into a record of
 * arrays keyed by member name without '.npy'. Members not ending in '.npy' are ignored.
 * @param bytes - the file's bytes.
 * @param options - `as`: per array name, the typed-array constructor to build (see {@link decodeNpy}).
 * @returns a record of fresh `{ data, shape }` arrays (and `dtype` for byte strings).
 * @throws {TypeError} when bytes is not a Uint8Array.
 * @throws {Error} when bytes is not a zip, holds no .npy member, a member name is not a safe name, or a
 *   member is not a supported .npy file (the message names the member).
 * @example
 * decodeNpz(encodeNpz({ a: { data: new Int8Array([1]), shape: [] } })).a; // { data: Int8Array [1], shape: [] }
 */
export function decodeNpz(bytes: Uint8Array, options?: { as?: Record<string, TypedArrayConstructor>; view?: boolean }): Record<string, NdArray> {
  const where = 'decodeNpz';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${where}: expected bytes to be a Uint8Array, got ${describe(bytes)}`);
  const opts = optionsObject(where, options);
  knownKeys(where, opts, ['as', 'view']);
  if (opts.as !== undefined && (opts.as === null || typeof opts.as !== 'object')) {
    throw new TypeError(`${where}: expected options.as to be a record of typed-array constructors, got ${describe(opts.as)}`);
  }
  const as = (opts.as ?? {}) as Record<string, TypedArrayConstructor>;
  // A zip starts with a local file header ("PK\3\4") and ends with an end-of-central-directory record.
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`${where}: not a zip archive: expected it to start with "PK" (50 4b), got ${head || 'an empty file'} (${bytes.length} bytes)`);
  }
  let members: Record<string, Uint8Array>;
  try {
    members = Object.fromEntries(readZip(bytes, (name) => name.endsWith('.npy')));
  } catch (error) {
    throw new Error(`${where}: not a readable zip archive: ${(error as Error).message}`, { cause: error });
  }
  const names = Object.keys(members);
  if (names.length === 0) throw new Error(`${where}: expected the zip to hold .npy members, got none`);
  const out: Record<string, NdArray> = {};
  for (const member of names) {
    const name = member.slice(0, -'.npy'.length);
    const problem = nameProblem(name);
    if (problem) throw new Error(`${where}: unsupported member name: ${problem}, got ${describe(member)}`);
    let array: NdArray;
    try {
      array = decodeNpy(members[member], { ...(Object.hasOwn(as, name) ? { as: as[name] } : {}), view: opts.view === true });
    } catch (error) {
      if (error instanceof TypeError) throw error;
      throw new Error(`${where}: member ${JSON.stringify(member)}: ${(error as Error).message.replace(/^decodeNpy: /, '')}`, { cause: error });
    }
    // defineProperty, so that a member named '__proto__' is an ordinary key.
    Object.defineProperty(out, name, { value: array, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
