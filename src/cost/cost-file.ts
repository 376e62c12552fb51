// The cost model as the cache root keeps it (`<root>/.cost-model.json`): the measured loads of each storage,
// the measured compute times of results 'auto' keeps off the disk, and what memoized functions' calls cost.
// Several processes write it: each merges its measurements into what it reads, and a file that is torn,
// foreign or garbage reads as empty.

import { LoadModel, PRIOR_COSTS, type LoadSample, type StorageKind } from './load-model.js';

/** The file, in the root beside the categories (a dot-file: no category or key can be named so). */
export const COST_FILE = '.cost-model.json';
const FORMAT = 'dase-cache cost model 1';
/** Results and functions kept (each): the newest, by when they were measured. */
export const COMPUTES_KEPT = 4096;

/** What a result cost to compute (-1: to be measured again), and (when it was loaded) to load: [computeMs, bytes, at, loadMs?]. */
export type ComputeSample = readonly [computeMs: number, bytes: number, at: number, loadMs?: number];

/**
 * What calls of a memoized function cost: [computeMs, overheadMs, samples, at], an upper estimate of its
 * compute time and a lower estimate of memoization's own cost per call (keying it and looking it up: what a
 * call served from memory costs), -1 until measured. A function that computes faster than that is called directly.
 */
export type FunctionSample = readonly [computeMs: number, overheadMs: number, samples: number, at: number];

export interface CostState {
  loads: Map<StorageKind, LoadModel>;
  /** By memo identity (`category/key`, `@version` when memoize has one). */
  computes: Map<string, ComputeSample>;
  /** By memoized function (`category/name`, `@version` when memoize has one). */
  functions: Map<string, FunctionSample>;
}

export const STORAGE_KINDS = Object.keys(PRIOR_COSTS) as StorageKind[];

export function emptyCostState(): CostState {
  return { loads: new Map(STORAGE_KINDS.map((kind) => [kind, new LoadModel(PRIOR_COSTS[kind])])), computes: new Map(), functions: new Map() };
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

function loadSamples(list: unknown): LoadSample[] {
  if (!Array.isArray(list)) return [];
  return list.filter((s): s is LoadSample => Array.isArray(s) && s.length === 3 && s.every(finite));
}

function computeSample(s: unknown): ComputeSample | undefined {
  if (!Array.isArray(s) || s.length < 3 || s.length > 4 || !s.every((x, i) => finite(x) || (i === 0 && x === -1))) return undefined;
  return s as unknown as ComputeSample;
}

// Estimates not measured yet are -1.
function functionSample(s: unknown): FunctionSample | undefined {
  if (!Array.isArray(s) || s.length !== 4 || !s.every((x) => finite(x) || x === -1)) return undefined;
  return s as unknown as FunctionSample;
}

/** Each valid [id, sample] of a JSON record. */
function samplesOf<T>(record: unknown, valid: (s: unknown) => T | undefined): Map<string, T> {
  const found = new Map<string, T>();
  if (typeof record !== 'object' || record === null) return found;
  for (const [id, sample] of Object.entries(record)) {
    const parsed = valid(sample);
    if (parsed) found.set(id, parsed);
  }
  return found;
}

/** The state a file holds; what is unreadable in it is left out (all of it, for a file that is not one). */
export function parseCostFile(bytes: Uint8Array | undefined): CostState {
  const state = emptyCostState();
  if (bytes === undefined) return state;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return state;
  }
  if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== FORMAT) return state;
  const { loads, computes, functions } = json as { loads?: Record<string, { small?: unknown; large?: unknown }>; computes?: unknown; functions?: unknown };
  for (const kind of STORAGE_KINDS) {
    const saved = loads?.[kind];
    if (typeof saved !== 'object' || saved === null) continue;
    state.loads.set(kind, new LoadModel(PRIOR_COSTS[kind], { small: loadSamples(saved.small), large: loadSamples(saved.large) }));
  }
  state.computes = newest(samplesOf(computes, computeSample), 2);
  state.functions = newest(samplesOf(functions, functionSample), 3);
  return state;
}

/** Two states' measurements together: every load sample (the newest kept), the newer sample per result and function. */
export function mergeCostStates(a: CostState, b: CostState): CostState {
  const loads = new Map(STORAGE_KINDS.map((kind) => [kind, a.loads.get(kind)!.merged(b.loads.get(kind)!)]));
  return { loads, computes: newer(a.computes, b.computes, 2), functions: newer(a.functions, b.functions, 3) };
}

/** Per id, the sample measured last (its time at index `at`), the newest `COMPUTES_KEPT` of them. */
function newer<T extends readonly (number | undefined)[]>(a: Map<string, T>, b: Map<string, T>, at: number): Map<string, T> {
  const merged = new Map(a);
  for (const [id, sample] of b) {
    const held = merged.get(id);
    if (!held || held[at]! <= sample[at]!) merged.set(id, sample);
  }
  return newest(merged, at);
}

function newest<T extends readonly (number | undefined)[]>(samples: Map<string, T>, at: number): Map<string, T> {
  if (samples.size <= COMPUTES_KEPT) return samples;
  return new Map([...samples].sort((x, y) => x[1][at]! - y[1][at]!).slice(-COMPUTES_KEPT));
}

/** The file's bytes for a state. */
export function serializeCostState(state: CostState): Uint8Array {
  const loads: Record<string, { small: LoadSample[]; large: LoadSample[] }> = {};
  for (const [kind, model] of state.loads) if (model.samples > 0) loads[kind] = { small: model.small, large: model.large };
  const json = { format: FORMAT, loads, computes: Object.fromEntries(newest(state.computes, 2)), functions: Object.fromEntries(newest(state.functions, 3)) };
  return new TextEncoder().encode(`${JSON.stringify(json)}\n`);
}
