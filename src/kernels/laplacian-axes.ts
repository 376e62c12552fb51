// The 1-D pieces of the Laplacian: for each axis, which neighbours j each index i couples to (after
// the boundary rule) and with which weight. The WASM kernels combine these tables into rows of the
// 1-D to 3-D operator; see assembly/laplacian.ts.

import { describe, finiteNumber, integerInRange, knownKeys, oneOf, optionsObject } from '../_args.js';
import { fdCoefficients } from './fornberg.js';

/** What the grid's edges are (see {@link LaplacianOptions}'s `boundary`). */
export type Boundary = 'dirichlet' | 'neumann' | 'periodic';
/** The orders of accuracy a Laplacian's central stencil can have. */
export type LaplacianAccuracy = 2 | 4 | 6 | 8;

/** Options of `laplacian` and `applyLaplacian`. */
export interface LaplacianOptions {
  /** Grid spacing, one number for all axes or one per axis; default 1. */
  spacing?: number | number[];
  /**
   * 'dirichlet' (default): zero outside the grid. 'neumann': zero normal derivative at the cell faces,
   * by mirroring across the edge (u[-1-j] = u[j]), as scipy.sparse.linalg.LaplacianNd. 'periodic': wraps.
   */
  boundary?: Boundary;
  /** Order of accuracy of the central second-difference stencil; default 2 (5-point in 2-D). */
  accuracy?: LaplacianAccuracy;
}

/** A validated grid: its canonical 3-D shape (see assembly/laplacian.ts) and the three axis tables. */
export interface LaplacianPlan {
  shape: number[];
  size: number;
  dims: [number, number, number];
  axes: [AxisTable, AxisTable, AxisTable];
  nnz: number;
}

const BOUNDARIES = ['dirichlet', 'neumann', 'periodic'] as const;
const ACCURACIES = [2, 4, 6, 8] as const;
const MAX_INDEX = 2 ** 31 - 1; // CSR indices are Int32

function mapIndex(k: number, n: number, boundary: Boundary): number {
  if (k >= 0 && k < n) return k;
  if (boundary === 'dirichlet') return -1;
  if (boundary === 'periodic') return ((k % n) + n) % n;
  const m = ((k % (2 * n)) + 2 * n) % (2 * n); // mirror: period 2n, u[-1-j] = u[j]
  return m < n ? m : 2 * n - 1 - m;
}

/**
 * One axis, compactly: rows for the indices i < lo and i >= hi (where the boundary rule applies) and one
 * shared row for the regular interior [lo, hi). Row entries ptr[row]..ptr[row+1] are the neighbours
 * j != i as offsets j - i, sorted, with weights; split[row] is the first with j > i.
 */
export interface AxisTable {
  n: number;
  lo: number;
  hi: number;
  ptr: Int32Array;
  split: Int32Array;
  delta: Int32Array;
  val: Float64Array;
  diag: Float64Array;
}

/** Which row of the table describes index i (as rowOf in assembly/laplacian.ts). */
export function rowOf(t: AxisTable, i: number): number {
  return i < t.lo ? i : i < t.hi ? t.lo : t.lo + 1 + (i - t.hi);
}

/** Number of off-diagonal entries over all n indices of the axis. */
export function axisEntries(t: AxisTable): number {
  // Every table row once, plus the regular row for the other hi - lo - 1 interior indices (it is left
  // empty when there is no interior: see axisTable).
  return t.delta.length + Math.max(0, t.hi - t.lo - 1) * (t.ptr[t.lo + 1] - t.ptr[t.lo]);
}

function axisTable(n: number, scaled: Float64Array, offsets: Int32Array, boundary: Boundary): AxisTable {
  const radius = (offsets.length - 1) / 2;
  const lo = Math.min(radius, n);
  const hi = Math.max(lo, n - radius);
  // Rows for i < lo, then the regular row (i = lo, when the interior is not empty), then i >= hi.
  const indices = [...Array(lo).keys(), lo, ...Array.from({ length: n - hi }, (_, t) => hi + t)];
  const rows = indices.length;
  const ptr = new Int32Array(rows + 1);
  const split = new Int32Array(rows);
  const diag = new Float64Array(rows);
  const deltas: number[] = [];
  const vals: number[] = [];
  const row = new Map<number, number>();
  indices.forEach((i, r) => {
    ptr[r] = deltas.length;
    split[r] = deltas.length;
    if (r === lo && lo === hi) return; // no interior: the regular row is never used
    row.clear();
    // Duplicates (a small periodic or mirrored axis) are summed in the order of the offsets.
    for (let t = 0; t < offsets.length; t++) {
      const j = mapIndex(i + offsets[t], n, boundary);
      if (j >= 0) row.set(j, (row.get(j) ?? 0) + scaled[t]);
    }
    diag[r] = row.get(i) ?? 0;
    row.delete(i);
    const js = [...row.keys()].sort((a, b) => a - b);
    split[r] = deltas.length + js.filter((j) => j < i).length;
    for (const j of js) { deltas.push(j - i); vals.push(row.get(j)!); }
  });
  ptr[rows] = deltas.length;
  return { n, lo, hi, ptr, split, delta: Int32Array.from(deltas), val: Float64Array.from(vals), diag };
}

