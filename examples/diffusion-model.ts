// The time-fractional diffusion D_t^alpha u = kappa Δu on a 2-D grid, with its kernels and its result
// memoized: the model shared by the Node example (fractional-diffusion.ts) and the browser demo (demo/).
//
// The scheme is the explicit Grünwald–Letnikov one: with K_k = dt^-alpha w_k (the fractional kernel),
//   sum_{k=0}^{n} K_k (u^{n-k} - u^0) = kappa Δ u^{n-1}.
// Its memory term sum_{k=1}^{n} K_k u^{n-k} is fractionalHistory's: with currentWeight = K_0 and
// S_n = sum_{k=0}^{n} K_k (a running sum of the kernel), each step solves
//   currentWeight u^n + history - S_n u^0 = kappa Δ u^{n-1}.
// Method 'fast' (the default) keeps a window of 32 states and sums of exponentials for the older ones, in
// memory that does not grow with the steps; 'direct' keeps every state and sums exactly. The Laplacian is the
// 5-point stencil (Dirichlet) from the stencil kernel.

import {
  cachedKernels, csrMatVec, fractionalHistory, memoize, type CachedKernels, type CsrMatrix, type HistoryMethod,
  type MemoCall, type MemoPolicy,
} from '../src/core.js';
import type { CacheManagerCore } from '../src/cache/manager.js';
import type { HistoryPlan, HistoryPlanOptions } from '../src/kernels/history-plan.js';

export interface DiffusionParams {
  alpha: number;
  grid: number;
  steps: number;
  dt: number;
  /** How the memory term is summed: 'fast' (default; within 1e-12 of its largest term) or 'direct' (exact). */
  method?: HistoryMethod;
}

/** What `npm start` runs. */
export const DEFAULT_PARAMS: Readonly<DiffusionParams> = { alpha: 0.5, grid: 128, steps: 2000, dt: 1e-3 };
/** The example's problem before fractionalHistory (`--grid 64 --steps 600`), which the benchmarks still time. */
export const SMALL_PARAMS: Readonly<DiffusionParams> = { alpha: 0.5, grid: 64, steps: 600, dt: 1e-3 };

/**
 * One memoized step of the job: what it was, where it came from, what it cost; `waited` when another process
 * or machine held the key and this one waited for its result.
 */
/** A memoized step of the job: where its result came from, why (policy 'auto''s decision), and its time. */
export interface JobStep { label: string; key: string; source: MemoCall<unknown>['source']; ms: number; reason: string; stored?: boolean; waited?: boolean }

/** The simulation's result: SNAPSHOTS+1 frames of the field, their step numbers, the centre's history. */
export interface DiffusionResult {
  snapshots: { data: Float64Array; shape: number[] };
  frames: Int32Array;
  centre: Float64Array;
}

// kappa dt^alpha / h^2: small enough for the explicit scheme to be stable for every alpha in (0, 1].
const STABILITY = 0.1;
const SNAPSHOTS = 20;
// The 'fast' history: states summed exactly, and the error allowed relative to dt^-alpha max|u|. At 1e-12 the
// run stays within 4e-13 (relative) of the exact sums at 128² x 2000, for a few more exponentials than 1e-10.
const HISTORY_WINDOW = 32;
const HISTORY_TOLERANCE = 1e-12;

/** @throws {RangeError} for parameters the scheme cannot run with. */
export function checkParams(params: DiffusionParams): DiffusionParams {
  const { alpha, grid, steps, dt, method } = params;
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`fractional diffusion: alpha must be in (0, 1], got ${alpha}`);
  if (!Number.isInteger(grid) || grid < 3) throw new RangeError(`fractional diffusion: grid must be an integer >= 3, got ${grid}`);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`fractional diffusion: steps must be a positive integer, got ${steps}`);
  if (!(dt > 0 && Number.isFinite(dt))) throw new RangeError(`fractional diffusion: dt must be > 0, got ${dt}`);
  if (method !== undefined && method !== 'fast' && method !== 'direct') {
    throw new RangeError(`fractional diffusion: method must be 'fast' or 'direct', got ${String(method)}`);
  }
  return params;
}

