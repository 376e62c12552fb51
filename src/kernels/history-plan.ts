// The plan of a time-fractional stepper's history sum: exact weights for the last `window` lags, and the
// older lags as a sum of exponentials, verified against the exact weights at every lag up to the horizon.
//
// The stepper needs s_n = sum_{k=1}^{n} c_k v^{n-k}, with c_k the Grünwald–Letnikov weights w_k (scheme 'gl',
// 0 < alpha < 2) or the L1 weights b_k = (k+1)^(1-alpha) - k^(1-alpha) (scheme 'l1', 0 < alpha < 1).
// Lags 1..W are summed exactly; for k >= W+1, c_k ~ sum_i theta_i lambda_i^k, so that each exponential's
// share of the old history is updated in O(1) per step. Both weight families are Laplace transforms,
// c_k = int_0^inf e^(-k x) phi(x) dx:
//   gl: phi(x) = -(sin(pi alpha) / pi) (e^x - 1)^alpha                          (k > alpha; from the Beta integral)
//   l1: phi(x) = (alpha (1 - alpha) / Gamma(1 + alpha)) x^(alpha-2) (1 - e^-x)  (k >= 1)
// and x = e^y turns the integral into one over the real line that the trapezoidal rule approximates with an
// error ~ exp(-pi^2 / h) (the integrand is analytic in the strip |Im y| < pi/2): nodes lambda = exp(-e^(y_j)).
// This is how Jiang, Zhang, Zhang & Zhang (2017, fast L1: a sum-of-exponentials approximation of the kernel),
// Baffet & Hesthaven (2017, kernel compression) and Schädle, López-Fernández & Lubich (2006, oblivious
// convolution quadrature) compress such kernels; here the weights are discrete and must hold to ~1e-16
// relative over up to 1e8 lags (the L1 weights sum to ~horizon^(1-alpha)), which takes three more things:
// - The nodes far below 1/horizon all look like polynomials in k, e^(-k x) ~ 1 - k x + k^2 x^2 / 2 - ..: they
//   are collapsed into a 3-point Gauss–Radau rule, lambda = 1 and two lambdas just below 1, that matches their
//   moments of order 0 to 4 (a single lambda = 1 would need x_lo ~ 1e-18 for L1 at alpha = 0.1).
// - lambda = exp(-x) is stored as a double: near 1 its rounding moves x by up to 1.1e-16 absolute, i.e. by
//   1e-6 relative at x = 1e-10, and the stepper raises it to the power k, so that the sum over k of the
//   change grows like horizon^2. The plan takes the stored lambdas as the truth (x = -log(lambda) wherever it
//   computes) and corrects the weights for the moved nodes, by sinc differentiation on the trapezoid's grid,
//   or through the collapsed rule's moments for nodes that are polynomial in k.
// - The grid y_j = y_lo + j h is exact in binary (y_lo and h are multiples of 2^-24), so that the only
//   perturbation of the nodes is that rounding; and the constants (sin(pi alpha), Gamma(1 + alpha)) and the
//   reference weights are computed to ~1 ulp, since errors of 1e-16 relative common to every lag add up.

import { describe, finiteNumber, float64Array, integerInRange, knownKeys, oneOf, optionsObject } from '../_args.js';
import { formatNumber } from '../memo/keys.js';
import { gamma } from './gamma.js';

/** What {@link planHistory} is asked for. */
export interface HistoryPlanOptions {
  /** 'gl': Grünwald–Letnikov weights w_k (0 < alpha < 2); 'l1': L1 weights b_k (0 < alpha < 1). */
  scheme: 'gl' | 'l1';
  /** Order of the derivative. */
  alpha: number;
  /** W, the number of lags summed exactly, an integer in [2, 4096]. */
  window: number;
  /** The largest lag the approximation must hold for, an integer in [window + 1, 1e8]. */
  horizon: number;
  /** Bound on 4 sum_{k=W+1}^{horizon} |c_k - ĉ_k|, in [1e-14, 1e-2]. */
  tolerance: number;
}

/** Exact weights for lags 1..W and exponentials for lags W+1..horizon, as {@link planHistory} made them. */
export interface HistoryPlan {
  /** The weights' family, as asked (see {@link HistoryPlanOptions}). */
  scheme: 'gl' | 'l1';
  /** Order of the derivative, as asked. */
  alpha: number;
  /** W, the number of lags summed exactly, as asked. */
  window: number;
  /** The largest lag the approximation holds for, as asked. */
  horizon: number;
  /** The bound the plan was made to, as asked. */
  tolerance: number;
  /** Exact weights c_1..c_W (index 0 holds c_1). */
  windowWeights: Float64Array;
  /** Per node: λ_i, in (0, 1]; the approximation is ĉ_k = sum_i θ_i λ_i^k with these doubles exactly. */
  lambdas: Float64Array;
  /** Per node: θ_i. */
  thetas: Float64Array;
  /** Per node: λ_i^(W+1), computed as exp(-(W+1) x_i) with x_i = -log(λ_i) to full precision. */
  lambdasPastWindow: Float64Array;
  /** Σ_{k=W+1}^{horizon} |c_k - ĉ_k| as the verification measured it (see {@link planHistory}). */
  errorSum: number;
  /** The largest |c_k - ĉ_k| the verification saw. */
  errorMax: number;
}

type Scheme = HistoryPlan['scheme'];
const SCHEMES: readonly Scheme[] = ['gl', 'l1'];
const OPTION_KEYS = ['scheme', 'alpha', 'window', 'horizon', 'tolerance'] as const;
const PARAMS = ['schemeCode', 'alpha', 'window', 'horizon', 'tolerance', 'errorSum', 'errorMax'] as const;
const MAX_WINDOW = 4096;
const MAX_HORIZON = 1e8;
const MIN_TOLERANCE = 1e-14;
const MAX_TOLERANCE = 1e-2;

