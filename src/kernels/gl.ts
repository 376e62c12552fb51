// Grünwald–Letnikov weights of the fractional derivative of order alpha.

import { finiteNumber, float64Array, integerInRange } from '../_args.js';
import { f64View, layout } from '../wasm/memory.js';
import { runKernel } from '../wasm/loader.js';

// Weights are computed into a small WASM buffer that stays in cache and copied out chunk by chunk,
// so memory does not grow with n. Even, so that chunks keep the kernel's two-lane stepping aligned.
const CHUNK = 8192;

/**
 * Fills `out` with the Grünwald–Letnikov weights w_k = (-1)^k * binom(alpha, k), k = 0..out.length-1.
 * @param out - receives the weights; its length is the number of weights.
 * @param alpha - order of the derivative (negative for a fractional integral); finite.
 * @returns `out`.
 * @throws {TypeError} when out is not a Float64Array or alpha not a number.
 * @throws {RangeError} when alpha is NaN or infinite.
 * @example
 * const w = glWeightsInto(new Float64Array(4), 0.5); // [1, -0.5, -0.125, -0.0625]
 */
export function glWeightsInto(out: Float64Array, alpha: number): Float64Array {
  float64Array('glWeightsInto', 'out', out);
  finiteNumber('glWeightsInto', 'alpha', alpha);
  const n = out.length;
  if (n > 0) out[0] = 1;
  if (n > 1) out[1] = -alpha + 0; // + 0 turns -0 into +0 at alpha = 0
  if (n <= 2) return out;
  return runKernel('glWeights', (k) => {
    const [buffer] = layout(k, CHUNK * 8);
    const view = f64View(k, buffer, CHUNK);
    for (let k0 = 2; k0 < n; k0 += CHUNK) {
      const len = Math.min(CHUNK, n - k0);
      k.glWeightsChunk(buffer, k0, len, alpha, out[k0 - 2], out[k0 - 1]);
      out.set(len === CHUNK ? view : view.subarray(0, len), k0);
    }
    return out;
  });
}

/**
 * The first n Grünwald–Letnikov weights w_k = (-1)^k * binom(alpha, k); w_0 = 1.
 * Accurate to ~1e-13 relative for n up to 1e5; exactly zero past k = alpha for a non-negative integer alpha.
 * @param alpha - order of the derivative; finite.
 * @param n - number of weights, a non-negative safe integer.
 * @returns a new Float64Array of length n.
 * @throws {TypeError} when alpha or n is not a number.
 * @throws {RangeError} when alpha is NaN or infinite, or n is negative, fractional or unsafe.
 * @example
 * glWeights(1, 4); // Float64Array [1, -1, 0, 0]
 */
export function glWeights(alpha: number, n: number): Float64Array {
  finiteNumber('glWeights', 'alpha', alpha);
  integerInRange('glWeights', 'n', n, 0, Number.MAX_SAFE_INTEGER);
  return glWeightsInto(new Float64Array(n), alpha);
}

/**
 * The fractional kernel of a time step: the first n GL weights scaled by dt^-alpha, so that
 * sum_k K_k f(t - k dt) approximates D^alpha f(t). What the cache's `fractional_kernels/kernel_<alpha>_<dt>_<n>`
 * entries hold.
 * @param alpha - order of the derivative; finite.
 * @param dt - the time step, finite and > 0.
 * @param n - number of weights, a non-negative safe integer.
 * @returns a new Float64Array of length n.
 * @throws {TypeError} when an argument is not a number.
 * @throws {RangeError} for NaN or infinite alpha, dt not > 0, or a bad n.
 * @example
 * fractionalKernel(0.5, 0.01, 3); // Float64Array [10, -5, -1.25]
 */
export function fractionalKernel(alpha: number, dt: number, n: number): Float64Array {
  finiteNumber('fractionalKernel', 'dt', dt);
  if (!(dt > 0)) throw new RangeError(`fractionalKernel: expected dt > 0, got ${dt}`);
  const w = glWeights(alpha, n);
  const scale = dt ** -alpha;
  for (let k = 0; k < w.length; k++) w[k] *= scale;
  return w;
}
