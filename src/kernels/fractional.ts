// Fractional derivatives of a whole sampled history on a uniform grid: Grünwald–Letnikov (Riemann–Liouville)
// and the L1 scheme (Caputo). Each is a causal convolution: summed directly for short histories; for long
// ones, the near-diagonal terms directly and the far history by blocked FFTs (assembly/convolution.ts).

import { describe, finiteNumber, float64Array } from '../_args.js';
import { kernelInfo, runKernel } from '../wasm/loader.js';
import { f64View, layout } from '../wasm/memory.js';
import { gamma } from './gamma.js';

// Convolutions of up to this many outputs are summed directly, longer ones by FFT: where the two took the
// same time (bench/fractional.bench.ts, 'crossover'). The scalar build's direct sum is ~3x slower.
const CROSSOVER = { simd: 800, scalar: 300 } as const;
// Weights summed directly for every output beside the FFTs: the FFTs' rounding error scales with the size
// of the weights they get, and past the first few dozen GL and L1 weights are small. Measured at n = 1e6,
// f = sin 3t, alpha = 1.5: largest difference from direct summation 6e-10 with none, 4e-13 with 32, 2e-13
// with 64, 1e-13 with 128 (for 15% more time).
const NEAR = 64;
// Outputs per directly summed leaf on the diagonal of the far terms; squares of side 128, 256, .. go by FFT
// (measured: 32 to 256 change the time at n = 1e6 by under 10%, the large squares dominate).
const LEAF = 128;
// Zero doubles the kernel keeps on either side of the samples (its direct sum reads 8 outputs at a time).
const PAD = 8;


/**
 * The Riemann–Liouville derivative of order alpha of samples f_j = f(j h), j = 0..n-1, by Grünwald–Letnikov:
 * out[j] = h^-alpha * sum_{k=0}^{j} w_k f[j-k], w_k the weights of {@link glWeights}. First-order accurate
 * for smooth f; a negative alpha gives the fractional integral of order -alpha.
 * Long histories go through blocked FFTs, O(n log^2 n); the result equals direct summation within
 * rounding (1e-13 relative on the tests' histories up to n = 1e6).
 * @param f - the samples, finite numbers.
 * @param alpha - order of the derivative, any finite number.
 * @param h - the grid step, finite and > 0.
 * @param out - optional Float64Array of length n to write into (it may be f itself).
 * @returns `out`, or a new Float64Array of length n.
 * @throws {TypeError} when f or out is not a Float64Array, or alpha or h not a number.
 * @throws {RangeError} when alpha is not finite, h not finite and > 0, f holds NaN or an infinity, out has
 *   the wrong length, h^-alpha overflows, or the history does not fit in WebAssembly memory.
 * @example
 * // D^0.5 of f(t) = t on [0, 1] is 2 sqrt(t / pi): about 1.128 at t = 1.
 * const h = 1e-3;
 * const f = Float64Array.from({ length: 1001 }, (_, j) => j * h);
 * glDerivative(f, 0.5, h)[1000]; // 1.12824 (exact 1.12838; the error is first order in h)
 */
export function glDerivative(f: Float64Array, alpha: number, h: number, out?: Float64Array): Float64Array {
  return glHistory('glDerivative', 'auto', f, alpha, h, out);
}

/**
 * {@link glDerivative} with the summation forced, whatever the length of the history: for the benchmark
 * that measures the crossover of the two (not exported from the package).
 * @param path - 'direct' for direct summation of every term, 'fft' for the blocked FFT path.
 * @param f - as glDerivative.
 * @param alpha - as glDerivative.
 * @param h - as glDerivative.
 * @param out - as glDerivative.
 * @returns as glDerivative.
 * @throws as glDerivative.
 * @example
 * glDerivativeVia('fft', new Float64Array(500).fill(1), 0.5, 0.01);
 */
export function glDerivativeVia(path: 'direct' | 'fft', f: Float64Array, alpha: number, h: number, out?: Float64Array): Float64Array {
  return glHistory('glDerivativeVia', path, f, alpha, h, out);
}

function glHistory(where: string, path: Path, f: Float64Array, alpha: number, h: number, out?: Float64Array): Float64Array {
  const y = checkHistory(where, f, out);
  finiteNumber(where, 'alpha', alpha);
  const scale = stepScale(where, h, alpha, 1);
  const n = f.length;
  if (n === 0) return y;
  return convolve(where, 'glDerivativeHistory', alpha, scale, f, n, path, y);
}

