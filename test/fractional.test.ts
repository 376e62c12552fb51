// glDerivative and caputoL1 against direct summation in plain TypeScript (below), against mpmath
// (test/vectors/fractional.json), and by their convergence order on t^p.
//
// "Relative" agreement with direct summation, over the outputs j compared (all of them, or a sample for
// long histories), with mag_j = |scale| * sum_k |w_k x_{j-k}| the size of the terms summed for output j:
//   normwise    max_j |fast_j - direct_j| / max_j |direct_j|                          <= 1e-12
//   scaled      max_j |fast_j - direct_j| / max_j mag_j                               <= 1e-13
//   per element max over j with mag_j <= 100 |direct_j| of |fast_j - direct_j| / |direct_j|  <= 1e-12
// "scaled" is what any float64 summation of these terms can promise, direct summation included (its own
// error grows like sqrt(j) eps, 4e-14 at j = 1e5): where the
// terms cancel to many digits (t^2 at alpha = 1.5, below) both results carry rounding noise of size eps * mag,
// and neither is closer to the exact value. The other two hold wherever outputs are not such cancellations.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { caputoL1, glDerivative, glWeights, init, kernelInfo } from '../src/node.js';
import { fftCrossover } from '../src/kernels/fractional.js';
import { gamma } from '../src/kernels/gamma.js';
import { mulberry32 } from './fixtures/util.js';

