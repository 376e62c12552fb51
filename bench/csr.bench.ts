// CSR matrix times vector on the 2048 x 2048 Laplacian: dase-cache against a plain TypeScript loop
// (for information; there is no target).

import { csrMatVec, laplacian, type CsrMatrix } from '../src/node.js';
import { checkElementwise, compare, type ComparisonResult } from './_harness.js';

const GRID = [2048, 2048];

function tsCsrMatVec(a: CsrMatrix, x: Float64Array, y: Float64Array): Float64Array {
  const { indptr, indices, data } = a;
  const rows = a.shape[0];
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let e = indptr[r]; e < indptr[r + 1]; e++) acc += data[e] * x[indices[e]];
    y[r] = acc;
  }
  return y;
}

export function benchCsr(): ComparisonResult[] {
  const a = laplacian(GRID);
  const rows = a.shape[0];
  const x = Float64Array.from({ length: rows }, () => Math.random());
  const ours = new Float64Array(rows);
  const theirs = new Float64Array(rows);
  csrMatVec(a, x, ours);
  tsCsrMatVec(a, x, theirs);
  checkElementwise('csrMatVec', ours, theirs, 0, 0); // the same sums in the same order: exactly equal
  const nnz = a.indices.length;
  return [compare({
    name: `csrMatVec(laplacian([2048, 2048]), x, out), ${nnz} entries (no target)`,
    subject: { name: 'dase-cache csrMatVec', run: () => csrMatVec(a, x, ours) },
    baselines: [{ name: 'TypeScript CSR loop', run: () => tsCsrMatVec(a, x, theirs) }],
    // Per entry: an index (4 B) and a value (8 B); per row: indptr (4 B), x read (8 B), y written (8 B).
    bytesPerOp: 12 * nnz + 20 * rows,
    throughputUnit: 'GB/s',
    itemsPerOp: nnz,
    itemName: 'entry',
  })];
}
