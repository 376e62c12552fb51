// fractionalHistory: the past of a whole field, kept in WebAssembly memory, and the memory term each step of
// a time-fractional solver needs. For every cell, after u^0..u^(m-1) were pushed,
//   D^alpha u(t_m) = currentWeight * u^m + history,
// the discrete operator being glDerivative ('gl') or caputoL1 ('l1') along the cell's own history. Both are
// convolutions of a stored sequence v with dimensionless weights c_k times a step scale:
//   'gl': v = the states,             history = dt^-alpha * sum_{k=1}^{m} w_k u^(m-k)
//   'l1': v = differences of states,  history = dt^-alpha / Gamma(2-alpha) * (sum_{k=1}^{m-1} b_k d^(m-1-k) - u^(m-1))
// with w_k the GL weights, b_k = (k+1)^(1-alpha) - k^(1-alpha) and d^i = u^(i+1) - u^i.
// 'direct' keeps every v and sums exactly; 'fast' keeps a window of the last W and folds older ones into
// sums of exponentials (history-plan.ts), in O(cells * (W + p)) memory and time per step.

import { describe, finiteNumber, float64Array, integerInRange, optionsObject, knownKeys } from '../_args.js';
import { runKernel, kernels } from '../wasm/loader.js';
import type { KernelExports } from '../wasm/exports.js';
import { f64View, layout } from '../wasm/memory.js';
import { regionOf, release, reserve, resize } from '../wasm/regions.js';
import { gamma } from './gamma.js';
import { glWeights } from './gl.js';
import { packPlan, planHistory, unpackPlan, type HistoryPlan } from './history-plan.js';

/** The discrete operator: `'gl'` as {@link glDerivative} (Grünwald–Letnikov), `'l1'` as {@link caputoL1} (Caputo, L1). */
export type HistoryScheme = 'gl' | 'l1';
/** `'direct'`: every past state, summed exactly. `'fast'`: a window of recent states and sums of exponentials. */
export type HistoryMethod = 'direct' | 'fast';

/** Options of {@link fractionalHistory}. */
export interface FractionalHistoryOptions {
  /** The discrete operator. */
  scheme: HistoryScheme;
  /** The order: (0, 2) for 'gl', (0, 1) for 'l1'. */
  alpha: number;
  /** The time step, > 0. */
  dt: number;
  /** Values per state (the field's cells), a positive integer. */
  cells: number;
  /** 'direct' (default): the exact sum over every past state. 'fast': a window and sums of exponentials. */
  method?: HistoryMethod;
  /** 'fast': the error allowed, relative to the largest term (dt^-alpha times the largest |u|); default 1e-10. */
  tolerance?: number;
  /** 'fast': the most steps the plan covers; default 100000. */
  horizon?: number;
  /** 'fast': the states summed exactly; default 32. */
  window?: number;
  /** 'fast': a plan made beforehand for these options (`cachedKernels(cache).historyPlan`), instead of making one. */
  plan?: HistoryPlan;
}

/** The past of a field and the memory term of its next step. */
export interface FractionalHistory {
  /** The discrete operator, as asked. */
  readonly scheme: HistoryScheme;
  /** How the past is summed, as asked. */
  readonly method: HistoryMethod;
  /** Values per state. */
  readonly cells: number;
  /** States pushed so far. */
  readonly steps: number;
  /** The weight of the next state u^m in D^alpha u(t_m) (for 'l1', 0 before the first state: D^alpha u(t_0) = 0). */
  readonly currentWeight: number;
  /** Bytes of WebAssembly memory held. */
  readonly bytes: number;
  /** Appends the state u^m (copied in). */
  push(u: Float64Array): void;
  /** Per cell, D^alpha u(t_m) - currentWeight * u^m, for the next time t_m. */
  history(out?: Float64Array): Float64Array;
  /** Releases the WebAssembly memory; any later call throws a TypeError. */
  dispose(): void;
}

const DEFAULT_TOLERANCE = 1e-10;
const DEFAULT_HORIZON = 100_000;
const DEFAULT_WINDOW = 32;

/** b_k = (k+1)^beta - k^beta without the cancellation of the plain difference. */
function l1Weight(k: number, beta: number): number {
  return k === 0 ? 1 : Math.pow(k, beta) * Math.expm1(beta * Math.log1p(1 / k));
}

