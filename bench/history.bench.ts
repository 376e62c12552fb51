// The memory term of a time-fractional stepper, fractionalHistory, on a 64 x 64 field (GL, alpha 0.5, dt 1e-3):
// (a) 'direct' against the TypeScript loop over a history array that the example used before it, over a whole
// run of 600 steps; (b) 'fast' at 1e4 and 1e5 steps, its time per step and the memory it holds, against
// 'direct' where direct fits; (c) the example's cold job (an empty cache) on its former problem, 64² x 600,
// against the same job with the former TypeScript time stepping, in this process, interleaved.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CacheManager, cachedKernels, fractionalHistory, fractionalKernel, memoize, type FractionalHistory } from '../src/node.js';
import { planHistory } from '../src/kernels/history-plan.js';
import { SMALL_PARAMS, diffusionJob, historyPlanOptions, setup } from '../examples/diffusion-model.js';
import { compare, compareAsync, formatTime, tableLines, type ComparisonResult } from './_harness.js';
import { referenceMemoryTerm, simulateReference } from './diffusion-reference.js';

const ALPHA = 0.5;
const DT = 1e-3;
const GRID = 64;
const CELLS = GRID * GRID;
const SCALE = DT ** -ALPHA;
const TS_LOOP = 'TypeScript loop over a history array (the example before)';
const DIRECT = "fractionalHistory 'direct'";
const FAST = "fractionalHistory 'fast'";
// The per-step comparisons of (b) push a few thousand states past the run's length: the fast plan covers them.
const PAST_THE_RUN = 20_000;

/** A comparison, with the bytes of WebAssembly memory each history held where that was measured. */
export type HistoryBenchResult = ComparisonResult & { bytesHeld?: Record<string, number>; note?: string };

/** `count` distinct smooth fields (0 < u < 1.2), the states a run pushes cycle through them. */
function fields(count: number): Float64Array[] {
  return Array.from({ length: count }, (_, n) => Float64Array.from({ length: CELLS }, (_, c) =>
    0.6 + 0.5 * Math.exp(-n / 400) * Math.sin(0.013 * c + 0.07 * n) + 0.1 * Math.cos(0.002 * c * (n % 7))));
}

function largest(u: Float64Array): number {
  let top = 0;
  for (let i = 0; i < u.length; i++) top = Math.max(top, Math.abs(u[i]));
  return top;
}

/** max |a - b|, relative to the largest term of the memory sum, dt^-alpha max|u| (fractionalHistory's tolerance). */
function errorOfTerm(a: Float64Array, b: Float64Array, maxU: number): number {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return diff / (SCALE * maxU);
}

function bytes(x: number): string {
  return x >= 1e9 ? `${(x / 1e9).toFixed(2)} GB` : x >= 1e6 ? `${(x / 1e6).toFixed(1)} MB` : `${(x / 1e3).toFixed(1)} kB`;
}

// ---- (a) the memory term of a whole run: 'direct' against the former TypeScript loop

function wholeRun(steps: number): HistoryBenchResult {
  const states = fields(steps);
  const kernel = fractionalKernel(ALPHA, DT, steps + 1);
  const theirs = new Float64Array(CELLS);
  const ours = new Float64Array(CELLS);
  // As the example did: every state copied into one array, and the loop over all of them at every step.
  const tsRun = () => {
    const history = new Float64Array((steps + 1) * CELLS);
    for (let n = 1; n <= steps; n++) {
      history.set(states[n - 1], (n - 1) * CELLS);
      referenceMemoryTerm(history, CELLS, n, kernel, theirs);
    }
    return theirs;
  };
  let held = 0;
  const directRun = () => {
    const h = fractionalHistory({ scheme: 'gl', alpha: ALPHA, dt: DT, cells: CELLS });
    for (let n = 1; n <= steps; n++) {
      h.push(states[n - 1]);
      h.history(ours);
    }
    held = h.bytes;
    h.dispose();
    return ours;
  };
  const error = errorOfTerm(directRun(), tsRun(), Math.max(...states.map(largest)));
  if (!(error <= 1e-13)) throw new Error(`history bench (a): 'direct' and the TypeScript loop differ by ${error} of the largest term`);
  console.log(`(a) the memory term of a whole run, push and sum at each of ${steps} steps, ${GRID}x${GRID} cells; `
    + `last step equal to ${error.toExponential(1)} of dt^-alpha max|u|; held: 'direct' ${bytes(held)}, `
    + `the TypeScript array ${bytes((steps + 1) * CELLS * 8)}`);
  const result: HistoryBenchResult = compare({
    name: `memory term of a run, ${GRID}² x ${steps} steps: fractionalHistory 'direct' vs the TypeScript loop`,
    subject: { name: DIRECT, run: directRun },
    baselines: [{ name: TS_LOOP, run: tsRun }],
    itemsPerOp: steps,
    itemName: 'step',
    targets: [{ baseline: TS_LOOP, atLeast: 3 }],
    rounds: 5,
    warmupMs: 0,
  });
  result.bytesHeld = { [DIRECT]: held, [TS_LOOP]: (steps + 1) * CELLS * 8 };
  return result;
}

