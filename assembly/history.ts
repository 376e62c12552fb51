// The memory term of a time-fractional step for a whole field: per cell, a weighted sum over the cell's past
// states. Rows are fields of `cells` doubles; sums run SIMD over cells, four rows at a time so that each pass
// over the output folds four past states in (the output stays in cache; the rows stream through once).

// out[c] += a1 r1[c] + a2 r2[c] + a3 r3[c] + a4 r4[c], c < cells.
function axpy4(outPtr: usize, cells: i32, a1: f64, r1: usize, a2: f64, r2: usize, a3: f64, r3: usize, a4: f64, r4: usize): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const v1 = f64x2.splat(a1), v2 = f64x2.splat(a2), v3 = f64x2.splat(a3), v4 = f64x2.splat(a4);
    for (; c + 2 <= cells; c += 2) {
      const o = <usize>c << 3;
      let acc = v128.load(outPtr + o);
      acc = f64x2.add(acc, f64x2.mul(v1, v128.load(r1 + o)));
      acc = f64x2.add(acc, f64x2.mul(v2, v128.load(r2 + o)));
      acc = f64x2.add(acc, f64x2.mul(v3, v128.load(r3 + o)));
      acc = f64x2.add(acc, f64x2.mul(v4, v128.load(r4 + o)));
      v128.store(outPtr + o, acc);
    }
  }
  for (; c < cells; c++) {
    const o = <usize>c << 3;
    store<f64>(outPtr + o, load<f64>(outPtr + o) + a1 * load<f64>(r1 + o) + a2 * load<f64>(r2 + o)
      + a3 * load<f64>(r3 + o) + a4 * load<f64>(r4 + o));
  }
}

// out[c] += a r[c], c < cells.
function axpy1(outPtr: usize, cells: i32, a: f64, r: usize): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f64x2.splat(a);
    for (; c + 2 <= cells; c += 2) {
      const o = <usize>c << 3;
      v128.store(outPtr + o, f64x2.add(v128.load(outPtr + o), f64x2.mul(v, v128.load(r + o))));
    }
  }
  for (; c < cells; c++) {
    const o = <usize>c << 3;
    store<f64>(outPtr + o, load<f64>(outPtr + o) + a * load<f64>(r + o));
  }
}

// out[c] = scale * (out[c] + lastCoef * last[c]).
function finish(outPtr: usize, cells: i32, scale: f64, lastCoef: f64, lastPtr: usize): void {
  if (lastCoef != 0.0) axpy1(outPtr, cells, lastCoef, lastPtr);
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f64x2.splat(scale);
    for (; c + 2 <= cells; c += 2) {
      const o = <usize>c << 3;
      v128.store(outPtr + o, f64x2.mul(s, v128.load(outPtr + o)));
    }
  }
  for (; c < cells; c++) {
    const o = <usize>c << 3;
    store<f64>(outPtr + o, scale * load<f64>(outPtr + o));
  }
}

// Rows of one block of cells: a field of 4096 doubles is 32 KiB; 1024 keep the output block in L1.
const BLOCK: i32 = 1024;

/**
 * The exact memory term: out[c] = scale * (sum_{k=1}^{n} coef[k-1] * v[n-k][c] + lastCoef * last[c]).
 * vPtr: n rows of `cells` doubles (row j at vPtr + j * cells * 8); coefPtr: c_1..c_n.
 */
export function historyDirect(vPtr: usize, n: i32, cells: i32, coefPtr: usize, scale: f64, lastCoef: f64, lastPtr: usize, outPtr: usize): void {
  memory.fill(outPtr, 0, <usize>cells << 3);
  const rowBytes = <usize>cells << 3;
  for (let c0 = 0; c0 < cells; c0 += BLOCK) {
    const width = min(BLOCK, cells - c0);
    const out = outPtr + (<usize>c0 << 3);
    const base = vPtr + (<usize>c0 << 3);
    let k = 1;
    for (; k + 3 <= n; k += 4) {
      axpy4(out, width,
        load<f64>(coefPtr + (<usize>(k - 1) << 3)), base + <usize>(n - k) * rowBytes,
        load<f64>(coefPtr + (<usize>k << 3)), base + <usize>(n - k - 1) * rowBytes,
        load<f64>(coefPtr + (<usize>(k + 1) << 3)), base + <usize>(n - k - 2) * rowBytes,
        load<f64>(coefPtr + (<usize>(k + 2) << 3)), base + <usize>(n - k - 3) * rowBytes);
    }
    for (; k <= n; k++) axpy1(out, width, load<f64>(coefPtr + (<usize>(k - 1) << 3)), base + <usize>(n - k) * rowBytes);
  }
  finish(outPtr, cells, scale, lastCoef, lastPtr);
}

