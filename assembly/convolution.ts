// Causal convolution out[j] = scale * sum_{k=0}^{j} w_k x_{j-k}, j < n: the whole-history sums of
// fractional operators.
//
// Terms with k < near are summed directly, in ascending k like a plain loop. Below the crossover
// near = n and that is all. Above it the rest, the far history, goes through FFTs, but not one FFT of the
// whole history: its rounding error is spread evenly over all outputs at the scale of the largest samples,
// which drowns small outputs (a history that starts from rest). Instead the triangle of far terms is cut
// dyadically (Hairer, Lubich and Schlichte, SIAM J. Sci. Stat. Comput. 6, 1985): direct leaves of `leaf`
// outputs on its diagonal, and squares of side L = leaf, 2 leaf, 4 leaf, .. below them, each a product of
// L samples with 2L weights by FFTs of length 2L, whose error is at the scale of those L samples only.
// Keeping the largest weights (k < near) out of every FFT keeps the fast sum within rounding of the
// direct one where the terms cancel to many digits.

import { fftTwiddles, realFft, realInverseFft } from './fft';

/**
 * out[j] = scale * sum_{k=0}^{j} w_k x_{j-k} for j < n.
 * xPtr: x with 8 readable doubles before and after it (they are zeroed here); outPtr: room for n + 8.
 * near: terms k < near summed directly. If near < n, the others as above with leaves of `leaf` (a power
 * of two >= 4) outputs, in workPtr: fftLen = 2L for the largest square side L < n - near, and workPtr
 * holding 4 fftLen + 2 leaf + 24 doubles.
 */
export function causalConvolution(
  outPtr: usize, wPtr: usize, xPtr: usize, n: i32, scale: f64, near: i32, leaf: i32, workPtr: usize, fftLen: i32,
): void {
  memory.fill(xPtr - 64, 0, 64);
  memory.fill(xPtr + (<usize>n << 3), 0, 64);
  directSum(outPtr, wPtr, xPtr, n, near, scale);
  if (near < n) {
    farSum(outPtr + (<usize>near << 3), wPtr + (<usize>near << 3), xPtr, n - near, scale, leaf, workPtr, fftLen);
  }
}

// out[j] = scale * sum_{k < min(j + 1, kEnd)} w_k x_{j-k}, eight outputs at a time so that each w_k
// is loaded once per eight products. Lanes whose k runs past j read the zeros before x.
function directSum(outPtr: usize, wPtr: usize, xPtr: usize, n: i32, kEnd: i32, scale: f64): void {
  for (let j0 = 0; j0 < n; j0 += 8) {
    const kTop = min(j0 + 8, kEnd);
    let q = xPtr + (<usize>j0 << 3);
    const o = outPtr + (<usize>j0 << 3);
    if (ASC_FEATURE_SIMD) {
      let a0 = f64x2.splat(0.0), a1 = a0, a2 = a0, a3 = a0;
      for (let k = 0; k < kTop; k++, q -= 8) {
        const w = f64x2.splat(load<f64>(wPtr + (<usize>k << 3)));
        a0 = f64x2.add(a0, f64x2.mul(w, v128.load(q)));
        a1 = f64x2.add(a1, f64x2.mul(w, v128.load(q, 16)));
        a2 = f64x2.add(a2, f64x2.mul(w, v128.load(q, 32)));
        a3 = f64x2.add(a3, f64x2.mul(w, v128.load(q, 48)));
      }
      const s = f64x2.splat(scale);
      v128.store(o, f64x2.mul(s, a0));
      v128.store(o, f64x2.mul(s, a1), 16);
      v128.store(o, f64x2.mul(s, a2), 32);
      v128.store(o, f64x2.mul(s, a3), 48);
    } else {
      let a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0, a4 = 0.0, a5 = 0.0, a6 = 0.0, a7 = 0.0;
      for (let k = 0; k < kTop; k++, q -= 8) {
        const w = load<f64>(wPtr + (<usize>k << 3));
        a0 += w * load<f64>(q);
        a1 += w * load<f64>(q, 8);
        a2 += w * load<f64>(q, 16);
        a3 += w * load<f64>(q, 24);
        a4 += w * load<f64>(q, 32);
        a5 += w * load<f64>(q, 40);
        a6 += w * load<f64>(q, 48);
        a7 += w * load<f64>(q, 56);
      }
      store<f64>(o, scale * a0);
      store<f64>(o, scale * a1, 8);
      store<f64>(o, scale * a2, 16);
      store<f64>(o, scale * a3, 24);
      store<f64>(o, scale * a4, 32);
      store<f64>(o, scale * a5, 40);
      store<f64>(o, scale * a6, 48);
      store<f64>(o, scale * a7, 56);
    }
  }
}