/** The table of a padding axis of length 1 (a 1-D or 2-D grid seen as 3-D): no neighbours, no diagonal. */
const EMPTY_AXIS: AxisTable = {
  n: 1, lo: 1, hi: 1, ptr: new Int32Array(3), split: new Int32Array(2),
  delta: new Int32Array(0), val: new Float64Array(0), diag: new Float64Array(2),
};

function checkShape(where: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${where}: expected shape to be an array of 1 to 3 integers, got ${describe(shape)}`);
  if (shape.length < 1 || shape.length > 3) {
    throw new RangeError(`${where}: expected shape to have 1 to 3 axes, got ${shape.length}`);
  }
  shape.forEach((n, a) => integerInRange(where, `shape[${a}]`, n, 1, MAX_INDEX));
  const size = shape.reduce((p: number, n: number) => p * n, 1);
  if (size > MAX_INDEX) throw new RangeError(`${where}: expected at most ${MAX_INDEX} grid points, got ${size} for shape [${shape}]`);
  return [...shape];
}

function checkSpacing(where: string, spacing: unknown, ndim: number): number[] {
  if (spacing === undefined) return Array(ndim).fill(1);
  const list = typeof spacing === 'number' ? Array(ndim).fill(spacing) : spacing;
  if (!Array.isArray(list)) throw new TypeError(`${where}: expected spacing to be a number or an array of ${ndim}, got ${describe(spacing)}`);
  if (list.length !== ndim) throw new RangeError(`${where}: expected spacing to have ${ndim} entries (one per axis), got ${list.length}`);
  return list.map((h, a) => {
    finiteNumber(where, `spacing[${a}]`, h);
    if (!(h > 0)) throw new RangeError(`${where}: expected spacing[${a}] to be > 0, got ${describe(h)}`);
    return h as number;
  });
}

const plans = new Map<string, LaplacianPlan>();
const PLAN_CACHE_SIZE = 16;

/** Checks the arguments and builds (or reuses) the axis tables of a grid. */
export function planLaplacian(where: string, shape: unknown, options: unknown): LaplacianPlan {
  const dims = checkShape(where, shape);
  const opts = optionsObject(where, options);
  knownKeys(where, opts, ['spacing', 'boundary', 'accuracy']);
  const boundary = oneOf(where, 'boundary', opts.boundary ?? 'dirichlet', BOUNDARIES);
  const accuracy = oneOf(where, 'accuracy', opts.accuracy ?? 2, ACCURACIES);
  const spacing = checkSpacing(where, opts.spacing, dims.length);
  const id = `${dims}|${spacing}|${boundary}|${accuracy}`;
  const cached = plans.get(id);
  if (cached) return cached;

  const { offsets, weights } = fdCoefficients(2, accuracy);
  const tables = dims.map((n, a) => {
    const scaled = weights.map((w) => w / (spacing[a] * spacing[a]));
    return axisTable(n, scaled, offsets, boundary);
  });
  const axes: [AxisTable, AxisTable, AxisTable] =
    tables.length === 3 ? [tables[0], tables[1], tables[2]]
      : tables.length === 2 ? [tables[0], EMPTY_AXIS, tables[1]]
        : [EMPTY_AXIS, EMPTY_AXIS, tables[0]];
  const size = dims.reduce((p, n) => p * n, 1);
  // Each row holds its diagonal plus, per axis, the neighbours of its index along that axis.
  const nnz = axes.reduce((sum, t) => sum + (size / t.n) * axisEntries(t), size);
  if (nnz > MAX_INDEX) throw new RangeError(`${where}: the matrix would have ${nnz} entries, more than Int32 indices allow`);
  const plan: LaplacianPlan = {
    shape: dims, size, dims: [axes[0].n, axes[1].n, axes[2].n], axes, nnz,
  };
  if (plans.size >= PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value!);
  plans.set(id, plan);
  return plan;
}