// Lags verified one by one; past this, on a geometric grid of ratio 1 + 2^-9 with each gap bounded by its
// length times the larger endpoint error. 2^17 > 1e5, so horizons up to 1e5 are checked at every lag. The
// trapezoid's error oscillates with period ~h (> 0.1) in log k, 50 times slower than the grid steps.
const EXACT_LAGS = 2 ** 17;
const SAMPLE_RATIO = 1 + 2 ** -9;
// Lags per block of the exact verification: e^(-k x) = e^(-k0 x) * e^(-m x) from a table of m < BLOCK,
// within ~1.5 ulp of Math.exp at a multiplication per term.
const BLOCK = 64;
// Shares of tolerance / 4 (the promise): trapezoid error, collapsed nodes, dropped nodes. The rest is left to
// rounding, which for L1 at long horizons is most of it.
const QUADRATURE_SHARE = 1 / 4;
const COLLAPSE_SHARE = 1 / 8;
const TAIL_SHARE = 1 / 8;
// When a plan fails its verification: h shrinks, the collapsed region and dropped tail shrink.
const ATTEMPTS = 4;
// y_lo and h are multiples of this, so y_lo + j h is exact for every node.
const GRID_QUANTUM = 2 ** -24;
// The L1 weights sum to ~horizon^(1-alpha), and any float64 evaluation of them or of the sum of exponentials
// (the stepper's included) is off by ~1 ulp: the verification measures Σ|c_k - ĉ_k| ~ 1.3-1.5 2^-53 Σ|c_k| at
// best. tolerance / 4 must leave room for that: at least this many times Σ|c_k|.
const ROUNDING_FLOOR = 2 ** -51;
// x_lo stays inside [MIN_X_LO, MAX_KX_LO / horizon]: k x_lo << 1 for every lag, and 1 - x_lo distinct from 1.
const MAX_KX_LO = 1e-1;
const MIN_X_LO = 1e-14;

// ---------------------------------------------------------------- public API

/**
 * Plans the history sum of a time-fractional stepper: the exact weights c_1..c_W, and nodes λ_i, θ_i with
 * ĉ_k = Σ_i θ_i λ_i^k ≈ c_k for W < k <= horizon, for the Grünwald–Letnikov weights (scheme 'gl', c_k = w_k
 * of glWeights) or the L1 weights (scheme 'l1', c_k = (k+1)^(1-alpha) - k^(1-alpha), as in caputoL1).
 * The nodes come from the trapezoidal rule on the weights' Laplace representation (see the top of this file)
 * and are verified before they are returned: Σ_{k=W+1}^{horizon} |c_k - ĉ_k| <= tolerance / 4, measured at
 * every lag up to W + 2^17 and, past that, on a geometric grid of ratio 1 + 2^-9, each gap counted as its
 * length times the larger error at its ends. At window 32 and tolerance 1e-10 that takes 30 to 35 nodes at
 * horizon 1e3, and 7 (GL) to 12 (L1, alpha = 0.1) more per tenfold horizon; 14 to 17 more per factor 1e4 in
 * tolerance. For alpha = 1, 'gl' has no nodes (w_k = 0 for k >= 2). About 10 ms at horizon 1e5 and 15 to
 * 25 ms at 1e6 to 1e8, most of it the verification.
 * @param options - scheme, alpha, window, horizon and tolerance (see {@link HistoryPlanOptions}).
 * @returns the plan, with the measured errorSum and errorMax.
 * @throws {TypeError} when options is not an object, has an unknown key, or a value of the wrong type.
 * @throws {RangeError} when scheme is unknown; alpha is outside (0, 2) for 'gl' or (0, 1) for 'l1'; window is
 *   not an integer in [2, 4096]; horizon not an integer in [window + 1, 1e8]; tolerance outside [1e-14, 1e-2];
 *   or, for 'l1', tolerance / 4 is below 2^-51 Σ_k |c_k|, 4 times what float64 rounding of the weights leaves.
 * @throws {Error} when no plan passed the verification after 4 attempts (the message gives the best one).
 * @example
 * const plan = planHistory({ scheme: 'l1', alpha: 0.5, window: 32, horizon: 100_000, tolerance: 1e-10 });
 * plan.lambdas.length; // 53
 * plan.errorSum <= 2.5e-11; // true
 */