// out[i] += scale * sum_{s=0}^{i} w_{i-s} x_s for i < m (w, out already offset by near), cut as in the
// header: the pair (output i, sample s) lies in the leaf of both when i / leaf == s / leaf, else in the
// square of side L where s and i fall in the first and second half of one aligned block of 2L.
function farSum(outPtr: usize, wPtr: usize, xPtr: usize, m: i32, scale: f64, leaf: i32, workPtr: usize, fftLen: i32): void {
  const spectrum = workPtr; // of the weights of one square side
  const block = spectrum + (<usize>fftLen << 3); // one square's samples, then its products
  const table = block + (<usize>fftLen << 3);
  const leafX = table + (<usize>fftLen << 4) + 64; // a leaf's samples, with 8 zeros before and after
  const leafOut = leafX + (<usize>(leaf + 8) << 3);
  memory.fill(leafX - 64, 0, 64);
  memory.fill(leafX + (<usize>leaf << 3), 0, 64);
  for (let a = 0; a < m; a += leaf) {
    const len = min(leaf, m - a);
    memory.copy(leafX, xPtr + (<usize>a << 3), <usize>len << 3);
    if (len < leaf) memory.fill(leafX + (<usize>len << 3), 0, <usize>(leaf - len) << 3);
    directSum(leafOut, wPtr, leafX, len, len, scale);
    addInto(outPtr + (<usize>a << 3), leafOut, len);
  }
  fftTwiddles(table, fftLen);
  for (let side = leaf; side < m; side <<= 1) {
    const len = side << 1;
    // Weights 1 .. 2L-1 (0 is the leaves'), zero past the history: w_{i-s} for i - s in [1, 2L).
    const have = min(len, m);
    store<f64>(spectrum, 0.0);
    memory.copy(spectrum + 8, wPtr + 8, <usize>(have - 1) << 3);
    memory.fill(spectrum + (<usize>have << 3), 0, <usize>(len - have) << 3);
    realFft(spectrum, len, table, fftLen);
    for (let a = 0; a + side < m; a += len) {
      // Samples a .. a+L-1 against outputs a+L .. a+2L-1: the circular convolution of length 2L is the
      // linear one at positions L .. 2L-1, the only ones read.
      memory.copy(block, xPtr + (<usize>a << 3), <usize>side << 3);
      memory.fill(block + (<usize>side << 3), 0, <usize>side << 3);
      realFft(block, len, table, fftLen);
      multiplySpectra(block, spectrum, side, scale / <f64>len);
      realInverseFft(block, len, table, fftLen);
      addInto(outPtr + (<usize>(a + side) << 3), block + (<usize>side << 3), min(side, m - a - side));
    }
  }
}

// out[i] += add[i] for i < len.
function addInto(outPtr: usize, addPtr: usize, len: i32): void {
  for (let i = 0; i < len; i++) {
    const o = outPtr + (<usize>i << 3);
    store<f64>(o, load<f64>(o) + load<f64>(addPtr + (<usize>i << 3)));
  }
}

// a = factor * a * b for two realFft spectra of len complex slots (slot 0 holds two real values).
function multiplySpectra(a: usize, b: usize, len: i32, factor: f64): void {
  store<f64>(a, factor * (load<f64>(a) * load<f64>(b)));
  store<f64>(a, factor * (load<f64>(a, 8) * load<f64>(b, 8)), 8);
  for (let k = 1; k < len; k++) {
    const p = a + (<usize>k << 4);
    const q = b + (<usize>k << 4);
    const ar = load<f64>(p), ai = load<f64>(p, 8);
    const br = load<f64>(q), bi = load<f64>(q, 8);
    store<f64>(p, factor * (ar * br - ai * bi));
    store<f64>(p, factor * (ar * bi + ai * br), 8);
  }
}
