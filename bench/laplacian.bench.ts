// The Laplacian: applied matrix-free on a 2048 x 2048 grid, and assembled as CSR on a 64^3 grid, against
// the TypeScript loops a user would write (dirichlet boundary, second-order accuracy, unit spacing). The
// assembly has two baselines: a builder specialised to exactly that case, and a general one with all of
// laplacian's options, which is what a user replacing laplacian (rather than one call of it) would write.

import { applyLaplacian, laplacian, type CsrMatrix, type LaplacianOptions } from '../src/node.js';
import { checkElementwise, compare, type ComparisonResult } from './_harness.js';
import { tsLaplacianCsrGeneral } from './laplacian-general.js';

const GRID_2D = [2048, 2048];
const GRID_3D = [64, 64, 64];
const TS_SPLIT = 'TypeScript loop, interior + edges apart';
const TS_NAIVE = 'TypeScript loop, bounds checks per point';
const TS_CSR = 'TypeScript typed-array CSR builder';
const TS_CSR_GENERAL = 'TypeScript general CSR builder (same options as laplacian)';

// One point with the dirichlet rule spelled out: zero outside the grid. Terms in column order, as ours.
function pointWithChecks(u: Float64Array, n0: number, n1: number, i: number, j: number): number {
  const p = i * n1 + j;
  let s = i > 0 ? u[p - n1] : 0;
  if (j > 0) s += u[p - 1];
  s += -4 * u[p];
  if (j < n1 - 1) s += u[p + 1];
  if (i < n0 - 1) s += u[p + n1];
  return s;
}

function tsLaplacianNaive(u: Float64Array, n0: number, n1: number, out: Float64Array): Float64Array {
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) out[i * n1 + j] = pointWithChecks(u, n0, n1, i, j);
  }
  return out;
}

// Interior points without a branch; the one-point-wide frame with the checks.
function tsLaplacianSplit(u: Float64Array, n0: number, n1: number, out: Float64Array): Float64Array {
  for (let i = 1; i < n0 - 1; i++) {
    const row = i * n1;
    for (let p = row + 1; p < row + n1 - 1; p++) {
      out[p] = u[p - n1] + u[p - 1] - 4 * u[p] + u[p + 1] + u[p + n1];
    }
  }
  for (let j = 0; j < n1; j++) {
    out[j] = pointWithChecks(u, n0, n1, 0, j);
    out[(n0 - 1) * n1 + j] = pointWithChecks(u, n0, n1, n0 - 1, j);
  }
  for (let i = 1; i < n0 - 1; i++) {
    out[i * n1] = pointWithChecks(u, n0, n1, i, 0);
    out[i * n1 + n1 - 1] = pointWithChecks(u, n0, n1, i, n1 - 1);
  }
  return out;
}

// The 7-point matrix, rows in C order, columns sorted: nnz counted up front, arrays allocated once.
function tsLaplacianCsr(n0: number, n1: number, n2: number): CsrMatrix {
  const size = n0 * n1 * n2;
  const nnz = size + 2 * ((n0 - 1) * n1 * n2 + n0 * (n1 - 1) * n2 + n0 * n1 * (n2 - 1));
  const indptr = new Int32Array(size + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  const s0 = n1 * n2;
  let e = 0;
  let p = 0;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++, p++) {
        if (i0 > 0) { indices[e] = p - s0; data[e++] = 1; }
        if (i1 > 0) { indices[e] = p - n2; data[e++] = 1; }
        if (i2 > 0) { indices[e] = p - 1; data[e++] = 1; }
        indices[e] = p; data[e++] = -6;
        if (i2 < n2 - 1) { indices[e] = p + 1; data[e++] = 1; }
        if (i1 < n1 - 1) { indices[e] = p + n2; data[e++] = 1; }
        if (i0 < n0 - 1) { indices[e] = p + s0; data[e++] = 1; }
        indptr[p + 1] = e;
      }
    }
  }
  return { shape: [size, size], indptr, indices, data };
}

// The benchmarked grid, and grids that exercise what the specialised builder cannot: 1-D and 2-D, other
// accuracies, spacings and boundaries, and axes shorter than the stencil, where taps wrap or mirror onto
// the same column.
const GENERAL_CASES: [number[], LaplacianOptions][] = [
  [GRID_3D, {}],
  [[5, 4, 3], { boundary: 'periodic', accuracy: 4 }],
  [[7], { boundary: 'neumann', accuracy: 8 }],
  [[6, 5], { boundary: 'dirichlet', accuracy: 6, spacing: [0.5, 2] }],
  [[3, 2, 4], { boundary: 'neumann', accuracy: 6, spacing: [1, 0.25, 3] }],
  [[2, 9], { boundary: 'periodic', accuracy: 8, spacing: 0.1 }],
];