export function planHistory(options: HistoryPlanOptions): HistoryPlan {
  const where = 'planHistory';
  const { scheme, alpha, window, horizon, tolerance } = checkOptions(where, options);
  const windowWeights = exactWeights(scheme, alpha, window);
  const base = { scheme, alpha, window, horizon, tolerance, windowWeights };
  if (scheme === 'gl' && alpha === 1) {
    const none = new Float64Array(0);
    return { ...base, lambdas: none, thetas: none.slice(), lambdasPastWindow: none.slice(), errorSum: 0, errorMax: 0 };
  }
  const budget = tolerance / 4;
  // Σ_{k>W} |c_k|: at most 1 for GL (Σ_k w_k = 0 with one sign past k = 1); telescoping for L1.
  const weightSum = scheme === 'gl' ? 1 : (horizon + 1) ** (1 - alpha) - (window + 1) ** (1 - alpha);
  if (scheme === 'l1' && budget < ROUNDING_FLOOR * weightSum) {
    throw new RangeError(`${where}: expected tolerance >= ${(4 * ROUNDING_FLOOR * weightSum).toPrecision(2)} for `
      + `scheme 'l1', alpha = ${alpha}, window = ${window}, horizon = ${horizon} (the weights sum to `
      + `${weightSum.toPrecision(3)}, and float64 rounds each by ~1e-16 relative), got ${describe(tolerance)}`);
  }
  const reference = new Reference(scheme, alpha, window, horizon);
  const kernel = laplaceKernel(scheme, alpha);
  let knobs = initialKnobs(kernel, horizon, budget, reference.weightSum);
  let best = Infinity;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const nodes = buildNodes(kernel, window, horizon, knobs);
    const { errorSum, errorMax } = reference.verify(nodes, budget);
    if (errorSum <= budget) {
      const lambdasPastWindow = nodes.x.map((x) => Math.exp(-(window + 1) * x));
      return { ...base, lambdas: nodes.lambda, thetas: nodes.theta, lambdasPastWindow, errorSum, errorMax };
    }
    best = Math.min(best, errorSum);
    knobs = { h: quantize(knobs.h * 0.85), xLo: Math.max(MIN_X_LO, knobs.xLo / 2), tailBudget: knobs.tailBudget / 4 };
  }
  throw new Error(`${where}: no plan met Σ|c_k - ĉ_k| <= tolerance / 4 = ${budget} for scheme '${scheme}', `
    + `alpha = ${alpha}, window = ${window}, horizon = ${horizon} after ${ATTEMPTS} attempts (best ${best.toPrecision(3)}; `
    + `float64 rounding of the weights alone is ~${(2 ** -53 * weightSum).toPrecision(2)})`);
}

/**
 * The plan as a cache record: Float64Arrays only, the scalars in `params` =
 * [schemeCode (0 'gl', 1 'l1'), alpha, window, horizon, tolerance, errorSum, errorMax].
 * @param plan - a plan from {@link planHistory} (or {@link unpackPlan}).
 * @returns a record holding params, windowWeights, lambdas, thetas and lambdasPastWindow (the plan's arrays, not copies).
 * @throws {TypeError} when plan is not an object or its arrays are not Float64Arrays.
 * @throws {RangeError} when its scheme is unknown or its arrays disagree in length.
 * @example
 * const record = packPlan(planHistory({ scheme: 'gl', alpha: 0.5, window: 16, horizon: 1000, tolerance: 1e-8 }));
 * record.params[0]; // 0, the code of 'gl'
 */
export function packPlan(plan: HistoryPlan): Record<string, Float64Array> {
  const where = 'packPlan';
  if (plan === null || typeof plan !== 'object') throw new TypeError(`${where}: expected plan to be an object, got ${describe(plan)}`);
  const scheme = oneOf(where, 'plan.scheme', plan.scheme, SCHEMES);
  const arrays = checkArrays(where, plan as unknown as Record<string, unknown>, plan.window);
  const params = Float64Array.of(SCHEMES.indexOf(scheme), plan.alpha, plan.window, plan.horizon, plan.tolerance,
    plan.errorSum, plan.errorMax);
  return { params, ...arrays };
}

/**
 * A plan back from the record {@link packPlan} made (for example, as loaded from the cache).
 * @param record - params, windowWeights, lambdas, thetas and lambdasPastWindow, as Float64Arrays.
 * @returns the plan, sharing the record's arrays.
 * @throws {TypeError} when record is not an object or an entry is missing or not a Float64Array.
 * @throws {RangeError} when params does not have 7 entries, its scheme code is unknown, or the arrays
 *   disagree in length with each other or with the window.
 * @example
 * const plan = planHistory({ scheme: 'l1', alpha: 0.5, window: 16, horizon: 1000, tolerance: 1e-8 });
 * unpackPlan(packPlan(plan)).thetas === plan.thetas; // true
 */
export function unpackPlan(record: Record<string, Float64Array>): HistoryPlan {
  const where = 'unpackPlan';
  if (record === null || typeof record !== 'object') throw new TypeError(`${where}: expected record to be an object, got ${describe(record)}`);
  const params = float64Array(where, 'record.params', record.params, PARAMS.length);
  const scheme = SCHEMES[params[0]];
  if (scheme === undefined) throw new RangeError(`${where}: expected a scheme code of 0 or 1 in params[0], got ${describe(params[0])}`);
  const [, alpha, window, horizon, tolerance, errorSum, errorMax] = params;
  integerInRange(where, 'window (params[2])', window, 2, MAX_WINDOW);
  return { scheme, alpha, window, horizon, tolerance, ...checkArrays(where, record, window), errorSum, errorMax };
}

/**
 * The cache key of a plan: `history_plan_<scheme>_<alpha>_w<window>_h<horizon>_tol<tolerance>`, numbers as
 * {@link formatNumber} writes them (the same as Python's repr), e.g. `history_plan_gl_0.5_w32_h100000_tol1e-10`.
 * @param options - as {@link planHistory} takes them, checked the same way.
 * @returns the key.
 * @throws {TypeError} as planHistory.
 * @throws {RangeError} as planHistory's argument checks.
 * @example
 * planKey({ scheme: 'l1', alpha: 0.25, window: 64, horizon: 1e6, tolerance: 1e-8 }); // 'history_plan_l1_0.25_w64_h1000000_tol1e-08'
 */
export function planKey(options: HistoryPlanOptions): string {
  const { scheme, alpha, window, horizon, tolerance } = checkOptions('planKey', options);
  return `history_plan_${scheme}_${formatNumber(alpha)}_w${window}_h${horizon}_tol${formatNumber(tolerance)}`;
}

// ---------------------------------------------------------------- arguments