interface Vectors {
  gamma: { x: number; value: string }[];
  powers: { p: number; alpha: number; t: number; value: string }[];
  sums: { operator: 'glDerivative' | 'caputoL1'; samples: 'pseudo' | 'square'; n: number; alpha: number; h: number; j: number[]; value: string[] }[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/fractional.json', import.meta.url), 'utf8')) as Vectors;

type Operator = 'glDerivative' | 'caputoL1';
const run = (op: Operator, f: Float64Array, alpha: number, h: number, out?: Float64Array) =>
  (op === 'glDerivative' ? glDerivative : caputoL1)(f, alpha, h, out);

// ---- direct summation, the reference

interface Direct { value: Float64Array; magnitude: Float64Array }

// out_j = scale * sum_k w_k x_{j-k} at the outputs js, summed in ascending k.
function directSum(w: Float64Array, x: Float64Array, scale: number, js: number[]): Direct {
  const value = new Float64Array(js.length);
  const magnitude = new Float64Array(js.length);
  js.forEach((j, i) => {
    let acc = 0, mag = 0;
    for (let k = 0; k <= j; k++) {
      acc += w[k] * x[j - k];
      mag += Math.abs(w[k] * x[j - k]);
    }
    value[i] = scale * acc;
    magnitude[i] = Math.abs(scale) * mag;
  });
  return { value, magnitude };
}

function directGl(f: Float64Array, alpha: number, h: number, js: number[]): Direct {
  return directSum(glWeights(alpha, f.length), f, Math.pow(h, -alpha), js);
}

// The L1 weights as (k+1)^beta - k^beta, computed without cancellation.
function l1Weights(beta: number, n: number): Float64Array {
  const b = new Float64Array(n);
  if (n > 0) b[0] = 1;
  for (let k = 1; k < n; k++) b[k] = k ** beta * Math.expm1(beta * Math.log1p(1 / k));
  return b;
}

function directL1(f: Float64Array, alpha: number, h: number, js: number[]): Direct {
  const n = f.length;
  const d = new Float64Array(Math.max(0, n - 1));
  for (let i = 0; i + 1 < n; i++) d[i] = f[i + 1] - f[i];
  // out_j is the (j-1)-th output of the convolution of b with d; out_0 = 0.
  const inner = directSum(l1Weights(1 - alpha, n), d, Math.pow(h, -alpha) / gamma(2 - alpha), js.map((j) => Math.max(0, j - 1)));
  js.forEach((j, i) => { if (j === 0) inner.value[i] = inner.magnitude[i] = 0; });
  return inner;
}

const direct = (op: Operator, f: Float64Array, alpha: number, h: number, js: number[]) =>
  (op === 'glDerivative' ? directGl : directL1)(f, alpha, h, js);

interface Agreement { normwise: number; scaled: number; perElement: number }

function agreement(fast: Float64Array, ref: Direct, js: number[]): Agreement {
  let diff = 0, top = 0, mag = 0, perElement = 0;
  js.forEach((j, i) => {
    const d = Math.abs(fast[j] - ref.value[i]);
    diff = Math.max(diff, d);
    top = Math.max(top, Math.abs(ref.value[i]));
    mag = Math.max(mag, ref.magnitude[i]);
    if (ref.value[i] !== 0 && ref.magnitude[i] <= 100 * Math.abs(ref.value[i])) perElement = Math.max(perElement, d / Math.abs(ref.value[i]));
  });
  return { normwise: top === 0 ? diff : diff / top, scaled: mag === 0 ? diff : diff / mag, perElement };
}

// ---- samples

const SAMPLES: Record<string, (n: number) => Float64Array> = {
  random: (n) => { const r = mulberry32(n); return Float64Array.from({ length: n }, () => 2 * r() - 1); },
  smooth: (n) => Float64Array.from({ length: n }, (_, j) => 1 + Math.cos(5 * j / n) + 0.3 * Math.sin(17 * j / n)),
  square: (n) => Float64Array.from({ length: n }, (_, j) => (j / n) ** 2),
};
const ALPHAS: Record<Operator, number[]> = { glDerivative: [0.5, 0.3, 0.9, 1.5, -0.7, -1.5], caputoL1: [0.5, 0.2, 0.9] };
// t^2 under a GL derivative of order > 1 is a cancellation of ~h^-alpha (see the header).
const cancels = (op: Operator, sample: string, alpha: number) => op === 'glDerivative' && sample === 'square' && alpha > 1;

const range = (n: number) => Array.from({ length: n }, (_, j) => j);
// Outputs compared on a long history: the ends, the near/far boundary of the FFT path, and a spread.
const sampled = (n: number) => [...new Set([0, 1, 2, 63, 64, 65, 1000, ...range(16).map((i) => Math.floor((i + 1) * (n - 1) / 16)), n - 2, n - 1])];

function checkAgreement(op: Operator, n: number, js: number[]): void {
  for (const [name, make] of Object.entries(SAMPLES)) {
    const f = make(n);
    const h = 1 / n;
    for (const alpha of ALPHAS[op]) {
      const fast = run(op, f, alpha, h);
      const got = agreement(fast, direct(op, f, alpha, h, js), js);
      const what = `${op} n = ${n}, ${name}, alpha = ${alpha}`;
      expect(got.scaled, what).toBeLessThanOrEqual(1e-13);
      if (!cancels(op, name, alpha)) {
        expect(got.normwise, what).toBeLessThanOrEqual(1e-12);
        expect(got.perElement, what).toBeLessThanOrEqual(1e-12);
      }
    }
  }
}

describe.each(['glDerivative', 'caputoL1'] as const)('%s', (op) => {
  it('equals direct summation at sizes below, around and above the FFT crossover', () => {
    const c = fftCrossover(); // terms: n for GL, n - 1 for L1
    const sizes = [1, 2, 3, 5, 7, 8, 9, 16, 17, 63, 64, 65, 66, 100, 255, 256, 257, 258, c - 1, c, c + 1, c + 2, c + 3, 1000, 1025, 2500];
    for (const n of [...new Set(sizes)]) checkAgreement(op, n, range(n));
  });

  it('equals direct summation at sampled outputs of a long history (n = 2^17 + 3)', () => {
    const n = 2 ** 17 + 3;
    checkAgreement(op, n, sampled(n));
  });

  it('matches the exact sums of mpmath for exactly representable samples', () => {
    for (const c of vectors.sums.filter((s) => s.operator === op)) {
      const f = Float64Array.from({ length: c.n }, c.samples === 'pseudo' ? (_, j) => ((37 * j) % 101) / 64 + 0.5 : (_, j) => (j * j) / 1048576);
      const fast = run(op, f, c.alpha, c.h);
      const ref = direct(op, f, c.alpha, c.h, c.j);
      c.j.forEach((j, i) => {
        const exact = Number(c.value[i]);
        // Rounding of the weights and of the sum: a few eps relative to the terms' size.
        const bound = 1e-14 * ref.magnitude[i] + 1e-15 * Math.abs(exact);
        expect(Math.abs(fast[j] - exact), `${op} ${c.samples} n = ${c.n} alpha = ${c.alpha} j = ${j}`).toBeLessThanOrEqual(bound);
      });
    }
  });

  it('returns into out, which may be f itself, and overwrites what out held', () => {
    const n = 3000;
    const f = SAMPLES.smooth(n);
    const expected = run(op, f, 0.5, 1e-3);
    const out = new Float64Array(n).fill(NaN);
    expect(run(op, f, 0.5, 1e-3, out)).toBe(out);
    expect(out).toEqual(expected);
    expect(run(op, f, 0.5, 1e-3, out)).toEqual(expected); // reused
    const g = f.slice();
    expect(run(op, g, 0.5, 1e-3, g)).toBe(g);
    expect(g).toEqual(expected);
    expect(run(op, new Float64Array(0), 0.5, 1)).toEqual(new Float64Array(0));
  });

  it('does not depend on what earlier calls left in WebAssembly memory', () => {
    for (const n of [5, 50, 900]) {
      const f = SAMPLES.random(n);
      const before = run(op, f, 0.5, 0.01);
      run(op, SAMPLES.random(20_000).map((v) => v * 1e300), 0.5, 0.01);
      expect(run(op, f, 0.5, 0.01)).toEqual(before);
    }
  });

  it('gives the same results on the SIMD and scalar builds, within rounding', async () => {
    const f = SAMPLES.smooth(5000);
    const results: Float64Array[] = [];
    try {
      for (const simd of [true, false]) {
        await init({ simd });
        results.push(run(op, f, 0.5, 2e-4), run(op, f.subarray(0, 500), 0.5, 2e-4));
      }
    } finally {
      await init({ simd: process.env.DASE_WASM_BUILD === 'simd' });
    }
    expect(kernelInfo().build).toBe(process.env.DASE_WASM_BUILD);
    for (const [a, b] of [[results[0], results[2]], [results[1], results[3]]]) {
      const ref = { value: b, magnitude: b.map(Math.abs) };
      expect(agreement(a, ref, range(a.length)).normwise).toBeLessThanOrEqual(1e-13);
    }
  });
});

describe('glDerivative', () => {
  it('is the identity at alpha = 0, the backward difference at 1 and h * cumulative sum at -1, on both paths', () => {
    for (const n of [10, 5000]) {
      const f = SAMPLES.random(n);
      expect(glDerivative(f, 0, 0.5)).toEqual(f);
      const diff = glDerivative(f, 1, 0.5);
      expect(diff[0]).toBe(2 * f[0]);
      for (let j = 1; j < n; j++) expect(diff[j]).toBe(2 * (f[j] - f[j - 1])); // the far weights are exact zeros
      const ones = glDerivative(new Float64Array(n).fill(1), -1, 0.25);
      for (let j = 0; j < n; j++) expect(Math.abs(ones[j] - 0.25 * (j + 1))).toBeLessThanOrEqual(1e-12 * (j + 1));
    }
  });

  it('agrees with direct summation at n = 1e6 (sampled outputs)', () => {
    const n = 1_000_000;
    const f = SAMPLES.random(n);
    const js = sampled(n).slice(0, 16);
    const got = agreement(glDerivative(f, 0.5, 1 / n), directGl(f, 0.5, 1 / n, js), js);
    expect(got.normwise).toBeLessThanOrEqual(1e-12);
    expect(got.perElement).toBeLessThanOrEqual(1e-12);
  });
});

describe('caputoL1', () => {
  it('is exact for linear f: D^alpha t = t^(1-alpha) / Gamma(2-alpha)', () => {
    for (const n of [10, 5000]) {
      const h = 1 / (n - 1);
      const out = caputoL1(Float64Array.from({ length: n }, (_, j) => j * h), 0.4, h);
      expect(out[0]).toBe(0);
      for (const j of [1, 2, n >> 1, n - 1]) {
        const exact = (j * h) ** 0.6 / gamma(1.6);
        expect(Math.abs(out[j] - exact) / exact).toBeLessThanOrEqual(1e-13);
      }
    }
  });

  it('gives [0] for a single sample', () => {
    expect(caputoL1(new Float64Array([3]), 0.5, 0.1)).toEqual(new Float64Array([0]));
  });
});

describe('convergence on f(t) = t^p, exact D^alpha t^p = Gamma(p+1) / Gamma(p+1-alpha) t^(p-alpha) from mpmath', () => {
  const exactAt = (p: number, alpha: number, t: number) =>
    Number(vectors.powers.find((c) => c.p === p && c.alpha === alpha && c.t === t)!.value);

  // Observed order log2(e(h) / e(h/2)) at t = 1 and t = 1/2, on grids of 4096 and 8192 (GL) or 8192 and
  // 16384 (L1) steps; the FFT path throughout.
  function observedOrders(op: Operator, p: number, alpha: number, steps: number[]): number[] {
    const errors = steps.map((N) => {
      const f = Float64Array.from({ length: N + 1 }, (_, j) => (j / N) ** p);
      const out = run(op, f, alpha, 1 / N);
      return [Math.abs(out[N] - exactAt(p, alpha, 1)), Math.abs(out[N / 2] - exactAt(p, alpha, 0.5))];
    });
    return [0, 1].map((i) => Math.log2(errors[0][i] / errors[1][i]));
  }

  it.each([2, 3])('Grünwald–Letnikov is first order (p = %i)', (p) => {
    for (const alpha of [0.3, 0.5, 0.7, 1.5, -0.5]) {
      for (const order of observedOrders('glDerivative', p, alpha, [4096, 8192])) {
        expect(Math.abs(order - 1), `alpha = ${alpha}: order ${order}`).toBeLessThan(0.01);
      }
    }
  });

  it.each([2, 3])('L1 is of order 2 - alpha (p = %i)', (p) => {
    for (const alpha of [0.3, 0.5, 0.7]) {
      for (const order of observedOrders('caputoL1', p, alpha, [8192, 16384])) {
        expect(Math.abs(order - (2 - alpha)), `alpha = ${alpha}: order ${order}`).toBeLessThan(0.02);
      }
    }
  });
});

describe('gamma', () => {
  it('matches mpmath within 1e-14 relative', () => {
    for (const { x, value } of vectors.gamma) {
      const exact = Number(value);
      expect(Math.abs(gamma(x) - exact) / Math.abs(exact), `gamma(${x})`).toBeLessThanOrEqual(1e-14);
    }
    expect(gamma(5)).toBeCloseTo(24, 13);
    expect(gamma(0)).toBeNaN();
    expect(gamma(-3)).toBeNaN();
  });
});

describe('argument checks', () => {
  const f = new Float64Array([1, 2, 3]);

  it('reject bad arguments with messages that say what was expected and what came', () => {
    for (const op of ['glDerivative', 'caputoL1'] as const) {
      const call = (...args: unknown[]) => () => (run as (...a: unknown[]) => unknown)(op, ...args);
      expect(call([1, 2, 3], 0.5, 0.1)).toThrow(new TypeError(`${op}: expected f to be a Float64Array, got an array of length 3`));
      expect(call(new Float32Array(3), 0.5, 0.1)).toThrow(TypeError);
      expect(call(undefined, 0.5, 0.1)).toThrow(TypeError);
      expect(call(new Float64Array([1, NaN]), 0.5, 0.1)).toThrow(new RangeError(`${op}: expected f to hold finite numbers, got f[1] = NaN`));
      expect(call(new Float64Array([Infinity]), 0.5, 0.1)).toThrow(/got f\[0\] = Infinity/);
      expect(call(f, NaN, 0.1)).toThrow(new RangeError(`${op}: expected alpha to be a finite number, got NaN`));
      expect(call(f, '0.5', 0.1)).toThrow(new TypeError(`${op}: expected alpha to be a number, got "0.5"`));
      expect(call(f, 0.5, 0)).toThrow(new RangeError(`${op}: expected h to be a finite number > 0, got 0`));
      expect(call(f, 0.5, -0.1)).toThrow(RangeError);
      expect(call(f, 0.5, Infinity)).toThrow(new RangeError(`${op}: expected h to be a finite number, got Infinity`));
      expect(call(f, 0.5, NaN)).toThrow(RangeError);
      expect(call(f, 0.5, 1n)).toThrow(TypeError);
      expect(call(f, 0.5, 0.1, new Float64Array(2))).toThrow(new RangeError(`${op}: expected out to have length 3, got length 2`));
      expect(call(f, 0.5, 0.1, [0, 0, 0])).toThrow(new TypeError(`${op}: expected out to be a Float64Array, got an array of length 3`));
      expect(call(f, 0.99, Number.MIN_VALUE)).toThrow(/expected h\^-alpha to be finite, got Infinity for h = 5e-324 and alpha = 0.99/);
    }
    expect(() => caputoL1(f, 1, 0.1)).toThrow(new RangeError('caputoL1: expected alpha in (0, 1), got 1'));
    expect(() => caputoL1(f, 0, 0.1)).toThrow(/expected alpha in \(0, 1\), got 0/);
    expect(() => caputoL1(f, -0.5, 0.1)).toThrow(RangeError);
    expect(() => caputoL1(f, 1.5, 0.1)).toThrow(RangeError);
    expect(() => glDerivative(f, 3, 1e-200)).toThrow(RangeError);
  });

  it('leave the kernels usable, and out untouched', () => {
    const out = new Float64Array(3).fill(7);
    expect(() => glDerivative(new Float64Array([1, NaN, 3]), 0.5, 0.1, out)).toThrow(RangeError);
    expect(out).toEqual(new Float64Array([7, 7, 7]));
    expect(glDerivative(f, 1, 1)).toEqual(new Float64Array([1, 1, 1]));
    expect(caputoL1(new Float64Array([0, 1]), 0.5, 1)[1]).toBeCloseTo(1 / gamma(1.5), 15);
  });
});
