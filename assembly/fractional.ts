// Fractional derivatives of a whole sampled history: Grünwald–Letnikov (Riemann–Liouville) and the
// L1 scheme (Caputo), each a causal convolution of the samples with the operator's weights.

import { causalConvolution } from './convolution';
import { glWeightsAll } from './gl';

/**
 * out[j] = scale * sum_{k=0}^{j} w_k f_{j-k}, j < n, w the GL weights of order alpha (as glWeights).
 * fPtr: the n samples, with 8 writable doubles before and after; wPtr: room for n weights;
 * outPtr: room for n + 8; near, leaf, workPtr, fftLen: as causalConvolution.
 */
export function glDerivativeHistory(
  fPtr: usize, n: i32, alpha: f64, scale: f64, near: i32, leaf: i32, wPtr: usize, outPtr: usize, workPtr: usize, fftLen: i32,
): void {
  glWeightsAll(wPtr, n, alpha);
  causalConvolution(outPtr, wPtr, fPtr, n, scale, near, leaf, workPtr, fftLen);
}

/**
 * The L1 sums out[j] = scale * sum_{k=0}^{j-1} b_k (f_{j-k} - f_{j-k-1}) for 1 <= j < n, out[0] = 0,
 * b_k = (k+1)^beta - k^beta. fPtr: n >= 2 samples with 8 writable doubles before and after (overwritten
 * by their differences); wPtr: room for n - 1 weights; outPtr: room for n + 8; near, leaf, workPtr, fftLen:
 * as causalConvolution for n - 1 terms.
 */
export function caputoL1History(
  fPtr: usize, n: i32, beta: f64, scale: f64, near: i32, leaf: i32, wPtr: usize, outPtr: usize, workPtr: usize, fftLen: i32,
): void {
  const m = n - 1;
  // Differences in place: d_i = f_{i+1} - f_i overwrites f_i, which no later difference reads.
  for (let i = 0; i < m; i++) {
    const p = fPtr + (<usize>i << 3);
    store<f64>(p, load<f64>(p, 8) - load<f64>(p));
  }
  l1Weights(wPtr, m, beta);
  store<f64>(outPtr, 0.0);
  causalConvolution(outPtr + 8, wPtr, fPtr, m, scale, near, leaf, workPtr, fftLen);
}

// b_k = (k+1)^beta - k^beta, as k^beta * expm1(beta * log1p(1/k)): the plain difference of two nearly
// equal powers loses about log10(k) digits.
function l1Weights(outPtr: usize, len: i32, beta: f64): void {
  if (len > 0) store<f64>(outPtr, 1.0);
  for (let k = 1; k < len; k++) {
    const x = <f64>k;
    store<f64>(outPtr + (<usize>k << 3), Math.pow(x, beta) * Math.expm1(beta * Math.log1p(1.0 / x)));
  }
}
