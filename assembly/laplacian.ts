// The finite-difference Laplacian on a 1-D to 3-D grid, assembled (CSR) or applied matrix-free.
//
// Every grid is seen as 3-D (n0, n1, n2) in C order; a 2-D grid is (n0, 1, n1), a 1-D grid (1, 1, n).
// The TypeScript side describes each axis by a compact 1-D table: the rows of indices i < lo and i >= hi,
// where the boundary rule applies, one by one, and a single shared row for the regular interior
// [lo, hi). A row lists the neighbours j != i as offsets j - i (boundary mapping applied, duplicates
// merged, sorted) with their weights, plus the diagonal weight.
// Because C order sorts columns by axis 0, then 1, then 2, a row's entries come out sorted when written
// as: axis-0 j<i, axis-1 j<i, axis-2 j<i, diagonal, axis-2 j>i, axis-1 j>i, axis-0 j>i. The matrix-free
// product sums in exactly that order, so it is bit-identical to csrMatVec on the assembled matrix.

// Axis descriptor, 8 u32 words per axis: n, lo, hi, ptr (rows+1 i32), split (rows i32), delta (i32),
// val (f64), diag (rows f64); rows = lo + 1 + (n - hi).
const AXIS_BYTES: usize = 32;

@inline function axisWord(desc: usize, a: usize, word: usize): u32 { return load<u32>(desc + a * AXIS_BYTES + (word << 2)); }
@inline function axisN(desc: usize, a: usize): i32 { return <i32>axisWord(desc, a, 0); }
/** The table row that describes index i of axis a. */
@inline function rowOf(desc: usize, a: usize, i: i32): i32 {
  const lo = <i32>axisWord(desc, a, 1);
  const hi = <i32>axisWord(desc, a, 2);
  return i < lo ? i : i < hi ? lo : lo + 1 + (i - hi);
}
@inline function axisPtr(desc: usize, a: usize, row: i32): i32 {
  return load<i32>(<usize>axisWord(desc, a, 3) + (<usize>row << 2));
}
@inline function axisSplit(desc: usize, a: usize, row: i32): i32 {
  return load<i32>(<usize>axisWord(desc, a, 4) + (<usize>row << 2));
}
@inline function axisDelta(desc: usize, a: usize, e: i32): i32 {
  return load<i32>(<usize>axisWord(desc, a, 5) + (<usize>e << 2));
}
@inline function axisVal(desc: usize, a: usize, e: i32): f64 {
  return load<f64>(<usize>axisWord(desc, a, 6) + (<usize>e << 3));
}
@inline function axisDiag(desc: usize, a: usize, row: i32): f64 {
  return load<f64>(<usize>axisWord(desc, a, 7) + (<usize>row << 3));
}

/**
 * Assembles rows [rowStart, rowEnd) of the CSR matrix. Writes indptr[rowStart+1 .. rowEnd] (absolute,
 * starting from nnzStart) to indptrPtr, and the rows' column indices and values to indicesPtr, dataPtr;
 * with dataPtr 0, the values are left out (the caller has them already: see src/kernels/laplacian.ts).
 * Returns the number of entries written.
 */