/** c_1..c_n of the scheme. */
function weights(scheme: HistoryScheme, alpha: number, n: number): Float64Array {
  if (scheme === 'gl') return glWeights(alpha, n + 1).subarray(1);
  const out = new Float64Array(n);
  for (let k = 1; k <= n; k++) out[k - 1] = l1Weight(k, 1 - alpha);
  return out;
}

// Memory of histories that were dropped without dispose(): given back when they are collected.
const orphans = new FinalizationRegistry<object[]>((owners) => { for (const owner of owners) release(owner); });

abstract class HistoryBase implements FractionalHistory {
  readonly scheme: HistoryScheme;
  readonly cells: number;
  abstract readonly method: HistoryMethod;
  protected readonly alpha: number;
  protected readonly scale: number;
  protected m = 0;
  private disposed = false;
  // Handles of the regions this history holds (regions.ts): a region is always looked up, never kept.
  protected readonly lastState = {};
  protected abstract owners(): object[];

  constructor(scheme: HistoryScheme, alpha: number, dt: number, cells: number) {
    this.scheme = scheme;
    this.alpha = alpha;
    this.cells = cells;
    this.scale = Math.pow(dt, -alpha) / (scheme === 'l1' ? gamma(2 - alpha) : 1);
    if (!Number.isFinite(this.scale)) {
      throw new RangeError(`fractionalHistory: expected dt^-alpha to be finite, got ${this.scale} for dt = ${dt} and alpha = ${alpha}`);
    }
  }

  protected register(): void {
    orphans.register(this, this.owners(), this);
  }

  get steps(): number { return this.m; }

  get currentWeight(): number {
    return this.scheme === 'l1' && this.m === 0 ? 0 : this.scale;
  }

  get bytes(): number {
    this.alive('bytes');
    return this.owners().reduce((sum, owner) => sum + regionOf(owner).bytes, 0);
  }

  protected alive(where: string): void {
    if (this.disposed) throw new TypeError(`fractionalHistory.${where}: this history was disposed`);
  }

  push(u: Float64Array): void {
    this.alive('push');
    const where = 'fractionalHistory.push';
    float64Array(where, 'u', u, this.cells);
    for (let c = 0; c < u.length; c++) {
      if (!Number.isFinite(u[c])) throw new RangeError(`${where}: expected u to hold finite numbers, got u[${c}] = ${describe(u[c])}`);
    }
    runKernel('fractionalHistory', (k) => {
      if (this.scheme === 'gl') {
        f64View(k, this.nextRow(k), this.cells).set(u);
        return;
      }
      if (this.m > 0) {
        // d^(m-1) = u^m - u^(m-1), written straight into its row (views made after any growth).
        const row = f64View(k, this.nextRow(k), this.cells);
        const last = f64View(k, regionOf(this.lastState).address, this.cells);
        for (let c = 0; c < this.cells; c++) row[c] = u[c] - last[c];
      }
      f64View(k, regionOf(this.lastState).address, this.cells).set(u);
    });
    this.m++;
  }