// Within 1e-12 * (1 + |theirs|) of the baseline.
const checkClose = (what: string, ours: Float64Array, theirs: Float64Array) => checkElementwise(what, ours, theirs, 1e-12, 1e-12);

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => x === b[i]);
}

function checkSameCsr(ours: CsrMatrix, theirs: CsrMatrix): void {
  if (!same(ours.indptr, theirs.indptr) || !same(ours.indices, theirs.indices) || !same(ours.data, theirs.data)) {
    throw new Error('laplacian CSR: dase-cache and the TypeScript builder give different matrices');
  }
}

// The same pattern exactly; values within rounding, since the general builder has its own literal weights
// and sums the diagonal tap by tap where ours sums it axis by axis.
function checkCloseCsr(what: string, ours: CsrMatrix, theirs: CsrMatrix): void {
  if (!same(ours.indptr, theirs.indptr) || !same(ours.indices, theirs.indices)) {
    throw new Error(`${what}: dase-cache and the general TypeScript builder give different sparsity patterns`);
  }
  checkClose(what, ours.data, theirs.data);
}

// Each comparison in a function of its own, so that the one after it does not run beside the previous
// one's arrays (hundreds of MB, which change how much every allocation of the next one costs).
export function benchLaplacian(): ComparisonResult[] {
  return [benchApplyLaplacian(), benchLaplacianCsr()];
}

function benchApplyLaplacian(): ComparisonResult {
  const [n0, n1] = GRID_2D;
  const points = n0 * n1;
  const u = Float64Array.from({ length: points }, () => Math.random());
  const ours = new Float64Array(points);
  const split = new Float64Array(points);
  const naive = new Float64Array(points);
  const copy = new Float64Array(points);
  applyLaplacian(u, GRID_2D, undefined, ours);
  checkClose('applyLaplacian', ours, tsLaplacianSplit(u, n0, n1, split));
  checkClose('applyLaplacian', ours, tsLaplacianNaive(u, n0, n1, naive));
  return compare({
    name: 'applyLaplacian(u, [2048, 2048], undefined, out), dirichlet, 5-point',
    subject: { name: 'dase-cache applyLaplacian', run: () => applyLaplacian(u, GRID_2D, undefined, ours) },
    baselines: [
      { name: TS_SPLIT, run: () => tsLaplacianSplit(u, n0, n1, split) },
      { name: TS_NAIVE, run: () => tsLaplacianNaive(u, n0, n1, naive) },
      // Not an alternative, a yardstick: the memory bandwidth a pass over these bytes can reach.
      { name: 'memory copy, Float64Array.set (yardstick)', run: () => copy.set(u) },
    ],
    // Each point reads u once and writes out once; the copy moves the same bytes.
    bytesPerOp: 16 * points,
    throughputUnit: 'GB/s',
    itemsPerOp: points,
    itemName: 'point',
    targets: [{ baseline: TS_SPLIT, atLeast: 1.8 }],
  });
}

function benchLaplacianCsr(): ComparisonResult {
  const [m0, m1, m2] = GRID_3D;
  const matrix = laplacian(GRID_3D);
  checkSameCsr(matrix, tsLaplacianCsr(m0, m1, m2));
  for (const [shape, options] of GENERAL_CASES) {
    checkCloseCsr(`laplacian([${shape}], ${JSON.stringify(options)})`, laplacian(shape, options), tsLaplacianCsrGeneral(shape, options));
  }
  const allocate = () => ({
    indptr: new Int32Array(matrix.indptr.length), indices: new Int32Array(matrix.indices.length), data: new Float64Array(matrix.data.length),
  });

  return compare({
    name: 'laplacian([64, 64, 64]), CSR assembly, dirichlet, 7-point (output allocation included)',
    subject: { name: 'dase-cache laplacian', run: () => laplacian(GRID_3D) },
    baselines: [
      { name: TS_CSR, run: () => tsLaplacianCsr(m0, m1, m2) },
      // No target of its own: the target is set against the plain builder above.
      { name: TS_CSR_GENERAL, run: () => tsLaplacianCsrGeneral(GRID_3D) },
      // Yardsticks, not alternatives: what allocating the output costs on its own, and allocating it
      // then filling it with a constant: the least any design that writes each entry once can cost.
      { name: 'allocate the output arrays (yardstick)', run: allocate },
      {
        name: 'allocate + fill the output (yardstick)',
        run: () => {
          const m = allocate();
          m.indptr.fill(1); m.indices.fill(1); m.data.fill(1);
          return m;
        },
      },
    ],
    itemsPerOp: m0 * m1 * m2,
    itemName: 'row',
    targets: [{ baseline: TS_CSR, atLeast: 1.5 }],
  });
}