function checkOptions(where: string, options: unknown): HistoryPlanOptions {
  if (options === undefined) throw new TypeError(`${where}: expected options to be an object, got undefined`);
  const o = optionsObject(where, options);
  knownKeys(where, o, OPTION_KEYS);
  if (typeof o.scheme !== 'string') throw new TypeError(`${where}: expected scheme to be a string, got ${describe(o.scheme)}`);
  const scheme = oneOf(where, 'scheme', o.scheme, SCHEMES);
  const alpha = finiteNumber(where, 'alpha', o.alpha);
  const top = scheme === 'gl' ? 2 : 1;
  if (!(alpha > 0 && alpha < top)) throw new RangeError(`${where}: expected alpha in (0, ${top}) for scheme '${scheme}', got ${describe(alpha)}`);
  const window = integerInRange(where, 'window', o.window, 2, MAX_WINDOW);
  const horizon = integerInRange(where, 'horizon', o.horizon, window + 1, MAX_HORIZON);
  const tolerance = finiteNumber(where, 'tolerance', o.tolerance);
  if (!(tolerance >= MIN_TOLERANCE && tolerance <= MAX_TOLERANCE)) {
    throw new RangeError(`${where}: expected tolerance in [${MIN_TOLERANCE}, ${MAX_TOLERANCE}], got ${describe(tolerance)}`);
  }
  return { scheme, alpha, window, horizon, tolerance };
}

type PlanArrays = Pick<HistoryPlan, 'windowWeights' | 'lambdas' | 'thetas' | 'lambdasPastWindow'>;

function checkArrays(where: string, source: Record<string, unknown>, window: number): PlanArrays {
  const windowWeights = float64Array(where, 'windowWeights', source.windowWeights, window);
  const lambdas = float64Array(where, 'lambdas', source.lambdas);
  const thetas = float64Array(where, 'thetas', source.thetas, lambdas.length);
  const lambdasPastWindow = float64Array(where, 'lambdasPastWindow', source.lambdasPastWindow, lambdas.length);
  return { windowWeights, lambdas, thetas, lambdasPastWindow };
}

// ---------------------------------------------------------------- the weights, exactly

// c_1..c_n.
function exactWeights(scheme: Scheme, alpha: number, n: number): Float64Array {
  const c = new Float64Array(n);
  if (scheme === 'gl') glRecurrence(alpha, c, 1);
  else for (let k = 1; k <= n; k++) c[k - 1] = l1Weight(alpha, k);
  return c;
}

// Fills out[j] = w_{k0+j} by w_k = w_{k-1} (k - 1 - alpha) / k in double-double, from w_0 = 1: plain
// doubles lose ~sqrt(k) ulps over k steps, 1e-13 relative at k = 1e5, which the verification cannot afford.
// Returns w_{k0 + out.length - 1} as [hi, lo] for continuing.
function glRecurrence(alpha: number, out: Float64Array, k0: number): [number, number] {
  let hi = 1, lo = 0;
  const last = k0 + out.length - 1;
  for (let k = 1; k <= last; k++) {
    // (k - 1) - alpha exactly, as nh + nl.
    const a = k - 1, nh = a - alpha, bb = nh - a, nl = (a - (nh - bb)) + (-alpha - bb);
    // (hi, lo) * (nh, nl).
    const p = hi * nh;
    let e = twoProductError(hi, nh, p) + (hi * nl + lo * nh);
    const s = p + e;
    e -= s - p;
    // ... / k.
    const q = s / k;
    const r = twoProductError(q, k, q * k);
    const t = ((s - q * k) - r + e) / k;
    hi = q + t;
    lo = t - (hi - q);
    if (k >= k0) out[k - k0] = hi;
  }
  return [hi, lo];
}

