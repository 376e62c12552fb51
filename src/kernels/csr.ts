// Compressed sparse row matrices and their product with a vector.

import { describe, float64Array, int32Array, integerInRange } from '../_args.js';
import { f64View, i32View, layout } from '../wasm/memory.js';
import { runKernel } from '../wasm/loader.js';

/** A sparse matrix in compressed sparse row form, laid out as scipy.sparse.csr_matrix. */
export type CsrMatrix = {
  /** [rows, cols]. */
  shape: [number, number];
  /** rows + 1 offsets: row i's entries are at indptr[i] .. indptr[i + 1] - 1 of `indices` and `data`. */
  indptr: Int32Array;
  /** The column of each stored entry. */
  indices: Int32Array;
  /** The value of each stored entry. */
  data: Float64Array;
};

// Entries staged per band: large enough to amortise the call, small enough to stay in cache.
const BAND_ENTRIES = 1 << 15;

/** Checks a CsrMatrix's structure (shape, indptr monotone and consistent); returns [rows, cols]. */
export function checkCsr(where: string, a: unknown): [number, number] {
  if (a === null || typeof a !== 'object') throw new TypeError(`${where}: expected a CsrMatrix, got ${describe(a)}`);
  const m = a as Partial<CsrMatrix>;
  if (!Array.isArray(m.shape) || m.shape.length !== 2) {
    throw new TypeError(`${where}: expected matrix.shape to be [rows, cols], got ${describe(m.shape)}`);
  }
  const rows = integerInRange(where, 'matrix.shape[0]', m.shape[0], 0, 2 ** 31 - 2);
  const cols = integerInRange(where, 'matrix.shape[1]', m.shape[1], 0, 2 ** 31 - 1);
  const indptr = int32Array(where, 'matrix.indptr', m.indptr, rows + 1);
  const indices = int32Array(where, 'matrix.indices', m.indices);
  float64Array(where, 'matrix.data', m.data, indices.length);
  if (indptr[0] !== 0) throw new RangeError(`${where}: expected matrix.indptr[0] to be 0, got ${indptr[0]}`);
  for (let r = 0; r < rows; r++) {
    if (indptr[r + 1] < indptr[r]) {
      throw new RangeError(`${where}: expected matrix.indptr to be non-decreasing, got indptr[${r}] = ${indptr[r]} > indptr[${r + 1}] = ${indptr[r + 1]}`);
    }
  }
  if (indptr[rows] !== indices.length) {
    throw new RangeError(`${where}: expected matrix.indptr[${rows}] to equal the ${indices.length} stored entries, got ${indptr[rows]}`);
  }
  return [rows, cols];
}

/**
 * The product y = A x of a CSR matrix and a vector.
 * @param a - the matrix (column indices are checked to lie in [0, cols)).
 * @param x - Float64Array of length cols.
 * @param out - optional Float64Array of length rows to write into.
 * @returns `out`, or a new Float64Array.
 * @throws {TypeError} for arguments of the wrong type.
 * @throws {RangeError} for inconsistent matrix structure, a column index out of range or wrong lengths
 *   (a bad column index is found while computing, so `out` may then be partly written).
 * @example
 * csrMatVec(laplacian([3]), new Float64Array([1, 1, 1])); // Float64Array [-1, 0, -1]
 */
export function csrMatVec(a: CsrMatrix, x: Float64Array, out?: Float64Array): Float64Array {
  const where = 'csrMatVec';
  const [rows, cols] = checkCsr(where, a);
  float64Array(where, 'x', x, cols);
  const y = out === undefined ? new Float64Array(rows) : float64Array(where, 'out', out, rows);
  const { indptr, indices, data } = a;
  let widest = 0;
  for (let r = 0; r < rows; r++) widest = Math.max(widest, indptr[r + 1] - indptr[r]);
  const capacity = Math.max(BAND_ENTRIES, widest);
  const bandRowsMax = Math.max(1, Math.min(rows, BAND_ENTRIES));
  runKernel(where, (k) => {
    const [xPtr, indptrPtr, indicesPtr, dataPtr, outPtr] = layout(k,
      cols * 8, (bandRowsMax + 1) * 4, capacity * 4, capacity * 8, bandRowsMax * 8);
    f64View(k, xPtr, cols).set(x);
    // Stage whole rows until the band's entries or rows would overflow their buffers. x is staged first,
    // so out may be x itself.
    for (let r0 = 0; r0 < rows;) {
      let r1 = r0 + 1;
      while (r1 < rows && r1 - r0 < bandRowsMax && indptr[r1 + 1] - indptr[r0] <= capacity) r1++;
      const e0 = indptr[r0], e1 = indptr[r1];
      i32View(k, indptrPtr, r1 - r0 + 1).set(indptr.subarray(r0, r1 + 1));
      i32View(k, indicesPtr, e1 - e0).set(indices.subarray(e0, e1));
      f64View(k, dataPtr, e1 - e0).set(data.subarray(e0, e1));
      const bad = k.csrMatVecBand(indptrPtr, indicesPtr, dataPtr, r1 - r0, e0, xPtr, cols, outPtr);
      if (bad >= 0) {
        throw new RangeError(`${where}: expected column indices in [0, ${cols}), got matrix.indices[${bad}] = ${indices[bad]}`);
      }
      y.set(f64View(k, outPtr, r1 - r0), r0);
      r0 = r1;
    }
  });
  return y;
}
