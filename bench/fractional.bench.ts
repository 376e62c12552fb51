// Fractional derivatives of a whole history, glDerivative and caputoL1: dase-cache against what a user would
// write in TypeScript, direct summation (O(n^2)) and, where that takes minutes, an FFT convolution; and the
// crossover of the kernels' own direct and FFT paths.

import { caputoL1, glDerivative } from '../src/node.js';
import { fftCrossover, glDerivativeVia } from '../src/kernels/fractional.js';
import { gamma } from '../src/kernels/gamma.js';
import { compare, type ComparisonResult } from './_harness.js';

const ALPHA = 0.5;
const TS_DIRECT = 'TypeScript direct summation';
const TS_FFT = 'TypeScript FFT convolution';
const LIMIT_MS = 2000; // absolute goal for n = 1e6

const history = (n: number) => Float64Array.from({ length: n }, (_, j) => Math.sin(5 * j / n) + 0.2 * Math.cos(40 * j / n));

// ---- what a user would write

function tsGlWeights(alpha: number, n: number): Float64Array {
  const w = new Float64Array(n);
  if (n > 0) w[0] = 1;
  for (let k = 1; k < n; k++) w[k] = w[k - 1] * (1 - (alpha + 1) / k);
  return w;
}

function tsL1Weights(alpha: number, n: number): Float64Array {
  const beta = 1 - alpha;
  const b = new Float64Array(n);
  for (let k = 0; k < n; k++) b[k] = (k + 1) ** beta - k ** beta;
  return b;
}

function tsDirectGl(f: Float64Array, alpha: number, h: number, out: Float64Array): Float64Array {
  const n = f.length;
  const w = tsGlWeights(alpha, n);
  const scale = h ** -alpha;
  for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let k = 0; k <= j; k++) acc += w[k] * f[j - k];
    out[j] = scale * acc;
  }
  return out;
}

function tsDirectL1(f: Float64Array, alpha: number, h: number, out: Float64Array): Float64Array {
  const n = f.length;
  const b = tsL1Weights(alpha, n);
  const scale = h ** -alpha / gamma(2 - alpha);
  out[0] = 0;
  for (let j = 1; j < n; j++) {
    let acc = 0;
    for (let k = 0; k < j; k++) acc += b[k] * (f[j - k] - f[j - k - 1]);
    out[j] = scale * acc;
  }
  return out;
}

// Textbook iterative radix-2 complex FFT, in place, twiddles from Math.cos/sin.
function tsFft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const angle = ((inverse ? 2 : -2) * Math.PI) / len;
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(angle * k), wi = Math.sin(angle * k);
      for (let i = k; i < n; i += len) {
        const j = i + half;
        const xr = re[j] * wr - im[j] * wi, xi = re[j] * wi + im[j] * wr;
        re[j] = re[i] - xr; im[j] = im[i] - xi;
        re[i] += xr; im[i] += xi;
      }
    }
  }
}

// out[j] = scale * sum_{k<=j} w_k x_{j-k}: the linear convolution by one zero-padded FFT of length >= 2n - 1.
function tsFftConvolve(w: Float64Array, x: Float64Array, scale: number, out: Float64Array, offset: number): void {
  const n = x.length;
  let size = 1;
  while (size < 2 * n - 1) size *= 2;
  const ar = new Float64Array(size), ai = new Float64Array(size), br = new Float64Array(size), bi = new Float64Array(size);
  ar.set(w.subarray(0, n));
  br.set(x);
  tsFft(ar, ai, false);
  tsFft(br, bi, false);
  for (let k = 0; k < size; k++) {
    const r = ar[k] * br[k] - ai[k] * bi[k];
    ai[k] = ar[k] * bi[k] + ai[k] * br[k];
    ar[k] = r;
  }
  tsFft(ar, ai, true);
  for (let j = 0; j < n; j++) out[offset + j] = (scale / size) * ar[j];
}

function tsFftGl(f: Float64Array, alpha: number, h: number, out: Float64Array): Float64Array {
  tsFftConvolve(tsGlWeights(alpha, f.length), f, h ** -alpha, out, 0);
  return out;
}

function tsFftL1(f: Float64Array, alpha: number, h: number, out: Float64Array): Float64Array {
  const n = f.length;
  const d = new Float64Array(n - 1);
  for (let i = 0; i + 1 < n; i++) d[i] = f[i + 1] - f[i];
  out[0] = 0;
  tsFftConvolve(tsL1Weights(alpha, n - 1), d, h ** -alpha / gamma(2 - alpha), out, 1);
  return out;
}