// The rounding error of the product a * b = p, exactly (Dekker's split; JavaScript has no fused multiply-add).
function twoProductError(a: number, b: number, p: number): number {
  const SPLIT = 134217729; // 2^27 + 1
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

// b_k = k^beta expm1(beta log1p(1/k)), beta = 1 - alpha, to ~1 ulp: beta keeps the part of 1 - alpha that
// rounding drops (for alpha < 1/2), and log1p(1/k) the rounding of 1/k; each is ~1e-16 relative, but
// coherent over every k, and the L1 sum at long horizons has no room for it.
function l1Weight(alpha: number, k: number): number {
  const beta = 1 - alpha;
  const betaLo = (1 - beta) - alpha; // exact: 1 - alpha = beta + betaLo
  const r = 1 / k;
  const rLo = (1 - r * k - twoProductError(r, k, r * k)) / k; // 1/k = r + rLo
  const l = Math.log1p(r) + rLo / (1 + r);
  const power = Math.pow(k, beta);
  const growth = Math.expm1(beta * l);
  // d/dbeta of k^beta expm1(beta l), times the dropped part of beta.
  return power * growth + betaLo * power * (Math.log(k) * growth + l * (growth + 1));
}

// ---------------------------------------------------------------- the Laplace representation

interface Kernel {
  /** phi(x) x, the integrand of the trapezoid in y = log x. */
  phiX: (x: number) => number;
  /** phi(x) x ~ constant x^power as x -> 0. */
  power: number;
  constant: number;
}

function laplaceKernel(scheme: Scheme, alpha: number): Kernel {
  if (scheme === 'gl') {
    const constant = -sinPi(alpha) / Math.PI;
    return { power: alpha + 1, constant, phiX: (x) => constant * x * Math.pow(Math.expm1(x), alpha) };
  }
  // (1 - alpha) / Gamma(alpha) = alpha (1 - alpha) / Gamma(1 + alpha); Lanczos' 5e-16 would be coherent over all k.
  const constant = (alpha * (1 - alpha)) / gammaOnePlus(alpha);
  return { power: alpha, constant, phiX: (x) => (constant * Math.pow(x, alpha) * -Math.expm1(-x)) / x };
}

// sin(pi x) for 0 < x < 2, with the argument reduced exactly (Sterbenz) so that it keeps full relative
// precision near the zero at x = 1.
function sinPi(x: number): number {
  if (x <= 0.5) return Math.sin(Math.PI * x);
  if (x < 1) return Math.sin(Math.PI * (1 - x));
  if (x <= 1.5) return -Math.sin(Math.PI * (x - 1));
  return -Math.sin(Math.PI * (2 - x));
}

// zeta(k) - 1 for k = 2..30 (mpmath, 40 digits).
const ZETA_MINUS_ONE = [
  0.6449340668482264, 0.2020569031595943, 0.08232323371113819, 0.03692775514336993, 0.01734306198444914,
  0.008349277381922827, 0.00407735619794434, 0.0020083928260822143, 0.0009945751278180853, 0.0004941886041194645,
  0.0002460865533080483, 0.00012271334757848915, 6.124813505870483e-05, 3.058823630702049e-05, 1.528225940865187e-05,
  7.637197637899763e-06, 3.81729326499984e-06, 1.908212716553939e-06, 9.539620338727962e-07, 4.769329867878064e-07,
  2.38450502727733e-07, 1.1921992596531106e-07, 5.960818905125948e-08, 2.980350351465228e-08, 1.4901554828365043e-08,
  7.45071178983543e-09, 3.725334024788457e-09, 1.862659723513049e-09, 9.313274324196682e-10,
];
const EULER_GAMMA = 0.5772156649015329;

// Gamma(1 + a) for 0 < a < 1 to ~1 ulp: log Gamma(1 + x) = -gamma x + x - log1p(x) + sum_k (-x)^k (zeta(k) - 1) / k
// for |x| <= 1/2 (terms < 4^-k), with Gamma(1 + a) = a Gamma(a) moving a > 1/2 to x = a - 1.
function gammaOnePlus(a: number): number {
  const x = a > 0.5 ? a - 1 : a;
  let series = 0;
  for (let k = ZETA_MINUS_ONE.length + 1; k >= 2; k--) series += (Math.pow(-x, k) * ZETA_MINUS_ONE[k - 2]) / k;
  const logGamma = series + (x - Math.log1p(x)) - EULER_GAMMA * x;
  return a > 0.5 ? a * Math.exp(logGamma) : Math.exp(logGamma);
}

// ---------------------------------------------------------------- the nodes

interface Knobs {
  /** The trapezoid's step in y = log x, a multiple of GRID_QUANTUM. */
  h: number;
  /** The lowest grid node kept as itself; the ones below are collapsed. */
  xLo: number;
  /** Bound on Σ_{k>W} |dropped terms| for the nodes dropped at the top. */
  tailBudget: number;
}

interface Nodes {
  /** x_i = -log(lambda_i), to full precision: the node the stored lambda really is. */
  x: Float64Array;
  lambda: Float64Array;
  theta: Float64Array;
}

const quantize = (v: number) => Math.floor(v / GRID_QUANTUM) * GRID_QUANTUM;

// First choices, from error models that the verification then checks:
// - h: the trapezoid's relative error for large k is that of int e^(s u) e^(-e^u) du, whose Fourier transform
//   is Gamma(s + i w): ~ 2 |Gamma(s + 2 pi i / h)| / Gamma(s) ~ 2 sqrt(2 pi) w^(s - 1/2) e^(-pi w / 2) / Gamma(s),
//   w = 2 pi / h (checked against mpmath: within 2x for k from 3 to 1e5, alpha from 0.1 to 1.9).
// - x_lo: the Gauss–Radau rule's first neglected term, Σ_k k^5 / 5! |M5 - rule's M5|, with the moments of
//   the collapsed nodes for phi(x) x = constant x^s.
function initialKnobs(kernel: Kernel, horizon: number, budget: number, weightSum: number): Knobs {
  const s = kernel.power;
  const c = Math.abs(kernel.constant);
  const target = (QUADRATURE_SHARE * budget) / weightSum / 4; // a factor 4 of margin on the model
  const relative = (h: number) => {
    const w = (2 * Math.PI) / h;
    return (2 * Math.sqrt(2 * Math.PI) * Math.pow(w, s - 0.5) * Math.exp((-Math.PI * w) / 2)) / gamma(s);
  };
  let lo = 0.05, hi = 0.6;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (relative(mid) <= target) lo = mid;
    else hi = mid;
  }
  // The collapsed moments for x_lo = 1 under phi(x) x = constant x^s: mu_p = h Σ_{m>=1} e^(-(s+p) m h).
  const h = quantize(lo);
  const unit = [0, 1, 2, 3, 4, 5].map((p) => (h * Math.exp(-(s + p) * h)) / -Math.expm1(-(s + p) * h));
  const { nodes, weights } = gaussRadau3(unit);
  const e5 = Math.abs(unit[5] - weights[1] * nodes[0] ** 5 - weights[2] * nodes[1] ** 5);
  // Σ_k k^5 / 5! |constant| x_lo^(s+5) e5 ~ horizon^6 / 720 ...
  const xCollapse = Math.pow((720 * COLLAPSE_SHARE * budget) / (c * e5 * horizon ** 6), 1 / (s + 5));
  const xLo = Math.max(MIN_X_LO, Math.min(MAX_KX_LO / horizon, xCollapse));
  return { h, xLo, tailBudget: TAIL_SHARE * budget };
}