export function laplacianCsrBand(
  desc: usize, rowStart: i32, rowEnd: i32, nnzStart: i32,
  indptrPtr: usize, indicesPtr: usize, dataPtr: usize,
): i32 {
  const n1 = axisN(desc, 1);
  const n2 = axisN(desc, 2);
  const lo2 = <i32>axisWord(desc, 2, 1);
  const hi2 = <i32>axisWord(desc, 2, 2);
  const s0 = n1 * n2;
  let i0 = rowStart / s0;
  let i1 = (rowStart - i0 * s0) / n2;
  let i2 = rowStart - i0 * s0 - i1 * n2;
  let e = 0;
  let p = rowStart;
  while (p < rowEnd) {
    // A whole line (fixed i0, i1) that shares its table rows with the line before it along axis 1, or
    // along axis 0, is that line shifted: copy it with the shift when the band holds both.
    if (i2 == 0 && p + n2 <= rowEnd) {
      const back = i1 > 0 && rowOf(desc, 1, i1) == rowOf(desc, 1, i1 - 1) ? n2
        : i0 > 0 && rowOf(desc, 0, i0) == rowOf(desc, 0, i0 - 1) ? s0 : 0;
      if (back != 0 && p - back >= rowStart) {
        e = repeatLine(indptrPtr, indicesPtr, dataPtr, rowStart, nnzStart, p, back, n2, e);
        p += n2;
        if (++i1 == n1) { i1 = 0; i0++; }
        continue;
      }
    }
    const first = e;
    e = writeRow(desc, p, i0, i1, i2, n2, s0, indicesPtr, dataPtr, e);
    store<i32>(indptrPtr + (<usize>(p - rowStart) << 2), nnzStart + e);
    p++;
    // The rows after a regular one, up to the end of the interior of its line, are the same row
    // shifted by one column each: replicate instead of assembling.
    if (i2 >= lo2 && i2 < hi2) {
      const run = min(hi2 - 1 - i2, rowEnd - p);
      if (run > 0) {
        replicateRows(indptrPtr + (<usize>(p - rowStart) << 2), indicesPtr, dataPtr, first, e - first, run, nnzStart);
        e += run * (e - first);
        p += run;
        i2 += run;
      }
    }
    if (++i2 == n2) {
      i2 = 0;
      if (++i1 == n1) { i1 = 0; i0++; }
    }
  }
  return e;
}

// One row, assembled from the three axis tables in sorted column order.
@inline function writeRow(
  desc: usize, p: i32, i0: i32, i1: i32, i2: i32, n2: i32, s0: i32, indicesPtr: usize, dataPtr: usize, e: i32,
): i32 {
  const r0 = rowOf(desc, 0, i0), r1 = rowOf(desc, 1, i1), r2 = rowOf(desc, 2, i2);
  const a0 = axisPtr(desc, 0, r0), m0 = axisSplit(desc, 0, r0), z0 = axisPtr(desc, 0, r0 + 1);
  const a1 = axisPtr(desc, 1, r1), m1 = axisSplit(desc, 1, r1), z1 = axisPtr(desc, 1, r1 + 1);
  const a2 = axisPtr(desc, 2, r2), m2 = axisSplit(desc, 2, r2), z2 = axisPtr(desc, 2, r2 + 1);
  e = writeAxisTerms(desc, 0, a0, m0, p, s0, indicesPtr, dataPtr, e);
  e = writeAxisTerms(desc, 1, a1, m1, p, n2, indicesPtr, dataPtr, e);
  e = writeAxisTerms(desc, 2, a2, m2, p, 1, indicesPtr, dataPtr, e);
  store<i32>(indicesPtr + (<usize>e << 2), p);
  if (dataPtr) store<f64>(dataPtr + (<usize>e << 3), axisDiag(desc, 0, r0) + axisDiag(desc, 1, r1) + axisDiag(desc, 2, r2));
  e++;
  e = writeAxisTerms(desc, 2, m2, z2, p, 1, indicesPtr, dataPtr, e);
  e = writeAxisTerms(desc, 1, m1, z1, p, n2, indicesPtr, dataPtr, e);
  e = writeAxisTerms(desc, 0, m0, z0, p, s0, indicesPtr, dataPtr, e);
  return e;
}

// Entries [from, to) of axis a's table as row p's columns p + delta * stride (and values, unless dataPtr
// is 0), written from entry e on. Returns the entry count after them.
@inline function writeAxisTerms(
  desc: usize, a: usize, from: i32, to: i32, p: i32, stride: i32, indicesPtr: usize, dataPtr: usize, e: i32,
): i32 {
  for (let t = from; t < to; t++, e++) {
    store<i32>(indicesPtr + (<usize>e << 2), p + axisDelta(desc, a, t) * stride);
    if (dataPtr) store<f64>(dataPtr + (<usize>e << 3), axisVal(desc, a, t));
  }
  return e;
}