// ---- checks and reports

// Normwise agreement: the comparison is only meaningful if both compute the same thing.
function checkClose(what: string, ours: Float64Array, theirs: Float64Array, tolerance: number): void {
  let diff = 0, top = 0;
  for (let j = 0; j < ours.length; j++) {
    diff = Math.max(diff, Math.abs(ours[j] - theirs[j]));
    top = Math.max(top, Math.abs(theirs[j]));
  }
  if (!(diff <= tolerance * top)) throw new Error(`${what}: dase-cache and the TypeScript baseline differ by ${diff / top} (normwise)`);
}

function reportLimit(result: ComparisonResult): void {
  const ms = result.contenders[0].medianMsPerOp;
  console.log(`  target: < ${LIMIT_MS} ms for n = 1e6: ${ms < LIMIT_MS ? 'met' : 'NOT met'} (${ms.toFixed(1)} ms)\n`);
}

type Op = (f: Float64Array, alpha: number, h: number, out: Float64Array) => Float64Array;

function versusDirect(name: string, ours: Op, theirs: Op, n: number, target?: number): ComparisonResult {
  const f = history(n), h = 1 / n;
  const a = new Float64Array(n), b = new Float64Array(n);
  // The baseline's L1 weights, (k+1)^b - k^b as written, lose digits to cancellation: a loose check.
  checkClose(`${name} n = ${n}`, ours(f, ALPHA, h, a), theirs(f, ALPHA, h, b), 1e-10);
  return compare({
    name: `${name}(f, ${ALPHA}, h), n = ${n.toExponential(0)}, into a preallocated out`,
    subject: { name: `dase-cache ${name}`, run: () => ours(f, ALPHA, h, a) },
    baselines: [{ name: TS_DIRECT, run: () => theirs(f, ALPHA, h, b) }],
    itemsPerOp: n,
    itemName: 'output',
    targets: target === undefined ? [] : [{ baseline: TS_DIRECT, atLeast: target }],
    rounds: n >= 1e4 ? 7 : 9,
  });
}

function versusFft(name: string, ours: Op, theirs: Op, n: number): ComparisonResult {
  const f = history(n), h = 1 / n;
  const a = new Float64Array(n), b = new Float64Array(n);
  // One unblocked FFT is less accurate than ours; 1e-9 only checks that both compute the same sums.
  checkClose(`${name} n = ${n}`, ours(f, ALPHA, h, a), theirs(f, ALPHA, h, b), 1e-9);
  const result = compare({
    name: `${name}(f, ${ALPHA}, h), n = ${n.toExponential(0)} (direct summation would take minutes)`,
    subject: { name: `dase-cache ${name}`, run: () => ours(f, ALPHA, h, a) },
    baselines: [{ name: TS_FFT, run: () => theirs(f, ALPHA, h, b) }],
    itemsPerOp: n,
    itemName: 'output',
    rounds: 5,
    warmupMs: 0,
  });
  reportLimit(result);
  return result;
}

// The kernels' two paths at the same n: speedup > 1 where the FFT path wins.
function crossover(n: number): ComparisonResult {
  const f = history(n), h = 1 / n;
  const a = new Float64Array(n), b = new Float64Array(n);
  return compare({
    name: `crossover: glDerivative at n = ${n} by FFT against direct (auto picks FFT above n = ${fftCrossover()})`,
    subject: { name: 'FFT path', run: () => glDerivativeVia('fft', f, ALPHA, h, a) },
    baselines: [{ name: 'direct path', run: () => glDerivativeVia('direct', f, ALPHA, h, b) }],
    itemsPerOp: n,
    itemName: 'output',
  });
}

export function benchFractional(): ComparisonResult[] {
  return [
    ...[400, 800, 1600].map(crossover),
    versusDirect('glDerivative', glDerivative, tsDirectGl, 1_000),
    versusDirect('glDerivative', glDerivative, tsDirectGl, 10_000, 20),
    versusFft('glDerivative', glDerivative, tsFftGl, 1_000_000),
    versusDirect('caputoL1', caputoL1, tsDirectL1, 1_000),
    versusDirect('caputoL1', caputoL1, tsDirectL1, 10_000, 20),
    versusFft('caputoL1', caputoL1, tsFftL1, 1_000_000),
  ];
}