// The nodes for one choice of knobs: the trapezoid in y = log x with the corrections the top of the file lists.
function buildNodes(kernel: Kernel, window: number, horizon: number, knobs: Knobs): Nodes {
  const { h, tailBudget } = knobs;
  const yLo = Math.round(Math.log(knobs.xLo) / GRID_QUANTUM) * GRID_QUANTUM;
  const past = window + 1;

  // Trapezoid nodes from x_lo up, until the terms left over past the window are negligible; then drop
  // from the top as long as what is dropped, Σ_{k>W} |w| e^(-k x) = |w| e^(-(W+1) x) / (1 - e^(-x)), fits.
  const xs: number[] = [], ws: number[] = [], tails: number[] = [];
  for (let j = 0; ; j++) {
    const x = Math.exp(yLo + j * h);
    const w = h * kernel.phiX(x);
    const tail = Math.abs(w) * Math.exp(-past * x) / -Math.expm1(-x);
    xs.push(x); ws.push(w); tails.push(tail);
    // e^(-(W+1) x) phi(x) x decays at least like e^(-(W+1-alpha) x), W + 1 - alpha > 1: x ends well below 700.
    if ((past * x > 1 && tail < tailBudget * 1e-6) || x > 700) break;
  }
  let kept = xs.length, dropped = 0;
  while (kept > 1 && dropped + tails[kept - 1] <= tailBudget) dropped += tails[--kept];

  // Rounded nodes: x~_j = -log(lambda_j), moved by dx_j = x~_j - x_j, which changes the node's terms by
  // drift_j = Σ_k |w_j k dx_j| e^(-k x_j) over the lags. Each node is corrected in whichever of two ways leaves
  // less of that (or not at all, when both would leave more, as for GL's large weights at large x, or when the
  // drift is negligible):
  // - by sinc differentiation: w F(y_j) = w F(y~_j) - w eps_j F'(y~_j), eps_j = log(x~_j / x_j), and F' at a
  //   grid node is Σ_i D_ji F(y_i), D_ji = (-1)^(j-i) / ((j - i) h); so theta_i = w_i - Σ_j g_j D_ji, g_j = w_j eps_j,
  //   the nodes below x_lo taking their part into their moments, the ones above the kept nodes having F ~ 0.
  //   What is left is g_j times the sinc derivative's aliasing error, ~2 e^(-pi^2 / (2h)), at every lag;
  // - for nodes with k x_j << 1 at every lag, where e^(-k x) is a polynomial in k, by moving the change of
  //   their moments of order 1 and 2 into the collapsed nodes' rule, which matches those exactly; what is left
  //   is the order-3 term, ~ drift_j (horizon x_j)^2 / 4.
  const n = kept;
  const aliasing = 2 * Math.exp(-(Math.PI ** 2) / (2 * h));
  const x = new Float64Array(n), lambda = new Float64Array(n), g = new Float64Array(n);
  const moved = [0, 0, 0]; // [unused, Σ w (x - x~), Σ w (x^2 - x~^2)] over the nodes corrected through the moments
  for (let j = 0; j < n; j++) {
    lambda[j] = Math.exp(-xs[j]);
    x[j] = exactLog(lambda[j]);
    const dx = x[j] - xs[j];
    if (dx === 0) continue;
    const drift = Math.abs(ws[j] * dx) * lagMoment(xs[j], past, horizon);
    const bySinc = Math.abs(ws[j] * (dx / xs[j])) * aliasing * (horizon - window);
    const byMoments = (drift * (horizon * xs[j]) ** 2) / 4;
    // Negligible drifts are left alone: a correction spreads (alternating) weight onto every node.
    if (drift < 1e-6 * tailBudget || Math.min(bySinc, byMoments) >= drift) continue;
    if (bySinc < byMoments) g[j] = ws[j] * Math.log1p(dx / xs[j]);
    else {
      moved[1] -= ws[j] * dx;
      moved[2] -= ws[j] * dx * (xs[j] + x[j]);
    }
  }
  const theta = Float64Array.from(ws.slice(0, n));
  for (let j = 0; j < n; j++) {
    if (g[j] === 0) continue;
    for (let i = 0; i < n; i++) {
      if (i === j) continue;
      const d = j - i;
      theta[i] -= (g[j] * ((d & 1) === 0 ? 1 : -1)) / (d * h);
    }
  }

  // The collapsed nodes x_lo e^(-m h), m >= 1: their scaled moments mu_p = Σ w (x / x_lo)^p, p = 0..4, summed
  // from the smallest; past `depth` of them x < 1e-20 x_lo and phi(x) x = constant x^s to 1e-20, which mu_0
  // sums in closed form (the others converge by then).
  const xLo = Math.exp(yLo);
  const depth = Math.ceil(46 / h);
  const u = new Float64Array(depth + 1);
  for (let m = 1; m <= depth; m++) u[m] = Math.exp(-m * h);
  const mu = [0, 0, 0, 0, 0];
  for (let m = depth; m >= 1; m--) {
    const wm = h * kernel.phiX(xLo * u[m]);
    for (let q = 0, up = 1; q < 5; q++, up *= u[m]) mu[q] += wm * up;
  }
  const xDeep = Math.exp(yLo - (depth + 1) * h);
  mu[0] += (h * kernel.constant * Math.pow(xDeep, kernel.power)) / -Math.expm1(-kernel.power * h);
  // Gauss–Radau with nodes 0, x_a, x_b, exact for moments 0..4 of these (a positive measure).
  const radau = gaussRadau3(mu);
  // Their share of the sinc correction, -Σ_j g_j Σ_{m>=1} D_j,-m u_m^p: for p = 0 the alternating tail
  // (1/h) Σ_{i>j} (-1)^i / i, for p >= 1 a fast geometric sum. It alternates in sign and can outweigh the
  // measure itself (GL's tiny weights near 0), so it only enters the weights, below, not the nodes.
  for (let j = 0; j < n; j++) {
    if (g[j] === 0) continue;
    mu[0] -= (g[j] * alternatingTail(j + 1)) / h;
    const sums = [0, 0, 0, 0, 0];
    for (let m = depth; m >= 1; m--) {
      const d = (((j + m) & 1) === 0 ? 1 : -1) / ((j + m) * h);
      for (let q = 1, up = u[m]; q < 5; q++, up *= u[m]) sums[q] += d * up;
    }
    for (let q = 1; q < 5; q++) mu[q] -= g[j] * sums[q];
  }
  mu[1] += moved[1] / xLo;
  mu[2] += moved[2] / (xLo * xLo);
  // x_a and x_b move to the doubles their lambdas round to, and the weights are solved again to match moments
  // 0..2 exactly, corrections included (3 and 4 then carry the nodes' rounding, ~1e-16 / x_lo relative, which
  // the weights of moment p in the error, horizon^(p+1) / (p+1)!, make small).
  const collapsed = radau.nodes.map((r) => {
    const l = Math.exp(-r * xLo);
    return { lambda: l, x: exactLog(l) };
  });
  const [ua, ub] = collapsed.map((c) => c.x / xLo);
  let thetaA = 0, thetaB = 0;
  if (ua > 0 && ub > ua) {
    thetaA = (mu[1] * ub - mu[2]) / (ua * (ub - ua));
    thetaB = (mu[2] - mu[1] * ua) / (ub * (ub - ua));
  }
  const thetaOne = mu[0] - thetaA - thetaB;

  // Largest x first: the order the verification sums in (smallest terms first at long lags).
  const order = Array.from({ length: n }, (_, j) => n - 1 - j);
  const out: Nodes = { x: new Float64Array(n + 3), lambda: new Float64Array(n + 3), theta: new Float64Array(n + 3) };
  let p = 0;
  const push = (xi: number, li: number, ti: number) => {
    if (ti === 0) return;
    out.x[p] = xi; out.lambda[p] = li; out.theta[p] = ti; p++;
  };
  for (const j of order) push(x[j], lambda[j], theta[j]);
  push(collapsed[1].x, collapsed[1].lambda, thetaB);
  push(collapsed[0].x, collapsed[0].lambda, thetaA);
  push(0, 1, thetaOne);
  return { x: out.x.slice(0, p), lambda: out.lambda.slice(0, p), theta: out.theta.slice(0, p) };
}

