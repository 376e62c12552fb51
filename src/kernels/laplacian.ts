// The finite-difference Laplacian on 1-D to 3-D grids: assembled as a CSR matrix, or applied matrix-free.

import { float64Array } from '../_args.js';
import type { KernelExports } from '../wasm/exports.js';
import { f64View, i32View, layout } from '../wasm/memory.js';
import { runKernel } from '../wasm/loader.js';
import type { CsrMatrix } from './csr.js';
import { planLaplacian, rowOf, type AxisTable, type LaplacianOptions, type LaplacianPlan } from './laplacian-axes.js';

export type { Boundary, LaplacianAccuracy, LaplacianOptions } from './laplacian-axes.js';

// Work is done in bands whose buffers stay in cache (L2) while the kernel works on them and are then
// copied out, so WASM memory does not grow with the grid: grid points per band for the matrix-free
// product, matrix entries per band for the assembly.
const BAND_POINTS = 1 << 16;
const BAND_ENTRIES = 1 << 15;
// Values of the assembly repeat from slab to slab (see slabRuns), in blocks of about this many entries.
const TEMPLATE_ENTRIES = 1 << 15;
const TERMS_BYTES = 32 * 12; // assembly/laplacian.ts MAX_TERMS (u32 address + f64 weight)
const AXIS_BYTES = 32; // assembly/laplacian.ts AXIS_BYTES

function tableBytes(t: AxisTable): number[] {
  return [t.ptr.byteLength, t.split.byteLength, t.delta.byteLength, t.val.byteLength, t.diag.byteLength];
}

/** Copies the axis tables into WASM memory and writes their descriptor at descPtr. */
function stageTables(k: KernelExports, plan: LaplacianPlan, descPtr: number, tablePtrs: number[]): void {
  const desc = new Uint32Array(k.memory.buffer, descPtr, 3 * AXIS_BYTES / 4);
  plan.axes.forEach((t, a) => {
    const [ptr, split, delta, val, diag] = tablePtrs.slice(a * 5, a * 5 + 5);
    i32View(k, ptr, t.ptr.length).set(t.ptr);
    i32View(k, split, t.split.length).set(t.split);
    i32View(k, delta, t.delta.length).set(t.delta);
    f64View(k, val, t.val.length).set(t.val);
    f64View(k, diag, t.diag.length).set(t.diag);
    desc.set([t.n, t.lo, t.hi, ptr, split, delta, val, diag], a * AXIS_BYTES / 4);
  });
}

/**
 * The finite-difference Laplacian of a grid as a CSR matrix: rows and columns in C order over `shape`
 * (last axis fastest, as NumPy), column indices sorted within each row.
 * @param shape - grid of unknowns, 1 to 3 positive integers.
 * @param options - spacing (per axis, default 1), boundary ('dirichlet' default, 'neumann', 'periodic'),
 *   accuracy (2 default, 4, 6 or 8).
 * @returns the matrix; shape [N, N] with N the number of grid points.
 * @throws {TypeError} for a shape that is not an array, options of the wrong kind or an unknown option.
 * @throws {RangeError} for empty or non-integer shapes, non-positive spacing, unknown boundary or accuracy.
 * @example
 * const a = laplacian([3]); // 3x3: [[-2, 1, 0], [1, -2, 1], [0, 1, -2]]
 */