/**
 * Folds the row leaving the exact window into the exponential sums: s_i[c] = lambda_i s_i[c] + mu_i leaving[c]
 * for the p nodes (s_i: row i at sPtr; mu_i = lambda_i^(W+1)).
 */
export function historyFold(sPtr: usize, p: i32, cells: i32, lambdaPtr: usize, muPtr: usize, leavingPtr: usize): void {
  const rowBytes = <usize>cells << 3;
  for (let i = 0; i < p; i++) {
    const s = sPtr + <usize>i * rowBytes;
    const lambda = load<f64>(lambdaPtr + (<usize>i << 3));
    const mu = load<f64>(muPtr + (<usize>i << 3));
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      const l = f64x2.splat(lambda), m = f64x2.splat(mu);
      for (; c + 2 <= cells; c += 2) {
        const o = <usize>c << 3;
        v128.store(s + o, f64x2.add(f64x2.mul(l, v128.load(s + o)), f64x2.mul(m, v128.load(leavingPtr + o))));
      }
    }
    for (; c < cells; c++) {
      const o = <usize>c << 3;
      store<f64>(s + o, lambda * load<f64>(s + o) + mu * load<f64>(leavingPtr + o));
    }
  }
}

// The ring's row at lag k (k = 1: the latest row, in slot `newest`).
// @ts-ignore: decorator
@inline function ringSlot(ringPtr: usize, w: i32, newest: i32, k: i32, rowBytes: usize): usize {
  return ringPtr + <usize>(((newest - k + 1) % w + w) % w) * rowBytes;
}

/**
 * The fast memory term: out[c] = scale * (sum_{k=1}^{count} coef[k-1] * ring[(newest - k + 1) mod W][c]
 * + sum_i theta_i s_i[c] + lastCoef * last[c]): the exact window of the last `count` <= W rows (a ring of
 * W rows, the latest in slot `newest`) and the exponential sums of the rows before it.
 */
export function historyFast(
  ringPtr: usize, w: i32, count: i32, newest: i32, cells: i32, coefPtr: usize,
  sPtr: usize, p: i32, thetaPtr: usize, scale: f64, lastCoef: f64, lastPtr: usize, outPtr: usize,
): void {
  memory.fill(outPtr, 0, <usize>cells << 3);
  const rowBytes = <usize>cells << 3;
  let k = 1;
  for (; k + 3 <= count; k += 4) {
    axpy4(outPtr, cells,
      load<f64>(coefPtr + (<usize>(k - 1) << 3)), ringSlot(ringPtr, w, newest, k, rowBytes),
      load<f64>(coefPtr + (<usize>k << 3)), ringSlot(ringPtr, w, newest, k + 1, rowBytes),
      load<f64>(coefPtr + (<usize>(k + 1) << 3)), ringSlot(ringPtr, w, newest, k + 2, rowBytes),
      load<f64>(coefPtr + (<usize>(k + 2) << 3)), ringSlot(ringPtr, w, newest, k + 3, rowBytes));
  }
  for (; k <= count; k++) axpy1(outPtr, cells, load<f64>(coefPtr + (<usize>(k - 1) << 3)), ringSlot(ringPtr, w, newest, k, rowBytes));
  let i = 0;
  for (; i + 4 <= p; i += 4) {
    axpy4(outPtr, cells,
      load<f64>(thetaPtr + (<usize>i << 3)), sPtr + <usize>i * rowBytes, load<f64>(thetaPtr + (<usize>(i + 1) << 3)), sPtr + <usize>(i + 1) * rowBytes,
      load<f64>(thetaPtr + (<usize>(i + 2) << 3)), sPtr + <usize>(i + 2) * rowBytes, load<f64>(thetaPtr + (<usize>(i + 3) << 3)), sPtr + <usize>(i + 3) * rowBytes);
  }
  for (; i < p; i++) axpy1(outPtr, cells, load<f64>(thetaPtr + (<usize>i << 3)), sPtr + <usize>i * rowBytes);
  finish(outPtr, cells, scale, lastCoef, lastPtr);
}
