// The general TypeScript CSR builder of the Laplacian, written as a user replacing laplacian would write
// it: a baseline of the benchmark, and in the tests an assembly independent of laplacian's tables, bands
// and repeated rows.

import type { Boundary, CsrMatrix, LaplacianAccuracy, LaplacianOptions } from '../src/node.js';

// Central second-difference weights on a unit grid, for offsets -r..r: the standard ones, written out
// as a user would copy them from a table (ours come from fdCoefficients).
const SECOND_DIFFERENCE: Record<LaplacianAccuracy, number[]> = {
  2: [1, -2, 1],
  4: [-1 / 12, 4 / 3, -5 / 2, 4 / 3, -1 / 12],
  6: [1 / 90, -3 / 20, 3 / 2, -49 / 18, 3 / 2, -3 / 20, 1 / 90],
  8: [-1 / 560, 8 / 315, -1 / 5, 8 / 5, -205 / 72, 8 / 5, -1 / 5, 8 / 315, -1 / 560],
};

// Where a tap at index k of an axis of length n lands: itself inside the grid; outside, -1 (dirichlet:
// zero there, so no entry), wrapped (periodic) or mirrored across the edge with period 2n (neumann,
// u[-1-j] = u[j]), so that a tap may land more than one step in on a short axis.
function boundaryIndex(k: number, n: number, boundary: Boundary): number {
  if (k >= 0 && k < n) return k;
  if (boundary === 'dirichlet') return -1;
  if (boundary === 'periodic') return ((k % n) + n) % n;
  const m = ((k % (2 * n)) + 2 * n) % (2 * n);
  return m < n ? m : 2 * n - 1 - m;
}

// The general builder: any 1-D to 3-D shape, spacing, boundary and accuracy. Per row it gathers every tap
// of every axis as a (column, weight) pair, keeps them sorted by insertion (a row has at most 27 taps,
// too few for anything cleverer), sums equal columns (the diagonal, and taps of a short periodic or
// mirrored axis that land together) and appends the row.
export function tsLaplacianCsrGeneral(shape: number[], options: LaplacianOptions = {}): CsrMatrix {
  const ndim = shape.length;
  const boundary = options.boundary ?? 'dirichlet';
  const stencil = SECOND_DIFFERENCE[options.accuracy ?? 2];
  const taps = stencil.length;
  const radius = (taps - 1) / 2;
  const spacing = options.spacing ?? 1;
  const weights = shape.map((_, a) => {
    const h = typeof spacing === 'number' ? spacing : spacing[a];
    return Float64Array.from(stencil, (w) => w / (h * h));
  });
  // C order: the last axis is contiguous.
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, n) => p * n, 1));
  const size = shape.reduce((p, n) => p * n, 1);

  // A row holds at most the taps of every axis with the centre taps merged into one diagonal. Reserving
  // that much saves counting the rows first or growing the arrays; the unused tail (the taps dirichlet
  // drops at the edges) is cut off with views, not copies.
  const capacity = size * (1 + ndim * (taps - 1));
  const indptr = new Int32Array(size + 1);
  const indices = new Int32Array(capacity);
  const data = new Float64Array(capacity);
  const cols = new Int32Array(ndim * taps);
  const vals = new Float64Array(ndim * taps);
  const index = new Array<number>(ndim).fill(0); // grid index of row p
  let e = 0;
  for (let p = 0; p < size; p++) {
    let m = 0;
    for (let a = 0; a < ndim; a++) {
      const i = index[a];
      for (let t = 0; t < taps; t++) {
        const j = boundaryIndex(i - radius + t, shape[a], boundary);
        if (j < 0) continue;
        const col = p + (j - i) * strides[a];
        // Strictly greater moves: equal columns keep their tap order, so duplicates add up in that order.
        let s = m++;
        for (; s > 0 && cols[s - 1] > col; s--) { cols[s] = cols[s - 1]; vals[s] = vals[s - 1]; }
        cols[s] = col;
        vals[s] = weights[a][t];
      }
    }
    const start = e;
    for (let s = 0; s < m; s++) {
      if (e > start && indices[e - 1] === cols[s]) data[e - 1] += vals[s];
      else { indices[e] = cols[s]; data[e++] = vals[s]; }
    }
    indptr[p + 1] = e;
    // Next grid index, last axis fastest.
    for (let a = ndim - 1; a >= 0 && ++index[a] === shape[a]; a--) index[a] = 0;
  }
  return { shape: [size, size], indptr, indices: indices.subarray(0, e), data: data.subarray(0, e) };
}