export function laplacian(shape: number[], options?: LaplacianOptions): CsrMatrix {
  const plan = planLaplacian('laplacian', shape, options);
  const { size, nnz, axes } = plan;
  const indptr = new Int32Array(size + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  const perRow = 1 + axes.reduce((m, t) => m + maxRowLength(t), 0);
  const bandRows = Math.max(1, Math.floor(BAND_ENTRIES / perRow));
  runKernel('laplacian', (k) => {
    const [descPtr, indptrPtr, indicesPtr, dataPtr, ...tablePtrs] = layout(k,
      3 * AXIS_BYTES, bandRows * 4, bandRows * perRow * 4, bandRows * perRow * 8, ...axes.flatMap(tableBytes));
    stageTables(k, plan, descPtr, tablePtrs);
    const slab = plan.dims[1] * plan.dims[2]; // rows per axis-0 index
    let written = 0;
    // Rows [from, to) in bands; values too when withValues, else only indptr and indices.
    const assemble = (from: number, to: number, withValues: boolean) => {
      for (let row = from; row < to; row += bandRows) {
        const end = Math.min(to, row + bandRows);
        const count = k.laplacianCsrBand(descPtr, row, end, written, indptrPtr, indicesPtr, withValues ? dataPtr : 0);
        indptr.set(i32View(k, indptrPtr, end - row), row + 1);
        indices.set(i32View(k, indicesPtr, count), written);
        if (withValues) data.set(f64View(k, dataPtr, count), written);
        written += count;
      }
    };
    for (const { first, end, template } of slabRuns(plan, perRow)) {
      const valuesFrom = written;
      assemble(first * slab, template * slab, true);
      const period = written - valuesFrom;
      assemble(template * slab, end * slab, false);
      // Copies of a block written moments ago (in cache, for slabs of up to TEMPLATE_ENTRIES): cheaper
      // than assembling the values again.
      for (let at = valuesFrom + period; at < written; at += period) {
        data.copyWithin(at, valuesFrom, valuesFrom + Math.min(period, written - at));
      }
    }
  });
  return { shape: [size, size], indptr, indices, data };
}

/**
 * The slabs (axis-0 indices) of a grid in runs [first, end) that share their axis-0 table row, so that
 * their rows have the same values in the same places: the values of slabs [first, template) are
 * assembled and repeat, period after period, over the rest of the run.
 */
function slabRuns(plan: LaplacianPlan, perRow: number): { first: number; end: number; template: number }[] {
  const axis0 = plan.axes[0];
  const slabsPerTemplate = Math.max(1, Math.floor(TEMPLATE_ENTRIES / (plan.dims[1] * plan.dims[2] * perRow)));
  const runs = [];
  for (let first = 0; first < axis0.n;) {
    let end = first + 1;
    while (end < axis0.n && rowOf(axis0, end) === rowOf(axis0, first)) end++;
    runs.push({ first, end, template: Math.min(end, first + slabsPerTemplate) });
    first = end;
  }
  return runs;
}

function maxRowLength(t: AxisTable): number {
  let most = 0;
  for (let r = 0; r + 1 < t.ptr.length; r++) most = Math.max(most, t.ptr[r + 1] - t.ptr[r]);
  return most;
}

/**
 * The Laplacian applied to a grid function without assembling the matrix; equal, bit for bit, to
 * `csrMatVec(laplacian(shape, options), u)`.
 * @param u - values on the grid, in C order; length = product of shape.
 * @param shape - as for {@link laplacian}.
 * @param options - as for {@link laplacian}.
 * @param out - optional Float64Array of the same length to write into (must not be `u`).
 * @returns `out`, or a new Float64Array.
 * @throws {TypeError} when u or out is not a Float64Array, or for bad shape or options (see laplacian).
 * @throws {RangeError} when a length does not match the shape, or out is u.
 * @example
 * applyLaplacian(new Float64Array([0, 1, 0]), [3]); // Float64Array [1, -2, 1]
 */
export function applyLaplacian(u: Float64Array, shape: number[], options?: LaplacianOptions, out?: Float64Array): Float64Array {
  const where = 'applyLaplacian';
  const plan = planLaplacian(where, shape, options);
  float64Array(where, 'u', u, plan.size);
  const result = out === undefined ? new Float64Array(plan.size) : float64Array(where, 'out', out, plan.size);
  if (result.buffer === u.buffer && result.byteOffset < u.byteOffset + u.byteLength && u.byteOffset < result.byteOffset + result.byteLength) {
    throw new RangeError(`${where}: out must not overlap u (the stencil reads neighbours of each point it writes)`);
  }
  const [n0, n1, n2] = plan.dims;
  const slab = n1 * n2; // values of one axis-0 index
  const { band, bands, stagedSlabs } = applySchedule(plan);
  runKernel(where, (k) => {
    const [descPtr, termsPtr, slabTablePtr, inPtr, outPtr, ...tablePtrs] = layout(k,
      3 * AXIS_BYTES, TERMS_BYTES, n0 * 4, stagedSlabs * slab * 8, band * slab * 8, ...plan.axes.flatMap(tableBytes));
    stageTables(k, plan, descPtr, tablePtrs);
    const heap = f64View(k, 0, k.memory.buffer.byteLength >> 3);
    const slabTable = new Uint32Array(k.memory.buffer, slabTablePtr, n0);
    for (const { a, b, runs } of bands) {
      // Stage each run of consecutive slabs with one copy.
      let at = inPtr;
      for (let r = 0; r < runs.length; r += 2) {
        const first = runs[r], last = runs[r + 1];
        heap.set(u.subarray(first * slab, (last + 1) * slab), at >> 3);
        for (let j = first; j <= last; j++) slabTable[j] = at + (j - first) * slab * 8;
        at += (last + 1 - first) * slab * 8;
      }
      k.laplacianApplyBand(descPtr, slabTablePtr, a, b, outPtr, termsPtr);
      result.set(heap.subarray(outPtr >> 3, (outPtr >> 3) + (b - a) * slab), a * slab);
    }
  });
  return result;
}

interface ApplySchedule {
  /** Slabs (axis-0 indices) per band. */
  band: number;
  /** Each band's output slabs [a, b) and the runs [first, last] of input slabs it reads. */
  bands: { a: number; b: number; runs: number[] }[];
  /** Most input slabs any band stages. */
  stagedSlabs: number;
}

const schedules = new WeakMap<LaplacianPlan, ApplySchedule>();

/** How applyLaplacian walks a grid: worked out once per plan, since plans are reused. */
function applySchedule(plan: LaplacianPlan): ApplySchedule {
  const known = schedules.get(plan);
  if (known) return known;
  const [n0, n1, n2] = plan.dims;
  const axis0 = plan.axes[0];
  const band = Math.max(1, Math.min(n0, Math.floor(BAND_POINTS / (n1 * n2))));
  const bands: ApplySchedule['bands'] = [];
  let stagedSlabs = 0;
  for (let a = 0; a < n0; a += band) {
    const b = Math.min(n0, a + band);
    // A band reads its own slabs and their axis-0 neighbours.
    const needed = new Set<number>();
    for (let i = a; i < b; i++) {
      needed.add(i);
      const row = rowOf(axis0, i);
      for (let e = axis0.ptr[row]; e < axis0.ptr[row + 1]; e++) needed.add(i + axis0.delta[e]);
    }
    const sorted = [...needed].sort((x, y) => x - y);
    const runs: number[] = [];
    sorted.forEach((j, t) => {
      if (t > 0 && j === sorted[t - 1] + 1) runs[runs.length - 1] = j;
      else runs.push(j, j);
    });
    bands.push({ a, b, runs });
    stagedSlabs = Math.max(stagedSlabs, sorted.length);
  }
  const schedule = { band, bands, stagedSlabs };
  schedules.set(plan, schedule);
  return schedule;
}
