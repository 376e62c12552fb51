// The time-fractional diffusion D_t^alpha u = kappa Δu on a 2-D grid, with its kernels and its result
// memoized: the model shared by the Node example (fractional-diffusion.ts) and the browser demo (demo/).
//
// The scheme is the explicit Grünwald–Letnikov one: with K_k = dt^-alpha w_k (the fractional kernel),
//   sum_{k=0}^{n} K_k (u^{n-k} - u^0) = kappa Δ u^{n-1},
// so each step sums the whole history (the memory term), O(steps^2 cells) in all. The Laplacian is the
// 5-point stencil (Dirichlet) from the stencil kernel.

import {
  cachedKernels, csrMatVec, memoize, type CachedKernels, type CsrMatrix, type MemoCall, type MemoPolicy,
} from '../src/core.js';
import type { CacheManagerCore } from '../src/cache/manager.js';

export interface DiffusionParams { alpha: number; grid: number; steps: number; dt: number }
export const DEFAULT_PARAMS: Readonly<DiffusionParams> = { alpha: 0.5, grid: 64, steps: 600, dt: 1e-3 };

/**
 * One memoized step of the job: what it was, where it came from, what it cost; `waited` when another process
 * or machine held the key and this one waited for its result.
 */
export interface JobStep { label: string; key: string; source: MemoCall<unknown>['source']; ms: number; stored?: boolean; waited?: boolean }

/** The simulation's result: SNAPSHOTS+1 frames of the field, their step numbers, the centre's history. */
export interface DiffusionResult {
  snapshots: { data: Float64Array; shape: number[] };
  frames: Int32Array;
  centre: Float64Array;
}

// kappa dt^alpha / h^2: small enough for the explicit scheme to be stable for every alpha in (0, 1].
const STABILITY = 0.1;
const SNAPSHOTS = 20;

/** @throws {RangeError} for parameters the scheme cannot run with. */
export function checkParams(params: DiffusionParams): DiffusionParams {
  const { alpha, grid, steps, dt } = params;
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`fractional diffusion: alpha must be in (0, 1], got ${alpha}`);
  if (!Number.isInteger(grid) || grid < 3) throw new RangeError(`fractional diffusion: grid must be an integer >= 3, got ${grid}`);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`fractional diffusion: steps must be a positive integer, got ${steps}`);
  if (!(dt > 0 && Number.isFinite(dt))) throw new RangeError(`fractional diffusion: dt must be > 0, got ${dt}`);
  return params;
}

/** Grid spacing on the unit square, and the diffusivity that keeps the scheme stable. */
export function setup({ alpha, grid, dt }: DiffusionParams): { h: number; kappa: number } {
  const h = 1 / (grid + 1);
  return { h, kappa: (STABILITY * h * h) / dt ** alpha };
}

/**
 * The memoized pieces of the job on one cache, and their keys. `policy` is memoize's, for every piece (the
 * parameter sweep uses 'always', so that even the cheap kernels are shared between machines).
 */
