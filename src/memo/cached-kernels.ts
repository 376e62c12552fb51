// The kernels as memoized async twins, under the keys the Python cache's users already have.

import { optionsObject, knownKeys } from '../_args.js';
import type { CacheManagerCore } from '../cache/manager.js';
import type { CsrMatrix } from '../kernels/csr.js';
import { caputoL1, glDerivative } from '../kernels/fractional.js';
import { fdCoefficients, fornbergWeights, type FdStencil, type StencilKind } from '../kernels/fornberg.js';
import { fractionalKernel, glWeights } from '../kernels/gl.js';
import { laplacian, type LaplacianOptions } from '../kernels/laplacian.js';
import { planLaplacian } from '../kernels/laplacian-axes.js';
import { packPlan, planHistory, planKey, unpackPlan, type HistoryPlan, type HistoryPlanOptions } from '../kernels/history-plan.js';
import { formatNumber } from './keys.js';
import { mapMemoized, memoize, type MemoPolicy, type Memoized } from './memoize.js';
import type { MemoryTier } from './memory-tier.js';

/** Options of {@link cachedKernels}. */
export interface CachedKernelsOptions {
  /** For every kernel; default 'auto'. */
  policy?: MemoPolicy;
  /** The memory tier (or its bound in bytes); default: the cache's shared tier. */
  memory?: MemoryTier | number;
}

/** The kernels memoized on a cache, each under the key the Python cache's users already have. */
export interface CachedKernels {
  /** GL weights scaled by dt^-alpha, `fractional_kernels/kernel_<alpha>_<dt>_<n>`. */
  fractionalKernel: Memoized<[alpha: number, dt: number, n: number], Float64Array>;
  /** GL weights, `fractional_kernels/gl_<alpha>_<n>`. */
  glWeights: Memoized<[alpha: number, n: number], Float64Array>;
  /** `stencils/laplacian_<d>d_<n1>_<n2>[_<n3>]_<boundary>[_acc<k>][_h<spacing>]`. */
  laplacian: Memoized<[shape: number[], options?: LaplacianOptions], CsrMatrix>;
  /** `stencils/fd_d<derivative>_acc<accuracy>_<kind>`. */
  fdCoefficients: Memoized<[derivative: number, accuracy: number, kind?: StencilKind], FdStencil>;
  /** `stencils/fornberg_<derivative>_<x0>_<points...>` (hashed when the points are not integers). */
  fornbergWeights: Memoized<[derivative: number, x0: number, points: ArrayLike<number>], Float64Array>;
  /** `state_profiles/glDerivative_<f as dtype-length-sha256>_<alpha>_<h>`. */
  glDerivative: Memoized<[f: Float64Array, alpha: number, h: number], Float64Array>;
  /** `state_profiles/caputoL1_<f as dtype-length-sha256>_<alpha>_<h>`. */
  caputoL1: Memoized<[f: Float64Array, alpha: number, h: number], Float64Array>;
  /**
   * The sums of exponentials of `fractionalHistory`'s 'fast' method (pass the result as its `plan` option),
   * `fractional_kernels/history_plan_<scheme>_<alpha>_w<window>_h<horizon>_tol<tolerance>`.
   */
  historyPlan: Memoized<[options: HistoryPlanOptions], HistoryPlan>;
}

const n = formatNumber;

/**
 * The key of `laplacian(shape, options)`, as the Python cache named its stencils:
 * `laplacian_<d>d_<n1>_<n2>[_<n3>]_<boundary>[_acc<k>][_h<spacing>]`.
 * @param shape - the grid's points per axis, as `laplacian` takes it.
 * @param options - boundary, accuracy and spacing, as `laplacian` takes them.
 * @returns the key, in the `stencils` category.
 * @throws {TypeError|RangeError} for a shape or options `laplacian` would refuse.
 * @example
 * laplacianKey([64, 64], { boundary: 'periodic' }); // 'laplacian_2d_64_64_periodic'
 */
