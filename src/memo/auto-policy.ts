// What policy 'auto' decides, and why: at a hit, load the entry or compute it again; at a miss, store the
// result or keep it in memory only. Each decision weighs the measured compute time against the load the
// cache root's cost model predicts, so a result is loaded only when that beats computing it.

import type { ComputeSample } from '../cost/cost-file.js';
import { UNKNOWN, type CostModel } from '../cost/cost-model.js';

/** A result is stored when computing it took this many times its predicted load (the write costs too). */
export const STORE_MARGIN = 2;

export interface Verdict {
  /** Load (at a hit) or store (at a miss). */
  go: boolean;
  /** Why, in a sentence with the figures that decided (written when asked for: most calls never are). */
  reason: () => string;
}

export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.max(1, Math.round(ms * 1000))} µs`;
  return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const [value, unit] = bytes < 1e6 ? [bytes / 1e3, 'KB'] : bytes < 1e9 ? [bytes / 1e6, 'MB'] : [bytes / 1e9, 'GB'];
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** A load's predicted time: this result's own measured load when there is one, else the model's. */
function loadOf(model: CostModel, bytes: number, known: ComputeSample | undefined): { ms: number; measured: boolean } {
  return known?.[3] !== undefined ? { ms: known[3], measured: true } : { ms: model.predictLoad(bytes), measured: false };
}

function loadPhrase(bytes: number, load: { ms: number; measured: boolean }): string {
  return `${load.measured ? 'its load was measured at' : `a load of ${formatBytes(bytes)} takes about`} ${formatMs(load.ms)}`;
}

/**
 * Before looking at the cache: a result known to compute faster than the cache could serve it is computed
 * at once (not even the index is read). @returns undefined when the cache is worth a look.
 */
export function knownCheap(known: ComputeSample | undefined, model: CostModel): Verdict | undefined {
  if (!known || known[0] === UNKNOWN) return undefined;
  const [computeMs, bytes] = known;
  const load = loadOf(model, bytes, known);
  // Worth a look when an entry (stored by another process or policy) would load faster than computing.
  if (computeMs >= load.ms) return undefined;
  return { go: false, reason: () => `recomputed without looking in the cache: computing it took ${formatMs(computeMs)}, ${loadPhrase(bytes, load)}` };
}

/**
 * At a hit: load the entry when that is predicted to beat computing it. The newest measured compute time
 * decides (this process's or an earlier one's, else the entry's own); an entry that does not say what it cost,
 * or whose load barely beat the time it recorded, is computed once, which measures it.
 */
export function loadOrRecompute(entryComputeMs: unknown, bytes: number, known: ComputeSample | undefined, model: CostModel): Verdict {
  if (known?.[0] === UNKNOWN) {
    return {
      go: false,
      reason: () => `recomputed to measure it again: its load took ${formatMs(known[3]!)}, not well below the ${formatMs(Number(entryComputeMs))} `
        + 'the entry says computing it took when it was stored',
    };
  }
  const computeMs = known?.[0] ?? (typeof entryComputeMs === 'number' && entryComputeMs >= 0 ? entryComputeMs : undefined);
  if (computeMs === undefined) {
    return { go: false, reason: () => 'recomputed: the entry does not say what computing it costs (now measured)' };
  }
  const load = loadOf(model, bytes, known);
  const figures = () => `computing it takes ${formatMs(computeMs)}, ${loadPhrase(bytes, load)}`;
  return load.ms < computeMs ? { go: true, reason: () => `loaded: ${figures()}` } : { go: false, reason: () => `recomputed: ${figures()}` };
}

/** At a miss: store the result when a later load is predicted to be well worth it. */
export function storeOrKeep(computeMs: number, bytes: number, model: CostModel): Verdict {
  const load = model.predictLoad(bytes);
  const figures = () => `computing it took ${formatMs(computeMs)}, a load of ${formatBytes(bytes)} would take about ${formatMs(load)}`;
  return computeMs >= STORE_MARGIN * load
    ? { go: true, reason: () => `stored: ${figures()}` } : { go: false, reason: () => `kept in memory only: ${figures()}` };
}

/** Why a result was loaded after it was measured to load slower than it computes: the next call will not. */
export function loadedAtALoss(computeMs: number, loadMs: number): string {
  return `loaded, but the load took ${formatMs(loadMs)} against ${formatMs(computeMs)} to compute: later calls compute it`;
}