/** Grid spacing on the unit square, and the diffusivity that keeps the scheme stable. */
export function setup({ alpha, grid, dt }: DiffusionParams): { h: number; kappa: number } {
  const h = 1 / (grid + 1);
  return { h, kappa: (STABILITY * h * h) / dt ** alpha };
}

/** The plan of the 'fast' history for these parameters: the options of `cachedKernels(cache).historyPlan`. */
export function historyPlanOptions({ alpha, steps }: DiffusionParams): HistoryPlanOptions {
  // The run pushes u^0..u^(steps-1); a plan's horizon must pass its window.
  return { scheme: 'gl', alpha, window: HISTORY_WINDOW, horizon: Math.max(steps, HISTORY_WINDOW + 1), tolerance: HISTORY_TOLERANCE };
}

/**
 * The memoized pieces of the job on one cache, and their keys. `policy` is memoize's, for every piece (the
 * parameter sweep uses 'always', so that even the cheap kernels are shared between machines).
 */
export function diffusionJob(cache: CacheManagerCore, params: DiffusionParams, { policy }: { policy?: MemoPolicy } = {}) {
  const { alpha, grid, steps, dt } = checkParams(params);
  const method = params.method ?? 'fast';
  const { h } = setup(params);
  const kernels: CachedKernels = cachedKernels(cache, { policy });
  const simulation = memoize(async (a: number, g: number, n: number, step: number, m: HistoryMethod): Promise<DiffusionResult> => {
    const p: DiffusionParams = { alpha: a, grid: g, steps: n, dt: step, method: m };
    const kernel = await kernels.fractionalKernel(a, step, n + 1);
    const lap = await kernels.laplacian([g, g], { spacing: setup(p).h });
    const plan = m === 'fast' ? await kernels.historyPlan(historyPlanOptions(p)) : undefined;
    return simulate(p, { kernel, lap, plan });
  }, { cache, category: 'state_profiles', name: 'fractional-diffusion', version: '2', policy });
  const kernelArgs: [number, number, number] = [alpha, dt, steps + 1];
  const lapArgs: [number[], { spacing: number }] = [[grid, grid], { spacing: h }];
  const planOptions = historyPlanOptions(params);
  const simulationArgs: [number, number, number, number, HistoryMethod] = [alpha, grid, steps, dt, method];

  /** Runs the job: the kernel, the Laplacian, the history plan ('fast'), the simulation, and D^alpha of the centre's history. */
  async function run(): Promise<{ steps: JobStep[]; result: DiffusionResult; centreDerivative: Float64Array }> {
    const calls: [label: string, category: string, call: MemoCall<unknown>][] = [];
    const note = <T>(label: string, category: string, call: MemoCall<T>): T => {
      calls.push([label, category, call]);
      return call.value;
    };
    note('fractional kernel', 'fractional_kernels', await kernels.fractionalKernel.withInfo(...kernelArgs));
    note('Laplacian (CSR)', 'stencils', await kernels.laplacian.withInfo(...lapArgs));
    if (method === 'fast') note('history plan', 'fractional_kernels', await kernels.historyPlan.withInfo(planOptions));
    const result = note('simulation', 'state_profiles', await simulation.withInfo(...simulationArgs));
    const centreDerivative = note('D^alpha of the centre trace', 'state_profiles',
      await kernels.glDerivative.withInfo(result.centre, alpha, dt));
    // Background writes belong to the job: it is over when they are.
    await Promise.all([simulation.settled(), ...Object.values(kernels).map((k) => k.settled())]);
    // Read once the writes are done: a call's `stored` turns true when its background write has finished.
    const steps = calls.map(([label, category, call]): JobStep => ({
      label, key: `${category}/${call.key}`, source: call.source, ms: call.ms, reason: call.reason, stored: call.stored,
      ...(call.waited ? { waited: true } : {}),
    }));
    return { steps, result, centreDerivative };
  }

  /** Removes this job's own entries (for a cold run), and touches nothing else in the cache. */
  async function forget(): Promise<void> {
    await cache.delete('fractional_kernels', kernels.fractionalKernel.keyFor(...kernelArgs));
    await cache.delete('stencils', kernels.laplacian.keyFor(...lapArgs));
    if (method === 'fast') await cache.delete('fractional_kernels', kernels.historyPlan.keyFor(planOptions));
    const key = simulation.keyFor(...simulationArgs);
    if (await cache.exists('state_profiles', key)) {
      const { centre } = await cache.load('state_profiles', key) as DiffusionResult;
      await cache.delete('state_profiles', kernels.glDerivative.keyFor(centre, alpha, dt));
      await cache.delete('state_profiles', key);
    }
  }

  return { run, forget, kernels, simulation };
}