// The 3-point Gauss–Radau rule with a node at 0 for a measure with moments mu_0..mu_4 on [0, 1]: its other
// nodes are those of the 2-point Gauss rule for x d(measure), the roots of u^2 + a u + b orthogonal to 1 and u.
function gaussRadau3(mu: readonly number[]): { nodes: [number, number]; weights: [number, number, number] } {
  const [n0, n1, n2, n3] = [mu[1], mu[2], mu[3], mu[4]];
  const det = n1 * n1 - n0 * n2;
  const a = (n0 * n3 - n2 * n1) / det;
  const b = (n2 * n2 - n1 * n3) / det;
  const root = Math.sqrt(Math.max(0, a * a - 4 * b));
  // The smaller root without cancellation: b / (larger).
  const larger = (-a + root) / 2;
  const smaller = b / larger;
  const wa = (mu[1] * larger - mu[2]) / (smaller * (larger - smaller));
  const wb = (mu[2] - mu[1] * smaller) / (larger * (larger - smaller));
  return { nodes: [smaller, larger], weights: [mu[0] - wa - wb, wa, wb] };
}

// Σ_{k=from}^{to} k e^(-k x), within a factor 2: the infinite sum e^(-from x) (from - (from-1) e^-x) / (1 - e^-x)^2,
// or to^2 / 2 when that is smaller.
function lagMoment(x: number, from: number, to: number): number {
  const q = Math.exp(-x), oneMinusQ = -Math.expm1(-x);
  return Math.min((Math.exp(-from * x) * (from * oneMinusQ + q)) / (oneMinusQ * oneMinusQ), (to * to) / 2);
}

// -log(lambda) to ~1 ulp: for lambda >= 1/2, lambda - 1 is exact.
function exactLog(lambda: number): number {
  return lambda >= 0.5 ? -Math.log1p(lambda - 1) : -Math.log(lambda);
}

// Σ_{m >= n} (-1)^m / m for n >= 1, by Euler's transform: (-1)^n Σ_i i! / (2^(i+1) n (n+1) .. (n+i)).
function alternatingTail(n: number): number {
  let sum = 0, term = 1 / (2 * n);
  for (let i = 1; term > 1e-18 * sum; i++) {
    sum += term;
    term *= i / (2 * (n + i));
  }
  return (n & 1) === 0 ? sum : -sum;
}

// ---------------------------------------------------------------- verification

class Reference {
  /** c_k for k = W+1 .. exactEnd. */
  private readonly exact: Float64Array;
  private readonly exactEnd: number;
  /** Sampled lags past exactEnd, and c_k there. */
  private readonly sampleLags: Float64Array;
  private readonly sampleWeights: Float64Array;
  /** Σ_{k=W+1}^{horizon} |c_k|, the gaps between samples counted as their length times the larger end. */
  readonly weightSum: number;