// ---- (b) long runs: 'fast' per step and memory, against 'direct' where it fits

interface LongRow { steps: number; method: string; runMs?: number; stepMs: number; bytes: number; error?: number; note?: string }

function longRun(steps: number, directFits: boolean, rows: LongRow[]): HistoryBenchResult {
  const states = fields(64);
  const plan = planHistory(historyPlanOptions({ ...SMALL_PARAMS, steps: steps + PAST_THE_RUN }));
  const fast = fractionalHistory({ scheme: 'gl', alpha: ALPHA, dt: DT, cells: CELLS, method: 'fast', plan });
  const out = new Float64Array(CELLS);
  // The whole run, as a stepper does it: the memory term of step n, then u^n pushed.
  let started = performance.now();
  for (let n = 0; n < steps; n++) {
    fast.history(out);
    fast.push(states[n % states.length]);
  }
  const fastRunMs = performance.now() - started;
  let direct: FractionalHistory | undefined;
  let error: number | undefined;
  if (directFits) {
    direct = fractionalHistory({ scheme: 'gl', alpha: ALPHA, dt: DT, cells: CELLS });
    started = performance.now();
    for (let n = 0; n < steps; n++) direct.push(states[n % states.length]);
    console.log(`(b) ${steps} states pushed into 'direct' (no sums) in ${formatTime(performance.now() - started)}`);
    error = errorOfTerm(fast.history(), direct.history(), Math.max(...states.map(largest)));
    if (!(error <= plan.tolerance)) throw new Error(`history bench (b): 'fast' is ${error} off 'direct' at step ${steps}, past its tolerance ${plan.tolerance}`);
  }
  const held: Record<string, number> = { [FAST]: fast.bytes };
  if (direct) held[DIRECT] = direct.bytes;
  // One more step each (its memory term and a push) at step `steps`, timed against each other.
  let nFast = steps, nDirect = steps;
  const result: HistoryBenchResult = compare({
    name: `one step at step ${steps}, ${GRID}² cells: memory term and push${direct ? '' : " ('direct' not run: it would hold every state)"}`,
    subject: { name: FAST, run: () => { fast.history(out); fast.push(states[nFast++ % states.length]); return out; } },
    baselines: direct ? [{ name: DIRECT, run: () => { direct!.history(out); direct!.push(states[nDirect++ % states.length]); return out; } }] : [],
    itemsPerOp: CELLS,
    itemName: 'cell',
    rounds: 7,
  });
  result.bytesHeld = held;
  const stepMs = (name: string) => result.contenders.find((c) => c.name === name)!.medianMsPerOp;
  rows.push({ steps, method: 'fast', runMs: fastRunMs, stepMs: stepMs(FAST), bytes: fast.bytes, error });
  if (direct) {
    rows.push({ steps, method: 'direct', stepMs: stepMs(DIRECT), bytes: direct.bytes, note: `${steps} states of ${CELLS * 8} B in storage grown by half when full` });
  } else {
    const every = steps * CELLS * 8;
    result.note = `'direct' not run: it would hold ${bytes(every)}`;
    rows.push({ steps, method: 'direct', stepMs: NaN, bytes: every, note: `not run: every state, ${steps} x ${CELLS} x 8 B` });
  }
  fast.dispose();
  direct?.dispose();
  return result;
}

// ---- (c) the example's cold job on 64² x 600: now, and with the former time stepping

