// Finite-difference weights: on any distinct points (Fornberg's algorithm), and the standard
// central / forward / backward stencils on a unit grid.

import { describe, finiteNumber, integerInRange, oneOf } from '../_args.js';
import { f64View, layout } from '../wasm/memory.js';
import { runKernel } from '../wasm/loader.js';

/** Largest stencil fdCoefficients builds; wider ones lose all accuracy to cancellation in float64. */
const MAX_STENCIL_POINTS = 64;

/**
 * Weights c_j with f^(m)(x0) ≈ Σ_j c_j f(points[j]) (B. Fornberg, Math. Comp. 51, 1988), exact for
 * polynomials of degree below points.length. Derivative 0 gives the Lagrange interpolation weights at x0.
 * @param derivative - order m, an integer with 0 <= m < points.length.
 * @param x0 - where the derivative is approximated; finite.
 * @param points - distinct finite abscissae, in any order.
 * @returns a new Float64Array of points.length weights, in the order of `points`.
 * @throws {TypeError} when points is not array-like or holds non-numbers.
 * @throws {RangeError} for an empty list, duplicate or non-finite points, or m >= points.length.
 * @example
 * fornbergWeights(2, 0, [-1, 0, 1]); // Float64Array [1, -2, 1]
 * fornbergWeights(0, 0.5, [-1, 0, 1, 2]); // Float64Array [-1/16, 9/16, 9/16, -1/16]
 */
export function fornbergWeights(derivative: number, x0: number, points: ArrayLike<number>): Float64Array {
  const where = 'fornbergWeights';
  finiteNumber(where, 'x0', x0);
  if (points === null || typeof points !== 'object' || typeof points.length !== 'number') {
    throw new TypeError(`${where}: expected points to be an array of numbers, got ${describe(points)}`);
  }
  const n = points.length;
  if (n === 0) throw new RangeError(`${where}: expected at least one point, got an empty list`);
  integerInRange(where, 'derivative', derivative, 0, n - 1);
  const xs = Float64Array.from({ length: n }, (_, j) => finiteNumber(where, `points[${j}]`, points[j]));
  const seen = new Map<number, number>();
  xs.forEach((x, j) => {
    const first = seen.get(x);
    if (first !== undefined) throw new RangeError(`${where}: expected distinct points, got points[${first}] = points[${j}] = ${x}`);
    seen.set(x, j);
  });
  const weights = runKernel(where, (k) => {
    const [xPtr, workPtr, outPtr] = layout(k, n * 8, n * (derivative + 1) * 8, n * 8);
    f64View(k, xPtr, n).set(xs);
    k.fornbergWeights(derivative, x0, xPtr, n, workPtr, outPtr);
    return f64View(k, outPtr, n).slice();
  });
  const bad = weights.findIndex((w) => !Number.isFinite(w));
  if (bad >= 0) {
    throw new RangeError(`${where}: the weights overflow float64 for these points (weight ${bad} is ${weights[bad]}); `
      + 'use fewer points or points closer together');
  }
  return weights;
}

/** Where a stencil's points lie: around the point (`'center'`), after it (`'forward'`), or before it (`'backward'`). */
export type StencilKind = 'center' | 'forward' | 'backward';

/** A finite-difference stencil on a unit grid: f^(m)(0) ≈ Σ weights[i] f(offsets[i]). */
export interface FdStencil {
  /** The grid offsets of the stencil's points, ascending. */
  offsets: Int32Array;
  /** The weight of each point. */
  weights: Float64Array;
  /** Order of accuracy: the error is O(h^accuracy) on a grid of spacing h. */
  accuracy: number;
}

/**
 * The standard finite-difference stencil of a derivative on a unit grid (divide by h^derivative for
 * spacing h). Central stencils are made exactly (anti)symmetric, so odd derivatives get a zero centre weight.
 * Derivative 0 (the function itself) is the identity { offsets: [0], weights: [1] } for every kind and
 * accuracy: it is exact, so the requested accuracy holds, and a loop over m = 0..k needs no special case.
 * @param derivative - order, an integer in [0, 63].
 * @param accuracy - order of accuracy, an integer in [1, 63] (even for 'center').
 * @param kind - 'center' (default), 'forward' (offsets 0..) or 'backward' (offsets ..0).
 * @returns offsets, weights and accuracy (the one requested).
 * @throws {TypeError} for a derivative or accuracy that is not a number.
 * @throws {RangeError} for a derivative or accuracy out of range, an odd central accuracy, an unknown kind
 * or a stencil of more than 64 points.
 * @example
 * fdCoefficients(2, 2); // { offsets: [-1, 0, 1], weights: [1, -2, 1], accuracy: 2 }
 * fdCoefficients(0, 4, 'forward'); // { offsets: [0], weights: [1], accuracy: 4 }
 */
export function fdCoefficients(derivative: number, accuracy: number, kind: StencilKind = 'center'): FdStencil {
  const where = 'fdCoefficients';
  integerInRange(where, 'derivative', derivative, 0, MAX_STENCIL_POINTS - 1);
  integerInRange(where, 'accuracy', accuracy, 1, MAX_STENCIL_POINTS - 1);
  oneOf(where, 'kind', kind, ['center', 'forward', 'backward'] as const);
  if (kind === 'center' && accuracy % 2 !== 0) {
    throw new RangeError(`${where}: expected an even accuracy for a central stencil, got ${accuracy}`);
  }
  // The standard stencil for derivative 0 (findiff's offsets: acc - 1 central points, acc one-sided ones)
  // has the exact weights [0, ..., 1, ..., 0]; its zeros only widen the stencil, so return the identity.
  if (derivative === 0) return { offsets: Int32Array.of(0), weights: Float64Array.of(1), accuracy };
  let offsets: number[];
  if (kind === 'center') {
    const radius = Math.floor((derivative + 1) / 2) - 1 + accuracy / 2;
    offsets = Array.from({ length: 2 * radius + 1 }, (_, i) => i - radius);
  } else {
    const count = derivative + accuracy;
    offsets = Array.from({ length: count }, (_, i) => (kind === 'forward' ? i : i - count + 1));
  }
  if (offsets.length > MAX_STENCIL_POINTS) {
    throw new RangeError(`${where}: expected a stencil of at most ${MAX_STENCIL_POINTS} points, `
      + `got ${offsets.length} for derivative ${derivative} at accuracy ${accuracy}`);
  }
  const weights = fornbergWeights(derivative, 0, offsets);
  if (kind === 'center') symmetrize(weights, derivative);
  return { offsets: Int32Array.from(offsets), weights, accuracy };
}

// A central stencil satisfies c_{-j} = (-1)^m c_j exactly; averaging removes the rounding noise that
// would otherwise leave e.g. 1e-17 at the centre of a first derivative.
function symmetrize(weights: Float64Array, derivative: number): void {
  const last = weights.length - 1;
  const sign = derivative % 2 === 0 ? 1 : -1;
  for (let i = 0; i < weights.length / 2; i++) {
    const mean = (weights[i] + sign * weights[last - i]) / 2;
    weights[i] = mean;
    weights[last - i] = sign * mean;
  }
  if (sign < 0) weights[last / 2] = 0;
}