  constructor(scheme: Scheme, alpha: number, private readonly window: number, horizon: number) {
    this.exactEnd = Math.min(horizon, window + EXACT_LAGS);
    this.exact = new Float64Array(this.exactEnd - window);
    let anchor: [number, number] = [0, 0];
    if (scheme === 'gl') anchor = glRecurrence(alpha, this.exact, window + 1);
    else for (let k = window + 1; k <= this.exactEnd; k++) this.exact[k - window - 1] = l1Weight(alpha, k);
    const lags: number[] = [];
    for (let k = this.exactEnd; k < horizon;) {
      k = Math.min(horizon, Math.max(k + 1, Math.round(k * SAMPLE_RATIO)));
      lags.push(k);
    }
    this.sampleLags = Float64Array.from(lags);
    this.sampleWeights = this.sampleLags.map((k) => (scheme === 'gl'
      ? glFar(alpha, anchor[0], this.exactEnd, k)
      : l1Weight(alpha, k)));
    let sum = 0;
    for (let i = 0; i < this.exact.length; i++) sum += Math.abs(this.exact[i]);
    let previous = this.exactEnd, previousWeight = Math.abs(this.exact[this.exact.length - 1]);
    this.sampleLags.forEach((k, s) => {
      const weight = Math.abs(this.sampleWeights[s]);
      sum += weight + (k - previous - 1) * Math.max(weight, previousWeight);
      previous = k; previousWeight = weight;
    });
    this.weightSum = sum;
  }

  /** Σ |c_k - ĉ_k| and max |c_k - ĉ_k| over k = W+1..horizon; stops early once the sum passes `budget`. */
  verify(nodes: Nodes, budget: number): { errorSum: number; errorMax: number } {
    const { x, theta } = nodes;
    const p = x.length;
    const first = this.window + 1;
    // Terms below this are dropped from the sum: nodes die in order, largest x first.
    const negligible = 2 ** -80 * Math.abs(this.exact[this.exact.length - 1]);
    const table = new Float64Array(p * BLOCK);
    for (let i = 0; i < p; i++) for (let m = 0; m < BLOCK; m++) table[i * BLOCK + m] = Math.exp(-m * x[i]);
    const acc = new Float64Array(BLOCK);
    let live = 0, errorSum = 0, errorMax = 0;
    for (let k0 = first; k0 <= this.exactEnd; k0 += BLOCK) {
      const len = Math.min(BLOCK, this.exactEnd - k0 + 1);
      acc.fill(0);
      for (let i = live; i < p; i++) {
        const start = theta[i] * Math.exp(-k0 * x[i]);
        if (i === live && Math.abs(start) < negligible && x[i] > 0) { live++; continue; }
        const row = i * BLOCK;
        for (let m = 0; m < len; m++) acc[m] += start * table[row + m];
      }
      for (let m = 0; m < len; m++) {
        const e = Math.abs(this.exact[k0 - first + m] - acc[m]);
        errorSum += e;
        if (e > errorMax) errorMax = e;
      }
      if (errorSum > budget) return { errorSum, errorMax };
    }
    // Sampled lags: the gap before each sample counts its length times the larger error at its ends.
    let previous = this.exactEnd, previousError = 0;
    if (this.sampleLags.length > 0) previousError = Math.abs(this.exact[this.exact.length - 1] - approximate(nodes, this.exactEnd));
    for (let s = 0; s < this.sampleLags.length; s++) {
      const k = this.sampleLags[s];
      const e = Math.abs(this.sampleWeights[s] - approximate(nodes, k));
      errorSum += e + (k - previous - 1) * Math.max(e, previousError);
      if (e > errorMax) errorMax = e;
      previous = k; previousError = e;
    }
    return { errorSum, errorMax };
  }
}

function approximate(nodes: Nodes, k: number): number {
  let sum = 0;
  for (let i = 0; i < nodes.x.length; i++) sum += nodes.theta[i] * Math.exp(-k * nodes.x[i]);
  return sum;
}

// w_k for k past the double-double recurrence, from w_k0: w_k / w_k0 = R(k) / R(k0), R(k) = Gamma(k - alpha) / Gamma(k + 1),
// by Stirling's series for log R with the large terms cancelled by hand:
// log R(k) = -(1 + alpha) log k + (k - alpha - 1/2) log1p(-alpha / k) - (k + 1/2) log1p(1 / k) + (1 + alpha) + Bernoulli terms.
function glFar(alpha: number, wk0: number, k0: number, k: number): number {
  const t = (z: number) => {
    const a = z - alpha, b = z + 1;
    // B_2m / (2m (2m - 1)) (a^(1-2m) - b^(1-2m)), m = 1..3; the differences written without cancellation.
    const d1 = (b - a) / (a * b);
    const d3 = d1 * (1 / (a * a) + 1 / (a * b) + 1 / (b * b));
    const d5 = d1 * (1 / a ** 4 + 1 / (a ** 3 * b) + 1 / (a * a * b * b) + 1 / (a * b ** 3) + 1 / b ** 4);
    return (z - alpha - 0.5) * Math.log1p(-alpha / z) - (z + 0.5) * Math.log1p(1 / z) + d1 / 12 - d3 / 360 + d5 / 1260;
  };
  // (k / k0)^(-1-alpha) as (k0 / k) (k / k0)^-alpha: -1 - alpha would be rounded, an error of ~2e-16 log(k / k0)
  // relative; and r = k / k0 is rounded too, which (1 + alpha delta) undoes to first order.
  const r = k / k0;
  const delta = (r * k0 - k + twoProductError(r, k0, r * k0)) / k; // r = (k / k0)(1 + delta)
  return wk0 * (k0 / k) * Math.pow(r, -alpha) * (1 + alpha * delta) * Math.exp(t(k) - t(k0));
}