// Line p (its n2 rows) as a copy of line p - back, already in the band, with columns and row ends
// shifted. Returns the entry count after it.
function repeatLine(
  indptrPtr: usize, indicesPtr: usize, dataPtr: usize, rowStart: i32, nnzStart: i32, p: i32, back: i32, n2: i32, e: i32,
): i32 {
  const source = p - back;
  const from = source == rowStart ? 0 : load<i32>(indptrPtr + (<usize>(source - 1 - rowStart) << 2)) - nnzStart;
  const len = load<i32>(indptrPtr + (<usize>(source + n2 - 1 - rowStart) << 2)) - nnzStart - from;
  copyAdding(indicesPtr + (<usize>e << 2), indicesPtr + (<usize>from << 2), len, back);
  if (dataPtr) memory.copy(dataPtr + (<usize>e << 3), dataPtr + (<usize>from << 3), <usize>len << 3);
  copyAdding(indptrPtr + (<usize>(p - rowStart) << 2), indptrPtr + (<usize>(source - rowStart) << 2), n2, e - from);
  return e + len;
}

// dst[x] = src[x] + add for count i32 values, walking forward: dst is at least 16 bytes past src, or the
// ranges do not overlap.
function copyAdding(dst: usize, src: usize, count: i32, add: i32): void {
  let x = 0;
  if (ASC_FEATURE_SIMD) {
    const shift = i32x4.splat(add);
    for (; x + 3 < count; x += 4) {
      const at = <usize>x << 2;
      v128.store(dst + at, i32x4.add(v128.load(src + at), shift));
    }
  }
  for (; x < count; x++) store<i32>(dst + (<usize>x << 2), load<i32>(src + (<usize>x << 2)) + add);
}

// Rows that repeat the row of `len` entries starting at entry `first`, each shifted one column further:
// entry x of the block equals entry x - len with its column + 1. From four rows on, entry x equals
// entry x - 4*len with column + 4, a distance wide enough for whole-vector copies. Values (unless
// dataPtr is 0) repeat with period len.
function replicateRows(
  indptrOut: usize, indicesPtr: usize, dataPtr: usize, first: i32, len: i32, run: i32, nnzStart: i32,
): void {
  const end = first + len * (run + 1);
  let e = first + len;
  const seed = min(end, first + 4 * len);
  for (; e < seed; e++) {
    store<i32>(indicesPtr + (<usize>e << 2), load<i32>(indicesPtr + (<usize>(e - len) << 2)) + 1);
  }
  copyAdding(indicesPtr + (<usize>e << 2), indicesPtr + (<usize>(e - 4 * len) << 2), end - e, 4);
  if (dataPtr) {
    // Doubling copies: each reads only entries already written, so none overlaps its source.
    const row = dataPtr + (<usize>first << 3);
    const total = len * (run + 1);
    for (let have = len; have < total;) {
      const count = min(have, total - have);
      memory.copy(row + (<usize>have << 3), row, <usize>count << 3);
      have += count;
    }
  }
  let ptr = nnzStart + first + len;
  for (let r = 0; r < run; r++) {
    ptr += len;
    store<i32>(indptrOut + (<usize>r << 2), ptr);
  }
}

// Scratch list of the terms of one line: byte address of the input line (already shifted for
// taps along the last axis) and weight. Sized for 3 axes of radius 4: 8 + 8 line terms, 8 taps, diagonal.
const MAX_TERMS: i32 = 32;

/**
 * Applies the Laplacian to slabs i0 in [i0Start, i0End) (a slab is the n1*n2 values of one axis-0 index).
 * slabTable[j] holds the byte address where input slab j was staged; outPtr receives the band's output.
 * termsPtr: scratch for MAX_TERMS (u32 address, f64 weight) pairs.
 */