/** What the simulation is given: the memoized job's kernels. */
export interface SimulationInputs {
  /** fractionalKernel(alpha, dt, n) with n >= steps + 1: K_k = dt^-alpha w_k. */
  kernel: Float64Array;
  /** The 5-point Laplacian of the grid, laplacian([grid, grid], { spacing: h }). */
  lap: CsrMatrix;
  /** Method 'fast': the plan for historyPlanOptions(params) (cachedKernels(cache).historyPlan); made here when absent. */
  plan?: HistoryPlan;
}

/** A simulation and what its history held. */
export interface SimulationRun {
  result: DiffusionResult;
  /** Bytes of WebAssembly memory the history held at the last step (for 'direct', its largest). */
  historyBytes: number;
}

/** The initial field: a Gaussian bump at the centre of a grid × grid field. */
export function initialBump(grid: number): Float64Array {
  const u = new Float64Array(grid * grid);
  const c = (grid - 1) / 2;
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) u[i * grid + j] = Math.exp(-((i - c) ** 2 + (j - c) ** 2) / (grid / 8) ** 2);
  }
  return u;
}

/** The steps at which the field is recorded: 0, every steps/SNAPSHOTS, and the last. */
function frameSteps(steps: number): Int32Array {
  const every = Math.max(1, Math.floor(steps / SNAPSHOTS));
  const frames = [0];
  for (let n = 1; n <= steps; n++) if (n % every === 0 || n === steps) frames.push(n);
  return Int32Array.from(frames);
}

/** Explicit GL time stepping from a Gaussian bump. */
export function simulate(params: DiffusionParams, inputs: SimulationInputs): DiffusionResult {
  return simulateWithStats(params, inputs).result;
}

/** {@link simulate}, and the bytes its history held. */
export function simulateWithStats(params: DiffusionParams, { kernel, lap, plan }: SimulationInputs): SimulationRun {
  const { alpha, grid, steps, dt } = checkParams(params);
  const method = params.method ?? 'fast';
  if (kernel.length < steps + 1) throw new RangeError(`fractional diffusion: the kernel has ${kernel.length} weights, ${steps + 1} are needed`);
  const { kappa } = setup(params);
  const cells = grid * grid;
  const u0 = initialBump(grid);
  const frames = frameSteps(steps);
  const snapshots = new Float64Array(frames.length * cells);
  snapshots.set(u0);
  const centre = new Float64Array(steps + 1);
  const middle = Math.floor(grid / 2) * grid + Math.floor(grid / 2);
  centre[0] = u0[middle];
  let previous = u0.slice(); // u^(n-1)
  let next = new Float64Array(cells);
  const laplace = new Float64Array(cells);
  const memory = new Float64Array(cells);
  const { window, horizon, tolerance } = historyPlanOptions(params);
  const history = fractionalHistory(method === 'fast'
    ? { scheme: 'gl', alpha, dt, cells, method, ...(plan ? { plan } : { window, horizon, tolerance }) }
    : { scheme: 'gl', alpha, dt, cells, method });
  try {
    history.push(u0);
    let kernelSum = kernel[0]; // S_n
    let frame = 1;
    for (let n = 1; n <= steps; n++) {
      kernelSum += kernel[n];
      csrMatVec(lap, previous, laplace);
      history.history(memory);
      const weight = history.currentWeight;
      for (let i = 0; i < cells; i++) {
        // currentWeight u^n + history - S_n u^0 = kappa Δu^{n-1}, solved for u^n.
        next[i] = (kappa * laplace[i] - memory[i] + kernelSum * u0[i]) / weight;
      }
      if (n < steps) history.push(next);
      centre[n] = next[middle];
      if (frames[frame] === n) snapshots.set(next, cells * frame++);
      [previous, next] = [next, previous];
    }
    const result = { snapshots: { data: snapshots, shape: [frames.length, grid, grid] }, frames, centre };
    return { result, historyBytes: history.bytes };
  } finally {
    history.dispose();
  }
}