/** The job as it was: kernel, Laplacian, the TypeScript time stepping memoized, D^alpha of the centre. */
async function jobBefore(cache: CacheManager): Promise<unknown> {
  const { alpha, grid, steps, dt } = SMALL_PARAMS;
  const { h, kappa } = setup(SMALL_PARAMS);
  const kernels = cachedKernels(cache);
  const simulation = memoize(async (a: number, g: number, n: number, step: number) => simulateReference(
    g, n, kappa, await kernels.fractionalKernel(a, step, n + 1), await kernels.laplacian([g, g], { spacing: h }),
  ), { cache, category: 'state_profiles', name: 'fractional-diffusion', version: '1' });
  await kernels.fractionalKernel(alpha, dt, steps + 1);
  await kernels.laplacian([grid, grid], { spacing: h });
  const result = await simulation(alpha, grid, steps, dt);
  const derivative = await kernels.glDerivative(result.centre, alpha, dt);
  await Promise.all([simulation.settled(), ...Object.values(kernels).map((k) => k.settled())]);
  return { result, derivative };
}

async function coldJob(): Promise<HistoryBenchResult> {
  const base = mkdtempSync(join(os.tmpdir(), 'dase-history-bench-'));
  let runs = 0;
  // Each run on a root of its own, empty: every step computes (a warm JIT and WASM instance, as in a long-lived process).
  const onEmptyCache = async <T>(job: (cache: CacheManager) => Promise<T>): Promise<T> => {
    const cache = new CacheManager({ root: join(base, `run-${runs++}`) });
    try {
      return await job(cache);
    } finally {
      await cache.close();
    }
  };
  const now = () => onEmptyCache(async (cache) => (await diffusionJob(cache, SMALL_PARAMS).run()).result);
  const before = () => onEmptyCache(jobBefore);
  try {
    const ours = await now();
    const theirs = (await before() as { result: typeof ours }).result;
    let diff = 0, top = 0;
    for (let i = 0; i < theirs.snapshots.data.length; i++) {
      diff = Math.max(diff, Math.abs(ours.snapshots.data[i] - theirs.snapshots.data[i]));
      top = Math.max(top, Math.abs(theirs.snapshots.data[i]));
    }
    if (!(diff <= 1e-9 * top)) throw new Error(`history bench (c): the job's result moved by ${diff / top} relative`);
    const { alpha, grid, steps, dt } = SMALL_PARAMS;
    console.log(`(c) the example's job on an empty cache (open, fractional kernel, Laplacian, history plan, simulation, D^alpha of the centre, close), `
      + `alpha ${alpha}, ${grid}² x ${steps} steps of ${dt}; snapshots within ${(diff / top).toExponential(1)} relative of the former ones`);
    return await compareAsync({
      name: `the example's cold job, ${grid}² x ${steps}: fractionalHistory 'fast' vs the former TypeScript time stepping`,
      subject: { name: "the job now ('fast' history)", run: now },
      baselines: [{ name: 'the job before (TypeScript loop, every state kept)', run: before }],
      targets: [{ baseline: 'the job before (TypeScript loop, every state kept)', atLeast: 10 }],
      rounds: 5,
      warmupMs: 0,
    });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export async function benchHistory(): Promise<HistoryBenchResult[]> {
  const results: HistoryBenchResult[] = [wholeRun(600)];
  results.push(await coldJob());
  const rows: LongRow[] = [];
  results.push(longRun(10_000, true, rows));
  results.push(longRun(100_000, false, rows));
  console.log(`(b) ${GRID}² cells, GL alpha ${ALPHA}; 'fast': window ${historyPlanOptions(SMALL_PARAMS).window}, tolerance `
    + `${historyPlanOptions(SMALL_PARAMS).tolerance}; step: its memory term and a push, median at the end of the run`);
  const table = rows.map((r) => [
    r.steps.toLocaleString('en'), r.method, r.runMs === undefined ? '' : formatTime(r.runMs),
    r.runMs === undefined ? '' : `${((r.runMs * 1000) / r.steps).toFixed(0)} µs`,
    Number.isNaN(r.stepMs) ? '' : formatTime(r.stepMs), bytes(r.bytes),
    r.error === undefined ? '' : r.error.toExponential(1), r.note ?? '',
  ]);
  console.log(tableLines(['steps', 'method', 'whole run', 'per step', 'step at the end', 'bytes held', "error vs 'direct'", ''], table).join('\n'));
  console.log("  error: max |fast - direct| over the cells at the last step, relative to dt^-alpha max|u|\n");
  return results;
}