export function laplacianApplyBand(
  desc: usize, slabTable: usize, i0Start: i32, i0End: i32, outPtr: usize, termsPtr: usize,
): void {
  const n1 = axisN(desc, 1);
  const n2 = axisN(desc, 2);
  const lineBytes = <usize>n2 << 3;
  // Points [lo, hi) of the last axis share its regular row, which becomes shifted copies of the line.
  const lo = <i32>axisWord(desc, 2, 1);
  const hi = <i32>axisWord(desc, 2, 2);
  let out = outPtr;
  for (let i0 = i0Start; i0 < i0End; i0++) {
    const own = <usize>load<u32>(slabTable + (<usize>i0 << 2));
    const r0 = rowOf(desc, 0, i0);
    const a0 = axisPtr(desc, 0, r0), m0 = axisSplit(desc, 0, r0), z0 = axisPtr(desc, 0, r0 + 1);
    for (let i1 = 0; i1 < n1; i1++) {
      const line = own + <usize>i1 * lineBytes;
      const r1 = rowOf(desc, 1, i1);
      const a1 = axisPtr(desc, 1, r1), m1 = axisSplit(desc, 1, r1), z1 = axisPtr(desc, 1, r1 + 1);
      // Terms in column order: lower lines, lower taps, diagonal, upper taps, upper lines.
      let t = 0;
      t = lineTerms(desc, 0, a0, m0, slabTable, i0, i1, line, lineBytes, termsPtr, t);
      t = lineTerms(desc, 1, a1, m1, slabTable, i0, i1, line, lineBytes, termsPtr, t);
      const lowerLines = t;
      const d01 = axisDiag(desc, 0, r0) + axisDiag(desc, 1, r1);
      if (lo < hi) {
        const a2 = axisPtr(desc, 2, lo), m2 = axisSplit(desc, 2, lo), z2 = axisPtr(desc, 2, lo + 1);
        for (let q = a2; q < m2; q++, t++) {
          setTerm(termsPtr, t, <usize>(<isize>line + (<isize>axisDelta(desc, 2, q) << 3)), axisVal(desc, 2, q));
        }
        setTerm(termsPtr, t, line, d01 + axisDiag(desc, 2, lo));
        t++;
        for (let q = m2; q < z2; q++, t++) {
          setTerm(termsPtr, t, <usize>(<isize>line + (<isize>axisDelta(desc, 2, q) << 3)), axisVal(desc, 2, q));
        }
      }
      const upperStart = t;
      t = lineTerms(desc, 1, m1, z1, slabTable, i0, i1, line, lineBytes, termsPtr, t);
      t = lineTerms(desc, 0, m0, z0, slabTable, i0, i1, line, lineBytes, termsPtr, t);
      const total = t;
      if (lo < hi) applyInterior(termsPtr, total, out, lo, hi);
      for (let j = 0; j < lo; j++) applyEdgePoint(desc, termsPtr, lowerLines, upperStart, total, line, out, j, d01);
      for (let j = hi; j < n2; j++) applyEdgePoint(desc, termsPtr, lowerLines, upperStart, total, line, out, j, d01);
      out += lineBytes;
    }
  }
}

// Term t of the scratch list: input address and weight.
@inline function setTerm(termsPtr: usize, t: i32, addr: usize, w: f64): void {
  store<u32>(termsPtr + (<usize>t << 2), <u32>addr);
  store<f64>(termsPtr + (<usize>MAX_TERMS << 2) + (<usize>t << 3), w);
}

// Terms [from, to) of axis a's table for line (i0, i1), as terms t, t+1, ..: the neighbouring line in
// the staged slab i0 + delta for axis 0, the line delta lines away in the same slab for axis 1.
// Returns the term count after them.
@inline function lineTerms(
  desc: usize, a: usize, from: i32, to: i32, slabTable: usize, i0: i32, i1: i32, line: usize, lineBytes: usize,
  termsPtr: usize, t: i32,
): i32 {
  for (let q = from; q < to; q++, t++) {
    const d = axisDelta(desc, a, q);
    const addr = a == 0
      ? <usize>load<u32>(slabTable + (<usize>(i0 + d) << 2)) + <usize>i1 * lineBytes
      : <usize>(<isize>line + <isize>d * <isize>lineBytes);
    setTerm(termsPtr, t, addr, axisVal(desc, a, q));
  }
  return t;
}