export function diffusionJob(cache: CacheManagerCore, params: DiffusionParams, { policy }: { policy?: MemoPolicy } = {}) {
  const { alpha, grid, steps, dt } = checkParams(params);
  const { h, kappa } = setup(params);
  const kernels: CachedKernels = cachedKernels(cache, { policy });
  const simulation = memoize(async (a: number, g: number, n: number, step: number): Promise<DiffusionResult> => {
    const kernel = await kernels.fractionalKernel(a, step, n + 1);
    const lap = await kernels.laplacian([g, g], { spacing: h });
    return simulate(g, n, kappa, kernel, lap);
  }, { cache, category: 'state_profiles', name: 'fractional-diffusion', version: '1', policy });
  const kernelArgs: [number, number, number] = [alpha, dt, steps + 1];
  const lapArgs: [number[], { spacing: number }] = [[grid, grid], { spacing: h }];
  const simulationArgs: [number, number, number, number] = [alpha, grid, steps, dt];

  /** Runs the job: the kernel, the Laplacian, the simulation, and D^alpha of the centre's history. */
  async function run(): Promise<{ steps: JobStep[]; result: DiffusionResult; centreDerivative: Float64Array }> {
    const calls: [label: string, category: string, call: MemoCall<unknown>][] = [];
    const note = <T>(label: string, category: string, call: MemoCall<T>): T => {
      calls.push([label, category, call]);
      return call.value;
    };
    note('fractional kernel', 'fractional_kernels', await kernels.fractionalKernel.withInfo(...kernelArgs));
    note('Laplacian (CSR)', 'stencils', await kernels.laplacian.withInfo(...lapArgs));
    const result = note('simulation', 'state_profiles', await simulation.withInfo(...simulationArgs));
    const centreDerivative = note('D^alpha of the centre trace', 'state_profiles',
      await kernels.glDerivative.withInfo(result.centre, alpha, dt));
    // Background writes belong to the job: it is over when they are.
    await Promise.all([simulation.settled(), ...Object.values(kernels).map((k) => k.settled())]);
    // Read once the writes are done: a call's `stored` turns true when its background write has finished.
    const steps = calls.map(([label, category, call]): JobStep => ({
      label, key: `${category}/${call.key}`, source: call.source, ms: call.ms, stored: call.stored, ...(call.waited ? { waited: true } : {}),
    }));
    return { steps, result, centreDerivative };
  }

  /** Removes this job's own entries (for a cold run), and touches nothing else in the cache. */
  async function forget(): Promise<void> {
    await cache.delete('fractional_kernels', kernels.fractionalKernel.keyFor(...kernelArgs));
    await cache.delete('stencils', kernels.laplacian.keyFor(...lapArgs));
    const key = simulation.keyFor(...simulationArgs);
    if (await cache.exists('state_profiles', key)) {
      const { centre } = await cache.load('state_profiles', key) as DiffusionResult;
      await cache.delete('state_profiles', kernels.glDerivative.keyFor(centre, alpha, dt));
      await cache.delete('state_profiles', key);
    }
  }

  return { run, forget, kernels, simulation };
}

/** Explicit GL time stepping from a Gaussian bump. */
export function simulate(grid: number, steps: number, kappa: number, kernel: Float64Array, lap: CsrMatrix): DiffusionResult {
  const cells = grid * grid;
  const history = new Float64Array((steps + 1) * cells); // u^0 .. u^steps, all needed by the memory term
  const c = (grid - 1) / 2;
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) history[i * grid + j] = Math.exp(-((i - c) ** 2 + (j - c) ** 2) / (grid / 8) ** 2);
  }
  const u0 = history.subarray(0, cells);
  const laplace = new Float64Array(cells);
  const memory = new Float64Array(cells);
  const every = Math.max(1, Math.floor(steps / SNAPSHOTS));
  const frames = [0];
  const centre = new Float64Array(steps + 1);
  const middle = Math.floor(grid / 2) * grid + Math.floor(grid / 2);
  centre[0] = u0[middle];
  for (let n = 1; n <= steps; n++) {
    csrMatVec(lap, history.subarray((n - 1) * cells, n * cells), laplace);
    memory.fill(0);
    let kernelSum = 0;
    for (let k = 1; k <= n; k++) {
      const w = kernel[k];
      kernelSum += w;
      const past = history.subarray((n - k) * cells, (n - k + 1) * cells);
      for (let i = 0; i < cells; i++) memory[i] += w * past[i];
    }
    const next = history.subarray(n * cells, (n + 1) * cells);
    for (let i = 0; i < cells; i++) {
      // sum_k K_k (u^{n-k} - u^0) = kappa Δu^{n-1}, solved for u^n.
      next[i] = u0[i] + (kappa * laplace[i] - (memory[i] - kernelSum * u0[i])) / kernel[0];
    }
    centre[n] = next[middle];
    if (n % every === 0 || n === steps) frames.push(n);
  }
  const snapshots = new Float64Array(frames.length * cells);
  frames.forEach((n, f) => snapshots.set(history.subarray(n * cells, (n + 1) * cells), f * cells));
  return { snapshots: { data: snapshots, shape: [frames.length, grid, grid] }, frames: Int32Array.from(frames), centre };
}