  history(out?: Float64Array): Float64Array {
    this.alive('history');
    const result = out === undefined ? new Float64Array(this.cells) : float64Array('fractionalHistory.history', 'out', out, this.cells);
    const entries = this.scheme === 'gl' ? this.m : this.m - 1;
    if (this.m === 0) return result.fill(0);
    return runKernel('fractionalHistory', (k) => {
      const [outPtr] = layout(k, this.cells * 8);
      const lastPtr = this.scheme === 'l1' ? regionOf(this.lastState).address : 0;
      this.sum(k, entries, this.scheme === 'l1' ? -1 : 0, lastPtr, outPtr);
      result.set(f64View(k, outPtr, this.cells));
      return result;
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    orphans.unregister(this);
    for (const owner of this.owners()) release(owner);
  }

  /** Makes room for the next entry of the convolved sequence and returns the address to write it at. */
  protected abstract nextRow(k: KernelExports): number;
  /** outPtr <- scale * (sum over the `entries` stored entries + lastCoef * last state). */
  protected abstract sum(k: KernelExports, entries: number, lastCoef: number, lastPtr: number, outPtr: number): void;
}

/** Every past entry, summed exactly. */
class DirectHistory extends HistoryBase {
  readonly method = 'direct' as const;
  private readonly rows = {};
  private readonly coefficients = {};
  private capacity = 0;
  private entries = 0;

  constructor(scheme: HistoryScheme, alpha: number, dt: number, cells: number) {
    super(scheme, alpha, dt, cells);
    const k = kernels();
    try {
      reserve(k, this.rows, 0);
      reserve(k, this.coefficients, 0);
      reserve(k, this.lastState, cells * 8, 'fractionalHistory');
    } catch (error) {
      for (const owner of this.owners()) release(owner);
      throw error;
    }
    this.register();
  }

  protected owners(): object[] { return [this.rows, this.coefficients, this.lastState]; }

  protected nextRow(k: KernelExports): number {
    // Half again each time: doubling would leave up to half the memory unused, and fail long before the engine's limit.
    if (this.entries === this.capacity) this.grow(k, Math.max(16, Math.ceil(this.capacity * 1.5)));
    return regionOf(this.rows).address + this.entries++ * this.cells * 8;
  }

  private grow(k: KernelExports, capacity: number): void {
    const bytes = capacity * this.cells * 8;
    try {
      resize(k, this.rows, bytes, this.entries * this.cells * 8, 'fractionalHistory');
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new RangeError(`fractionalHistory('direct'): keeping ${capacity} states of ${this.cells} cells needs ${bytes} bytes `
        + `(${(bytes / 2 ** 20).toFixed(1)} MiB) of WebAssembly memory in all, which the engine refused; `
        + `method 'fast' holds O(cells) memory whatever the number of steps`, { cause: error });
    }
    const c = weights(this.scheme, this.alpha, capacity);
    resize(k, this.coefficients, capacity * 8, 0, 'fractionalHistory');
    f64View(k, regionOf(this.coefficients).address, capacity).set(c);
    this.capacity = capacity;
  }

  protected sum(k: KernelExports, entries: number, lastCoef: number, lastPtr: number, outPtr: number): void {
    k.historyDirect(regionOf(this.rows).address, entries, this.cells, regionOf(this.coefficients).address, this.scale, lastCoef, lastPtr, outPtr);
  }
}

/** A window of the last W entries, and the ones before it folded into sums of exponentials. */
class FastHistory extends HistoryBase {
  readonly method = 'fast' as const;
  readonly plan: HistoryPlan;
  private readonly ring = {};
  private readonly sums = {};
  private readonly parameters = {};
  private entries = 0;

  constructor(scheme: HistoryScheme, alpha: number, dt: number, cells: number, plan: HistoryPlan) {
    super(scheme, alpha, dt, cells);
    this.plan = plan;
    const k = kernels();
    const w = plan.window;
    const p = plan.lambdas.length;
    try {
      reserve(k, this.ring, w * cells * 8, 'fractionalHistory');
      reserve(k, this.sums, Math.max(1, p) * cells * 8, 'fractionalHistory');
      reserve(k, this.parameters, (w + 3 * p) * 8, 'fractionalHistory');
      reserve(k, this.lastState, cells * 8, 'fractionalHistory');
      const params = f64View(k, regionOf(this.parameters).address, w + 3 * p);
      params.set(plan.windowWeights, 0);
      params.set(plan.lambdas, w);
      params.set(plan.lambdasPastWindow, w + p);
      params.set(plan.thetas, w + 2 * p);
    } catch (error) {
      for (const owner of this.owners()) release(owner);
      throw error;
    }
    this.register();
  }

  protected owners(): object[] { return [this.ring, this.sums, this.parameters, this.lastState]; }

  protected nextRow(k: KernelExports): number {
    const { window: w, horizon } = this.plan;
    if (this.entries >= horizon) {
      throw new RangeError(`fractionalHistory('fast').push: the plan covers ${horizon} steps; this would be step ${this.entries + 1} `
        + '(pass a larger horizon, or a plan made for one, when creating the history)');
    }
    const p = this.plan.lambdas.length;
    const slot = regionOf(this.ring).address + (this.entries % w) * this.cells * 8;
    // The entry in this slot leaves the window now: it goes into the exponential sums before it is overwritten.
    if (this.entries >= w && p > 0) {
      const params = regionOf(this.parameters).address;
      k.historyFold(regionOf(this.sums).address, p, this.cells, params + w * 8, params + (w + p) * 8, slot);
    }
    this.entries++;
    return slot;
  }

  protected sum(k: KernelExports, entries: number, lastCoef: number, lastPtr: number, outPtr: number): void {
    const w = this.plan.window;
    const p = this.plan.lambdas.length;
    const params = regionOf(this.parameters).address;
    k.historyFast(regionOf(this.ring).address, w, Math.min(entries, w), (entries - 1 + w) % w, this.cells, params,
      regionOf(this.sums).address, entries > w ? p : 0, params + (w + 2 * p) * 8, this.scale, lastCoef, lastPtr, outPtr);
  }
}

/**
 * The past of a field for a time-fractional solver, kept in WebAssembly memory: push each state, and get the
 * memory term of the next step, so that `D^alpha u(t_m) = h.currentWeight * u^m + h.history()` for every cell
 * (the GL derivative, `glDerivative`, or the L1 Caputo derivative, `caputoL1`, along the cell's history).
 * @param options - scheme, alpha, dt, cells; method 'direct' (exact, memory grows with the steps) or 'fast'
 *   (within `tolerance`, memory flat); see {@link FractionalHistoryOptions}.
 * @returns the history object; call `dispose()` when done (its memory is also freed when it is collected).
 * @throws {TypeError|RangeError} for bad options; pushes check their state; running out of WebAssembly memory
 *   is a RangeError saying how many bytes were asked for.
 * @example
 * // Explicit GL steps of D^alpha u = kappa * Lap(u): currentWeight * u^m + history = kappa * Lap(u^(m-1)).
 * const h = fractionalHistory({ scheme: 'gl', alpha: 0.5, dt: 1e-3, cells: u.length });
 * h.push(u);
 * for (let m = 1; m <= steps; m++) {
 *   const lap = applyLaplacian(u, [n, n]);
 *   const mem = h.history();
 *   for (let c = 0; c < u.length; c++) u[c] = (kappa * lap[c] - mem[c]) / h.currentWeight;
 *   h.push(u);
 * }
 * h.dispose();
 */
export function fractionalHistory(options: FractionalHistoryOptions): FractionalHistory {
  const where = 'fractionalHistory';
  const opts = optionsObject(where, options);
  knownKeys(where, opts, ['scheme', 'alpha', 'dt', 'cells', 'method', 'tolerance', 'horizon', 'window', 'plan']);
  const scheme = opts.scheme;
  if (scheme !== 'gl' && scheme !== 'l1') throw new RangeError(`${where}: expected scheme 'gl' or 'l1', got ${describe(scheme)}`);
  const alpha = finiteNumber(where, 'alpha', opts.alpha);
  const top = scheme === 'gl' ? 2 : 1;
  if (!(alpha > 0 && alpha < top)) throw new RangeError(`${where}: expected alpha in (0, ${top}) for scheme '${scheme}', got ${describe(alpha)}`);
  const dt = finiteNumber(where, 'dt', opts.dt);
  if (!(dt > 0)) throw new RangeError(`${where}: expected dt > 0, got ${describe(dt)}`);
  const cells = integerInRange(where, 'cells', opts.cells, 1, 2 ** 27);
  const method = opts.method ?? 'direct';
  if (method !== 'direct' && method !== 'fast') throw new RangeError(`${where}: expected method 'direct' or 'fast', got ${describe(method)}`);
  if (method === 'direct') {
    for (const name of ['tolerance', 'horizon', 'window', 'plan']) {
      if (opts[name] !== undefined) throw new TypeError(`${where}: option ${name} is for method 'fast'`);
    }
    return new DirectHistory(scheme, alpha, dt, cells);
  }
  if (opts.plan !== undefined) {
    for (const name of ['tolerance', 'horizon', 'window']) {
      if (opts[name] !== undefined) throw new TypeError(`${where}: option ${name} comes from the plan when a plan is given`);
    }
  }
  // A given plan is checked whole (its arrays against its window) before any memory is reserved for it.
  const plan = opts.plan !== undefined ? unpackPlan(packPlan(opts.plan as HistoryPlan)) : planHistory({
    scheme, alpha,
    window: (opts.window as number | undefined) ?? DEFAULT_WINDOW,
    horizon: (opts.horizon as number | undefined) ?? DEFAULT_HORIZON,
    tolerance: (opts.tolerance as number | undefined) ?? DEFAULT_TOLERANCE,
  });
  if (plan.scheme !== scheme || plan.alpha !== alpha) {
    throw new RangeError(`${where}: the plan is for scheme '${plan.scheme}', alpha ${plan.alpha}, not '${scheme}', ${alpha}`);
  }
  return new FastHistory(scheme, alpha, dt, cells, plan);
}