// out[j] = sum_t w_t * in_t[j] for j in [lo, hi), in the order of the terms, up to eight terms per pass
// so that each pass is one tight loop. The passes are inlined with constant (k, first) so that
// no branch is left inside the loops.
function applyInterior(termsPtr: usize, total: i32, out: usize, lo: i32, hi: i32): void {
  for (let t = 0; t < total; t += 8) {
    const k = min(total - t, 8);
    const first = t == 0;
    switch (k) {
      case 1: if (first) pass(termsPtr, t, 1, true, out, lo, hi); else pass(termsPtr, t, 1, false, out, lo, hi); break;
      case 2: if (first) pass(termsPtr, t, 2, true, out, lo, hi); else pass(termsPtr, t, 2, false, out, lo, hi); break;
      case 3: if (first) pass(termsPtr, t, 3, true, out, lo, hi); else pass(termsPtr, t, 3, false, out, lo, hi); break;
      case 4: if (first) pass(termsPtr, t, 4, true, out, lo, hi); else pass(termsPtr, t, 4, false, out, lo, hi); break;
      case 5: if (first) pass(termsPtr, t, 5, true, out, lo, hi); else pass(termsPtr, t, 5, false, out, lo, hi); break;
      case 6: if (first) pass(termsPtr, t, 6, true, out, lo, hi); else pass(termsPtr, t, 6, false, out, lo, hi); break;
      case 7: if (first) pass(termsPtr, t, 7, true, out, lo, hi); else pass(termsPtr, t, 7, false, out, lo, hi); break;
      case 8: if (first) pass(termsPtr, t, 8, true, out, lo, hi); else pass(termsPtr, t, 8, false, out, lo, hi); break;
    }
  }
}

@inline function term(termsPtr: usize, t: i32, i: i32, k: i32): usize {
  return i < k ? <usize>load<u32>(termsPtr + (<usize>(t + i) << 2)) : 0;
}

@inline function weight(termsPtr: usize, t: i32, i: i32, k: i32): f64 {
  return i < k ? load<f64>(termsPtr + (<usize>MAX_TERMS << 2) + (<usize>(t + i) << 3)) : 0.0;
}

