// CSR matrices as the .npz files scipy.sparse.save_npz writes and scipy.sparse.load_npz reads: members
// indices, indptr, format (b'csr'), shape (int64 [rows, cols]) and data.

import { describe } from '../../_args.js';
import { checkCsr, type CsrMatrix } from '../../kernels/csr.js';
import { type NdArray } from './npy.js';
import { decodeNpz, encodeNpz, type NpzCompression } from './npz.js';
import type { Crc32 } from './zip.js';

// save_npz also writes `_is_array` (a bool) for csr_array; it changes nothing here, so it is ignored.
const MEMBERS = ['indices', 'indptr', 'format', 'shape', 'data'] as const;

/** The text of a byte-string array's single element, without NumPy's NUL padding. */
function byteStringValue(a: NdArray | undefined): string | undefined {
  if (a === undefined || typeof a.dtype !== 'string' || !a.dtype.startsWith('|S') || a.shape.length > 1
    || (a.shape.length === 1 && a.shape[0] !== 1) || !(a.data instanceof Uint8Array)) return undefined;
  let end = a.data.length;
  while (end > 0 && a.data[end - 1] === 0) end--;
  return String.fromCharCode(...a.data.subarray(0, Math.min(end, 64)));
}

/**
 * Whether decoded .npz entries are a SciPy sparse matrix in CSR form (what save_npz writes for a
 * csr_matrix or csr_array): a `format` byte string 'csr' beside indices, indptr, shape and data.
 * @param entries - the record {@link decodeNpz} returns.
 * @returns true when {@link csrFromNpzEntries} applies.
 * @example
 * isCsrNpz(decodeNpz(encodeCsrNpz(laplacian([3])))); // true
 */
export function isCsrNpz(entries: Record<string, NdArray>): boolean {
  if (entries === null || typeof entries !== 'object') return false;
  return byteStringValue(entries.format) === 'csr' && MEMBERS.every((m) => Object.hasOwn(entries, m));
}

/**
 * The .npz members of a CSR matrix, as save_npz lays them out (shape as int64).
 * @param a - the matrix; its structure and column indices are checked.
 * @returns a record for {@link encodeNpz}; the arrays share memory with `a`.
 * @throws {TypeError} for a malformed matrix.
 * @throws {RangeError} for inconsistent structure or a column index outside [0, cols).
 * @example
 * encodeNpz(csrToNpzEntries(laplacian([4])));
 */
export function csrToNpzEntries(a: CsrMatrix): Record<string, NdArray> {
  return toEntries('csrToNpzEntries', a);
}

function toEntries(where: string, a: CsrMatrix): Record<string, NdArray> {
  const [rows, cols] = checkCsr(where, a);
  // checkCsr leaves column indices to the kernels; a file must not hold any out of range.
  const bad = a.indices.findIndex((c) => c < 0 || c >= cols);
  if (bad >= 0) throw new RangeError(`${where}: expected column indices in [0, ${cols}), got matrix.indices[${bad}] = ${a.indices[bad]}`);
  return {
    indices: { data: a.indices, shape: [a.indices.length] },
    indptr: { data: a.indptr, shape: [rows + 1] },
    format: { data: new Uint8Array([0x63, 0x73, 0x72]), shape: [], dtype: '|S3' }, // b'csr'
    shape: { data: new BigInt64Array([BigInt(rows), BigInt(cols)]), shape: [2] },
    data: { data: a.data, shape: [a.data.length] },
  };
}

/**
 * Encodes a CSR matrix as the .npz file scipy.sparse.save_npz writes (int32 indices, float64 data);
 * scipy.sparse.load_npz reads it as a csr_matrix.
 * @param a - the matrix.
 * @param options - `compression`: 'none' (the default) or 'deflate' (as save_npz's default, compressed=True).
 * @returns the file's bytes.
 * @throws {TypeError} for a malformed matrix or options.
 * @throws {RangeError} for inconsistent structure, a column index outside [0, cols), an unknown compression.
 * @example
 * const file = encodeCsrNpz(laplacian([10, 10]), { compression: 'deflate' });
 */
export function encodeCsrNpz(a: CsrMatrix, options?: { compression?: NpzCompression; crc32?: Crc32; comment?: Uint8Array }): Uint8Array {
  return encodeNpz(toEntries('encodeCsrNpz', a), options);
}

