import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fdCoefficients, fornbergWeights } from '../src/node.js';
import { random } from './fixtures/util.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/fornberg.json', import.meta.url), 'utf8')) as {
  points: { derivative: number; x0: number; points: number[]; weights: number[] }[];
  stencils: { derivative: number; accuracy: number; kind: 'center' | 'forward' | 'backward'; offsets: number[]; weights: number[] }[];
};

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

function expectClose(actual: Float64Array, exact: number[], tolerance: number): void {
  expect(actual.length).toBe(exact.length);
  const scale = Math.max(1, maxAbs(exact));
  exact.forEach((e, j) => {
    if (Math.abs(actual[j] - e) > tolerance * scale) throw new Error(`weight ${j}: ${actual[j]} vs exact ${e}`);
  });
}

// A simple seeded generator so failures reproduce.
describe('fornbergWeights', () => {
  it.each(vectors.points.map((c) => [c.derivative, c.points.length, c] as const))(
    'derivative %i on %i points is within 1e-13 of the exact rationals', (_, __, c) => {
      expectClose(fornbergWeights(c.derivative, c.x0, c.points), c.weights, 1e-13);
    });

  it('is exact on polynomials of degree below the number of points', () => {
    const rand = random(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + Math.floor(rand() * 7);
      const m = Math.floor(rand() * n);
      const points = new Set<number>();
      while (points.size < n) points.add(Math.round((rand() * 4 - 2) * 64) / 64);
      const xs = [...points];
      const x0 = Math.round((rand() * 2 - 1) * 64) / 64;
      const coeffs = Array.from({ length: n }, () => Math.round((rand() * 2 - 1) * 8));
      const p = (x: number) => coeffs.reduce((acc, a, i) => acc + a * x ** i, 0);
      // m-th derivative at x0: sum_i a_i i!/(i-m)! x0^(i-m)
      let exact = 0;
      coeffs.forEach((a, i) => {
        if (i < m) return;
        let f = 1;
        for (let t = i - m + 1; t <= i; t++) f *= t;
        exact += a * f * x0 ** (i - m);
      });
      const w = fornbergWeights(m, x0, xs);
      const approx = xs.reduce((acc, x, j) => acc + w[j] * p(x), 0);
      const scale = xs.reduce((acc, x, j) => acc + Math.abs(w[j] * p(x)), 0);
      expect(Math.abs(approx - exact)).toBeLessThanOrEqual(1e-12 * Math.max(1, scale));
    }
  });

  // Derivative 0: Lagrange interpolation weights. Exact rationals from python3 3.11.7 fractions.Fraction,
  // computed three ways that agree exactly (the Lagrange product prod_{k != j} (x0 - x_k) / (x_j - x_k),
  // Fornberg's 1988 recurrence over the rationals, and the moment system solved as in
  // test/vectors/generate.py) and matching mpmath 1.3.0 at 50 digits. All are dyadic, so exact in float64.
  it.each([
    { x0: 0.5, points: [-1, 0, 1, 2], exact: [[-1, 16], [9, 16], [9, 16], [-1, 16]] },
    { x0: 0.75, points: [-1, 0, 0.5, 2, 3], exact: [[15, 512], [-105, 256], [21, 16], [21, 256], [-7, 512]] },
    { x0: 4, points: [0, 1, 2, 3], exact: [[-1, 1], [4, 1], [-6, 1], [4, 1]] }, // extrapolation
    { x0: 5, points: [2], exact: [[1, 1]] },
  ])('derivative 0 at x0 = $x0 gives the Lagrange weights', ({ x0, points, exact }) => {
    const w = fornbergWeights(0, x0, points);
    expectClose(w, exact.map(([p, q]) => p / q), 4e-16);
    expect(Math.abs(w.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(4e-16);
  });

  it('derivative 0 at a node is the unit vector at that node', () => {
    const w = fornbergWeights(0, 0.5, [2, -1, 0, 1, 0.5, 3]);
    expect([...w].map((v) => v + 0)).toEqual([0, 0, 0, 0, 1, 0]); // + 0: the zeros may come out as -0
  });

  it('handles many points without overflow', () => {
    const xs = Array.from({ length: 200 }, (_, i) => i);
    const w = fornbergWeights(1, 0, xs);
    expect(w.every(Number.isFinite)).toBe(true);
  });

  it('rejects bad arguments', () => {
    expect(() => fornbergWeights(1, 0, [0, 1, 1])).toThrow(new RangeError('fornbergWeights: expected distinct points, got points[1] = points[2] = 1'));
    expect(() => fornbergWeights(3, 0, [0, 1, 2])).toThrow(new RangeError('fornbergWeights: expected derivative to be an integer in [0, 2], got 3'));
    expect(() => fornbergWeights(-1, 0, [0, 1])).toThrow(RangeError);
    expect(() => fornbergWeights(0.5, 0, [0, 1])).toThrow(RangeError);
    expect(() => fornbergWeights(0, 0, [])).toThrow(/at least one point, got an empty list/);
    expect(() => fornbergWeights(0, NaN, [0, 1])).toThrow(/x0 to be a finite number, got NaN/);
    expect(() => fornbergWeights(0, 0, [0, Infinity])).toThrow(/points\[1\] to be a finite number, got Infinity/);
    expect(() => fornbergWeights(0, 0, [0, '1' as unknown as number])).toThrow(TypeError);
    expect(() => fornbergWeights(0, 0, 5 as unknown as number[])).toThrow(TypeError);
    expect(() => fornbergWeights(0, 0, [0, -0])).toThrow(/distinct/);
  });
});

describe('fdCoefficients', () => {
  it.each(vectors.stencils.map((s) => [s.kind, s.derivative, s.accuracy, s] as const))(
    '%s stencil of derivative %i, accuracy %i matches the exact weights', (kind, derivative, accuracy, s) => {
      const c = fdCoefficients(derivative, accuracy, kind);
      expect([...c.offsets]).toEqual(s.offsets);
      expect(c.accuracy).toBe(accuracy);
      expectClose(c.weights, s.weights, 1e-13);
    });

  it('gives the textbook stencils', () => {
    expect(fdCoefficients(2, 2)).toEqual({ offsets: new Int32Array([-1, 0, 1]), weights: new Float64Array([1, -2, 1]), accuracy: 2 });
    expect([...fdCoefficients(1, 1, 'forward').weights]).toEqual([-1, 1]);
    expect([...fdCoefficients(1, 1, 'backward').weights]).toEqual([-1, 1]);
    expect([...fdCoefficients(1, 1, 'backward').offsets]).toEqual([-1, 0]);
  });

  // findiff (maroba/findiff 6ed90aa, coefs.py) accepts deriv = 0 but then raises "Cannot compute accuracy."
  // because the stencil is exact. Its offsets (acc - 1 central points, acc one-sided ones, as ours) carry
  // the exact weights [0, ..., 1, ..., 0] (fractions.Fraction, three methods as above); we drop the zeros.
  it.each([
    ['center', 2], ['center', 4], ['center', 8], ['center', 62],
    ['forward', 1], ['forward', 2], ['forward', 3], ['forward', 63],
    ['backward', 1], ['backward', 4], ['backward', 63],
  ] as const)('%s stencil of derivative 0, accuracy %i is the identity', (kind, accuracy) => {
    expect(fdCoefficients(0, accuracy, kind)).toEqual({ offsets: new Int32Array([0]), weights: new Float64Array([1]), accuracy });
  });

  it('agrees with Fornberg on the standard derivative-0 stencils once their zero weights are dropped', () => {
    for (const accuracy of [1, 2, 3, 4, 6, 8]) {
      const standard: number[][] = [[...Array(accuracy).keys()], [...Array(accuracy).keys()].map((i) => i - accuracy + 1)];
      if (accuracy % 2 === 0) standard.push([...Array(accuracy - 1).keys()].map((i) => i - (accuracy / 2 - 1)));
      for (const offsets of standard) {
        const w = [...fornbergWeights(0, 0, offsets)].map((v) => v + 0);
        expect(w).toEqual(offsets.map((o) => (o === 0 ? 1 : 0)));
      }
    }
  });

  it('serves a loop over derivatives from 0', () => {
    for (const kind of ['center', 'forward', 'backward'] as const) {
      const orders = Array.from({ length: 5 }, (_, m) => fdCoefficients(m, 4, kind));
      expect(orders.map((c) => c.accuracy)).toEqual([4, 4, 4, 4, 4]);
      expect([...orders[0].weights]).toEqual([1]);
    }
  });

  it('makes central stencils exactly symmetric or antisymmetric', () => {
    for (let m = 1; m <= 6; m++) {
      for (const acc of [2, 4, 6, 8, 10]) {
        const { weights } = fdCoefficients(m, acc);
        const last = weights.length - 1;
        for (let i = 0; i <= last; i++) expect(weights[last - i]).toBe((m % 2 === 0 ? 1 : -1) * weights[i] + 0);
        if (m % 2 === 1) expect(Object.is(weights[last / 2], 0)).toBe(true);
      }
    }
  });

  it('rejects bad arguments', () => {
    expect(() => fdCoefficients(2, 3)).toThrow(new RangeError('fdCoefficients: expected an even accuracy for a central stencil, got 3'));
    expect(() => fdCoefficients(-1, 2)).toThrow(new RangeError('fdCoefficients: expected derivative to be an integer in [0, 63], got -1'));
    expect(() => fdCoefficients(64, 2)).toThrow(/derivative to be an integer in \[0, 63\], got 64/);
    expect(() => fdCoefficients(0, 3)).toThrow(new RangeError('fdCoefficients: expected an even accuracy for a central stencil, got 3'));
    expect(() => fdCoefficients(0, 0, 'forward')).toThrow(/accuracy to be an integer in \[1, 63\], got 0/);
    expect(() => fdCoefficients(2, 0)).toThrow(RangeError);
    expect(() => fdCoefficients(2, 2, 'centre' as 'center')).toThrow(/kind to be one of "center", "forward", "backward", got "centre"/);
    expect(() => fdCoefficients(40, 40)).toThrow(/at most 64 points/);
    expect(() => fdCoefficients('2' as unknown as number, 2)).toThrow(TypeError);
  });
});