/**
 * The Caputo derivative of order 0 < alpha < 1 of samples f_j = f(j h), j = 0..n-1, by the L1 scheme:
 * out[0] = 0, out[j] = h^-alpha / Gamma(2 - alpha) * sum_{k=0}^{j-1} b_k (f[j-k] - f[j-k-1]),
 * b_k = (k+1)^(1-alpha) - k^(1-alpha). Accurate to order 2 - alpha for twice differentiable f.
 * Long histories go through blocked FFTs, O(n log^2 n); the result equals direct summation within
 * rounding (1e-13 relative on the tests' histories up to n = 1e6).
 * @param f - the samples, finite numbers.
 * @param alpha - order of the derivative, 0 < alpha < 1.
 * @param h - the grid step, finite and > 0.
 * @param out - optional Float64Array of length n to write into (it may be f itself).
 * @returns `out`, or a new Float64Array of length n.
 * @throws {TypeError} when f or out is not a Float64Array, or alpha or h not a number.
 * @throws {RangeError} when alpha is not in (0, 1), h not finite and > 0, f holds NaN or an infinity,
 *   out has the wrong length, h^-alpha overflows, or the history does not fit in WebAssembly memory.
 * @example
 * // The Caputo derivative of order 0.5 of t^2 is 2 t^1.5 / Gamma(2.5): 1.50451 at t = 1.
 * const h = 1e-3;
 * const f = Float64Array.from({ length: 1001 }, (_, j) => (j * h) ** 2);
 * caputoL1(f, 0.5, h)[1000]; // 1.50449 (the error is of order h^1.5)
 */
export function caputoL1(f: Float64Array, alpha: number, h: number, out?: Float64Array): Float64Array {
  const where = 'caputoL1';
  const y = checkHistory(where, f, out);
  finiteNumber(where, 'alpha', alpha);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`${where}: expected alpha in (0, 1), got ${describe(alpha)}`);
  const scale = stepScale(where, h, alpha, gamma(2 - alpha));
  const n = f.length;
  if (n <= 1) return y.fill(0);
  return convolve(where, 'caputoL1History', 1 - alpha, scale, f, n - 1, 'auto', y);
}

function checkHistory(where: string, f: unknown, out: unknown): Float64Array {
  const samples = float64Array(where, 'f', f);
  // One NaN or infinity would spread through an FFT to every output, the earlier ones included.
  for (let j = 0; j < samples.length; j++) {
    if (!Number.isFinite(samples[j])) {
      throw new RangeError(`${where}: expected f to hold finite numbers, got f[${j}] = ${describe(samples[j])}`);
    }
  }
  return out === undefined ? new Float64Array(samples.length) : float64Array(where, 'out', out, samples.length);
}

// h^-alpha / divisor, checked: the factor every sum is multiplied by.
function stepScale(where: string, h: unknown, alpha: number, divisor: number): number {
  finiteNumber(where, 'h', h);
  if (!((h as number) > 0)) throw new RangeError(`${where}: expected h to be a finite number > 0, got ${describe(h)}`);
  const scale = Math.pow(h as number, -alpha) / divisor;
  if (!Number.isFinite(scale)) {
    throw new RangeError(`${where}: expected h^-alpha to be finite, got ${scale} for h = ${describe(h)} and alpha = ${alpha}`);
  }
  return scale;
}

type Path = 'auto' | 'direct' | 'fft';
interface Plan { near: number; fftLen: number }

/**
 * The longest convolution summed directly by the running kernel build; longer ones go through the FFT.
 * Exposed for tests and benchmarks.
 * @returns 800 on the SIMD build, 300 on the scalar one.
 * @example
 * fftCrossover(); // 800
 */
export function fftCrossover(): number {
  return CROSSOVER[kernelInfo().build];
}

// How a convolution with this many outputs is split between direct summation and FFT.
function plan(terms: number, path: Path): Plan {
  if (path === 'direct' || (path === 'auto' && terms <= fftCrossover())) return { near: terms, fftLen: 0 };
  // The largest square side L < terms - NEAR, a power-of-two multiple of LEAF; its FFTs have length 2L.
  let side = LEAF;
  while (2 * side < terms - NEAR) side *= 2;
  return { near: NEAR, fftLen: 2 * side };
}

// Stages f, runs the history kernel (order and scale as it takes them) on a convolution of `terms` outputs
// planned for `path`, and copies its n outputs to y.
function convolve(where: string, kernel: 'glDerivativeHistory' | 'caputoL1History', order: number, scale: number,
  f: Float64Array, terms: number, path: Path, y: Float64Array): Float64Array {
  const n = f.length;
  const { near, fftLen } = plan(terms, path);
  // The FFT path's workspace, as assembly/convolution.ts asks: 4 fftLen + 2 leaf + 24 doubles.
  const workDoubles = fftLen === 0 ? 0 : 4 * fftLen + 2 * LEAF + 24;
  return runKernel(where, (k) => {
    const [fBuffer, w, out, work] = layout(k, (n + 2 * PAD) * 8, n * 8, (n + PAD) * 8, workDoubles * 8);
    const fPtr = fBuffer + PAD * 8;
    f64View(k, fPtr, n).set(f);
    k[kernel](fPtr, n, order, scale, near, LEAF, w, out, work, fftLen);
    y.set(f64View(k, out, n));
    return y;
  });
}