export function laplacianKey(shape: number[], options: LaplacianOptions = {}): string {
  planLaplacian('cachedKernels.laplacian', shape, options); // the kernel's own checks, before any key is made
  const boundary = options.boundary ?? 'dirichlet';
  const accuracy = options.accuracy ?? 2;
  const spacing = options.spacing === undefined ? [1]
    : typeof options.spacing === 'number' ? [options.spacing] : [...options.spacing];
  const uniform = spacing.every((h) => h === spacing[0]);
  const parts = [`laplacian_${shape.length}d`, ...shape.map(n), boundary];
  if (accuracy !== 2) parts.push(`acc${accuracy}`);
  if (!(uniform && spacing[0] === 1)) parts.push(`h${(uniform ? [spacing[0]] : spacing).map(n).join('_')}`);
  return parts.join('_');
}

/**
 * The kernels of dase-cache as memoized async functions on `cache` (see {@link memoize}): computed in
 * WASM the first time, from memory or the cache afterwards. Matrix-free products and SHA-256 are left
 * out: hashing their input to make a key costs more than computing them.
 * @param cache - the CacheManager the results go to.
 * @param options - policy and memory tier for all of them.
 * @returns the memoized kernels; each also has `withInfo`, `keyFor`, `settled` and `stats`.
 * @throws {TypeError|RangeError} for bad options (an unknown key, a bad policy or memory bound), or when `cache` is
 *   not a CacheManager.
 * @example
 * const kernels = cachedKernels(new CacheManager());
 * const w = await kernels.fractionalKernel(0.5, 0.01, 1000); // fractional_kernels/kernel_0.5_0.01_1000
 * const a = await kernels.laplacian([64, 64], { boundary: 'periodic' }); // stencils/laplacian_2d_64_64_periodic
 */
export function cachedKernels(cache: CacheManagerCore, options: CachedKernelsOptions = {}): CachedKernels {
  const opts = optionsObject('cachedKernels', options);
  knownKeys('cachedKernels', opts, ['policy', 'memory']);
  const common = { cache, policy: options.policy, memory: options.memory };
  return {
    fractionalKernel: memoize(fractionalKernel, { ...common, category: 'fractional_kernels', key: (alpha, dt, count) => `kernel_${n(alpha)}_${n(dt)}_${n(count)}` }),

    glWeights: memoize(glWeights, { ...common, category: 'fractional_kernels', key: (alpha, count) => `gl_${n(alpha)}_${n(count)}` }),

    laplacian: memoize(laplacian, { ...common, category: 'stencils', key: laplacianKey }),

    fdCoefficients: memoizeFd(common),

    fornbergWeights: memoize(fornbergWeights, { ...common, category: 'stencils', name: 'fornberg' }),

    glDerivative: memoize(glDerivative, { ...common, category: 'state_profiles', name: 'glDerivative' }),

    caputoL1: memoize(caputoL1, { ...common, category: 'state_profiles', name: 'caputoL1' }),

    historyPlan: mapMemoized(
      memoize((o: HistoryPlanOptions) => packPlan(planHistory(o)), { ...common, category: 'fractional_kernels', key: planKey }),
      unpackPlan,
    ),
  };
}

// A stencil is stored as a record of arrays (so NumPy reads it), its accuracy as a one-element array.
function memoizeFd(common: CachedKernelsOptions & { cache: CacheManagerCore }): CachedKernels['fdCoefficients'] {
  const stored = memoize((derivative: number, accuracy: number, kind: StencilKind = 'center') => {
    const { offsets, weights, accuracy: achieved } = fdCoefficients(derivative, accuracy, kind);
    return { offsets, weights, accuracy: Int32Array.of(achieved) };
  }, { ...common, category: 'stencils', name: 'fdCoefficients', key: (derivative, accuracy, kind = 'center') => `fd_d${n(derivative)}_acc${n(accuracy)}_${String(kind).replace(/[^A-Za-z0-9]/g, '')}` });
  const unpack = (record: { offsets: Int32Array; weights: Float64Array; accuracy: Int32Array }): FdStencil =>
    ({ offsets: record.offsets, weights: record.weights, accuracy: record.accuracy[0] });
  return mapMemoized(stored, unpack);
}