@inline function pass(termsPtr: usize, t: i32, k: i32, first: bool, out: usize, lo: i32, hi: i32): void {
  const p0 = term(termsPtr, t, 0, k), w0 = weight(termsPtr, t, 0, k);
  const p1 = term(termsPtr, t, 1, k), w1 = weight(termsPtr, t, 1, k);
  const p2 = term(termsPtr, t, 2, k), w2 = weight(termsPtr, t, 2, k);
  const p3 = term(termsPtr, t, 3, k), w3 = weight(termsPtr, t, 3, k);
  const p4 = term(termsPtr, t, 4, k), w4 = weight(termsPtr, t, 4, k);
  const p5 = term(termsPtr, t, 5, k), w5 = weight(termsPtr, t, 5, k);
  const p6 = term(termsPtr, t, 6, k), w6 = weight(termsPtr, t, 6, k);
  const p7 = term(termsPtr, t, 7, k), w7 = weight(termsPtr, t, 7, k);
  let j = lo;
  if (ASC_FEATURE_SIMD) {
    const v0 = f64x2.splat(w0), v1 = f64x2.splat(w1), v2 = f64x2.splat(w2), v3 = f64x2.splat(w3), v4 = f64x2.splat(w4), v5 = f64x2.splat(w5), v6 = f64x2.splat(w6), v7 = f64x2.splat(w7);
    // Four points per step: the second vector reuses each address with a constant offset.
    for (; j + 3 < hi; j += 4) {
      const o = <usize>j << 3;
      let a = f64x2.mul(v0, v128.load(p0 + o));
      let b = f64x2.mul(v0, v128.load(p0 + o, 16));
      if (!first) {
        a = f64x2.add(v128.load(out + o), a);
        b = f64x2.add(v128.load(out + o, 16), b);
      }
      if (k > 1) {
        a = f64x2.add(a, f64x2.mul(v1, v128.load(p1 + o)));
        b = f64x2.add(b, f64x2.mul(v1, v128.load(p1 + o, 16)));
      }
      if (k > 2) {
        a = f64x2.add(a, f64x2.mul(v2, v128.load(p2 + o)));
        b = f64x2.add(b, f64x2.mul(v2, v128.load(p2 + o, 16)));
      }
      if (k > 3) {
        a = f64x2.add(a, f64x2.mul(v3, v128.load(p3 + o)));
        b = f64x2.add(b, f64x2.mul(v3, v128.load(p3 + o, 16)));
      }
      if (k > 4) {
        a = f64x2.add(a, f64x2.mul(v4, v128.load(p4 + o)));
        b = f64x2.add(b, f64x2.mul(v4, v128.load(p4 + o, 16)));
      }
      if (k > 5) {
        a = f64x2.add(a, f64x2.mul(v5, v128.load(p5 + o)));
        b = f64x2.add(b, f64x2.mul(v5, v128.load(p5 + o, 16)));
      }
      if (k > 6) {
        a = f64x2.add(a, f64x2.mul(v6, v128.load(p6 + o)));
        b = f64x2.add(b, f64x2.mul(v6, v128.load(p6 + o, 16)));
      }
      if (k > 7) {
        a = f64x2.add(a, f64x2.mul(v7, v128.load(p7 + o)));
        b = f64x2.add(b, f64x2.mul(v7, v128.load(p7 + o, 16)));
      }
      v128.store(out + o, a);
      v128.store(out + o, b, 16);
    }
  }
  for (; j < hi; j++) {
    const o = <usize>j << 3;
    let acc = w0 * load<f64>(p0 + o);
    if (!first) acc = load<f64>(out + o) + acc;
    if (k > 1) acc += w1 * load<f64>(p1 + o);
    if (k > 2) acc += w2 * load<f64>(p2 + o);
    if (k > 3) acc += w3 * load<f64>(p3 + o);
    if (k > 4) acc += w4 * load<f64>(p4 + o);
    if (k > 5) acc += w5 * load<f64>(p5 + o);
    if (k > 6) acc += w6 * load<f64>(p6 + o);
    if (k > 7) acc += w7 * load<f64>(p7 + o);
    store<f64>(out + o, acc);
  }
}

// One point near the ends of the last axis, where boundary mapping applies: same term order as a CSR row.
function applyEdgePoint(
  desc: usize, termsPtr: usize, lowerLines: i32, upperStart: i32, total: i32,
  line: usize, out: usize, j: i32, d01: f64,
): void {
  const addrs = termsPtr;
  const weights = termsPtr + (<usize>MAX_TERMS << 2);
  const o = <usize>j << 3;
  let acc = 0.0;
  for (let t = 0; t < lowerLines; t++) {
    acc += load<f64>(weights + (<usize>t << 3)) * load<f64>(<usize>load<u32>(addrs + (<usize>t << 2)) + o);
  }
  const r2 = rowOf(desc, 2, j);
  const a2 = axisPtr(desc, 2, r2), m2 = axisSplit(desc, 2, r2), z2 = axisPtr(desc, 2, r2 + 1);
  for (let q = a2; q < m2; q++) acc += axisVal(desc, 2, q) * load<f64>(line + (<usize>(j + axisDelta(desc, 2, q)) << 3));
  acc += (d01 + axisDiag(desc, 2, r2)) * load<f64>(line + o);
  for (let q = m2; q < z2; q++) acc += axisVal(desc, 2, q) * load<f64>(line + (<usize>(j + axisDelta(desc, 2, q)) << 3));
  for (let t = upperStart; t < total; t++) {
    acc += load<f64>(weights + (<usize>t << 3)) * load<f64>(<usize>load<u32>(addrs + (<usize>t << 2)) + o);
  }
  store<f64>(out + o, acc);
}