/** The values of an integer array as an Int32Array, checked to fit. */
function toInt32(where: string, name: string, a: NdArray): Int32Array {
  const d = a.data;
  if (d instanceof Int32Array) return d;
  if (d instanceof Float32Array || d instanceof Float64Array || a.dtype !== undefined) {
    throw new Error(`${where}: expected ${name} to hold integers, got ${a.dtype ?? d.constructor.name}`);
  }
  const out = new Int32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v < -(2 ** 31) || v > 2 ** 31 - 1) {
      throw new Error(`${where}: expected ${name} values to fit in int32, got ${name}[${i}] = ${describe(v)}`);
    }
    out[i] = Number(v);
  }
  return out;
}

/**
 * The CSR matrix held by decoded save_npz entries. int64 (or other integer) indices and indptr are
 * converted to Int32Array after a range check; data of another numeric dtype is converted to Float64Array.
 * @param entries - the record {@link decodeNpz} returns.
 * @returns a CsrMatrix, sharing memory with entries already Int32Array/Float64Array.
 * @throws {Error} when the entries are not a CSR matrix (a missing member, another sparse format) or
 *   hold an inconsistent one (wrong lengths, indptr not monotone, a column index out of range).
 * @example
 * csrFromNpzEntries(decodeNpz(fileFromSaveNpz));
 */
export function csrFromNpzEntries(entries: Record<string, NdArray>): CsrMatrix {
  return fromEntries('csrFromNpzEntries', entries);
}

function fromEntries(where: string, entries: Record<string, NdArray>): CsrMatrix {
  if (entries === null || typeof entries !== 'object') throw new TypeError(`${where}: expected a record of arrays, got ${describe(entries)}`);
  if (!Object.hasOwn(entries, 'format')) throw new Error(`${where}: not a scipy.sparse file: expected a 'format' member, got ${Object.keys(entries).join(', ')}`);
  const format = byteStringValue(entries.format);
  if (format !== 'csr') {
    const found = format === undefined ? `a ${entries.format.dtype ?? entries.format.data.constructor.name} array of shape [${entries.format.shape}]` : JSON.stringify(format);
    throw new Error(`${where}: expected a sparse matrix in 'csr' format, got format ${found}`);
  }
  const missing = MEMBERS.filter((m) => !Object.hasOwn(entries, m));
  if (missing.length > 0) throw new Error(`${where}: expected the members ${MEMBERS.join(', ')}; missing ${missing.join(', ')}`);
  for (const m of ['indices', 'indptr', 'data', 'shape'] as const) {
    if (entries[m].shape.length !== 1) throw new Error(`${where}: expected ${m} to be 1-D, got shape [${entries[m].shape.join(', ')}]`);
  }
  const shape = toInt32(where, 'shape', entries.shape);
  if (shape.length !== 2) throw new Error(`${where}: expected shape to hold [rows, cols], got ${shape.length} values`);
  const raw = entries.data;
  if (raw.dtype !== undefined) throw new Error(`${where}: expected data to be numeric, got ${raw.dtype}`);
  const data = raw.data instanceof Float64Array ? raw.data : Float64Array.from(raw.data as ArrayLike<number | bigint>, Number);
  const a: CsrMatrix = {
    shape: [shape[0], shape[1]],
    indptr: toInt32(where, 'indptr', entries.indptr),
    indices: toInt32(where, 'indices', entries.indices),
    data,
  };
  try {
    toEntries(where, a);
  } catch (error) {
    // The matrix came from a file: an inconsistency is a malformed file, not a bad argument.
    throw new Error(`${where}: the file holds an inconsistent CSR matrix: ${(error as Error).message.replace(`${where}: `, '')}`, { cause: error });
  }
  return a;
}

/**
 * Decodes a .npz file written by scipy.sparse.save_npz (or {@link encodeCsrNpz}) holding a CSR matrix.
 * @param bytes - the file's bytes.
 * @returns a fresh CsrMatrix (Int32Array indptr and indices, Float64Array data).
 * @throws {TypeError} when bytes is not a Uint8Array.
 * @throws {Error} when bytes is not a .npz file, not a CSR matrix, or an inconsistent one.
 * @example
 * const a = decodeCsrNpz(encodeCsrNpz(laplacian([3]))); // a.shape is [3, 3]
 */
export function decodeCsrNpz(bytes: Uint8Array): CsrMatrix {
  const entries = decodeNpz(bytes);
  return fromEntries('decodeCsrNpz', entries);
}
