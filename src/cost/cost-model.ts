// A cache root's cost model: what loads from each storage cost and what results 'auto' keeps off the disk
// cost to compute, measured here and by every earlier process or page on the root, so that memoize's
// decisions start from experience and keep learning.

import type { Files } from '../cache/files.js';
import {
  COST_FILE, emptyCostState, mergeCostStates, parseCostFile, serializeCostState, type ComputeSample, type CostState, type FunctionSample,
} from './cost-file.js';
import type { StorageKind } from './load-model.js';

// Writers of the file take turns, so that none drops another's measurements; one that cannot get a turn
// soon keeps its own for the next checkpoint. (Not '.cost-model': a lock's tokens are `<name>.<owner>`, and
// the file would pass for one.)
const LOCK = '.cost-lock';
const LOCK_TIMEOUT_MS = 2000;
// A function's estimates move this far towards a measurement on the other side of them: slowly, so that one
// call slowed by the machine does not flip a decision (a measurement beyond the bound moves it at once).
const DRIFT = 0.1;
// Calls measured before a function may be called directly.
const DIRECT_AFTER = 3;
// An estimate not measured yet (or to be measured again).
export const UNKNOWN = -1;

/** Milliseconds as the file keeps them: to the µs. */
const roundMs = (ms: number) => Math.round(ms * 1000) / 1000;

function isDirect([computeMs, overheadMs, samples]: FunctionSample): boolean {
  return samples >= DIRECT_AFTER && computeMs !== UNKNOWN && overheadMs !== UNKNOWN && computeMs < overheadMs;
}

/** One storage's learnt load costs, as `getStats()` and `dase-cache stats` show them. */
export interface LoadCostReport {
  /** Milliseconds every verified load costs. */
  fixedMs: number;
  /** Throughput beyond that, MB/s. */
  mbPerSecond: number;
  /** Loads measured (recent ones only are kept); 0: the prior, not yet learnt. */
  samples: number;
}

/** The cost model as `getStats().costs` and `dase-cache stats` show it. */
export interface CostReport {
  /** Where this cache's own entries are loaded from. */
  storage: StorageKind;
  /** The file the model is kept in. */
  file: string;
  /** Each storage's learnt load costs. */
  loads: Record<StorageKind, LoadCostReport>;
  /** Results whose compute time is known (kept off the disk by 'auto', or found cheaper to compute than to load). */
  computes: number;
  /** Memoized functions measured; `direct`: those cheaper to compute than to key, which 'auto' calls directly. */
  functions: {
    /** Memoized functions measured. */
    measured: number;
    /** Those called directly, as `<category>/<name>[@<version>]`, sorted. */
    direct: string[];
  };
}

/**
 * The cost model of one cache root (`cache.costs`): what memoize's `'auto'` policy predicts loads and
 * computations to cost, learnt from measurements and kept in `<root>/.cost-model.json`.
 * @example
 * await cache.costs.open();
 * cache.costs.predictLoad(8e6); // ms a verified 8 MB load from this root is expected to take
 * (await cache.getStats()).costs.loads.disk; // { fixedMs, mbPerSecond, samples }
 */
export class CostModel {
  private state: CostState = emptyCostState();
  private opening: Promise<void> | undefined;
  private unsaved = 0;
  private read = false;

  /**
   * Made by the CacheManager, one per root (`cache.costs`).
   * @param files - the root's file system, where `.cost-model.json` is kept.
   * @param storage - what the root's files are on: the storage whose loads this cache measures.
   * @internal
   */
  constructor(private readonly files: Files, readonly storage: StorageKind) {}

  /**
   * Reads what earlier processes measured (once; a missing or unreadable file gives the priors).
   * @example
   * await cache.costs.open();
   */
  open(): Promise<void> {
    this.opening ??= this.files.read(COST_FILE).then(
      (bytes) => {
        this.state = mergeCostStates(parseCostFile(bytes), this.state);
        // Fitted now, while the cache opens, rather than at the first call that asks.
        for (const model of this.state.loads.values()) model.costs();
      },
      () => undefined,
    ).finally(() => { this.read = true; });
    return this.opening;
  }

  /** True once the root's file has been read (so callers on a hot path need not wait for `open()`). */
  get opened(): boolean {
    return this.read;
  }

  /**
   * Predicted milliseconds of a verified load.
   * @param bytes - the file's size.
   * @param storage - where it is loaded from; default: this cache's own storage.
   * @returns the milliseconds the load is expected to take.
   * @example
   * cache.costs.predictLoad(8e6, 'remote');
   */
  predictLoad(bytes: number, storage: StorageKind = this.storage): number {
    return this.state.loads.get(storage)!.estimate(bytes);
  }

  /**
   * Folds in a measured verified load.
   * @internal
   */
  observeLoad(bytes: number, ms: number, storage: StorageKind = this.storage): void {
    if (this.state.loads.get(storage)!.observe(bytes, ms)) this.unsaved++;
  }

  /**
   * What a result (by its memo identity) was last measured to cost, if it is known.
   * @internal
   */
  computeOf(id: string): ComputeSample | undefined {
    return this.state.computes.get(id);
  }

  /**
   * Records a result's measured compute time (and its load time, when it was just loaded).
   * @internal
   */
  observeCompute(id: string, computeMs: number, bytes: number, loadMs?: number): void {
    if (!(computeMs >= 0) || !(bytes >= 0)) return;
    const at = Date.now();
    this.state.computes.set(id, loadMs === undefined ? [roundMs(computeMs), bytes, at] : [roundMs(computeMs), bytes, at, roundMs(loadMs)]);
    this.unsaved++;
  }

  /**
   * Marks a result's compute time as to be measured again (the next call computes it), keeping its measured load.
   * @internal
   */
  remeasure(id: string, bytes: number, loadMs: number): void {
    this.state.computes.set(id, [UNKNOWN, bytes, Date.now(), roundMs(loadMs)]);
    this.unsaved++;
  }

  /**
   * Forgets a result's compute time (it is stored now, and its entry says).
   * @internal
   */
  forgetCompute(id: string): void {
    if (this.state.computes.delete(id)) this.unsaved++;
  }

  /**
   * Whether calls of a memoized function (`category/name`, `@version` when memoize has one) compute faster
   * than memoization serves them (keying a call and finding it in memory): then no hit can beat computing,
   * and 'auto' calls the function directly.
   * @returns its estimates [computeMs, overheadMs, samples, at] when it does.
   * @internal
   */
  callsDirectly(id: string): FunctionSample | undefined {
    const known = this.state.functions.get(id);
    return known && isDirect(known) ? known : undefined;
  }

  /**
   * Folds in a call of a memoized function: its compute time, when it computed (an upper estimate: a slower
   * call raises it at once), and memoization's own time, when the call went through it (a lower estimate: a
   * faster call lowers it at once).
   * @internal
   */
  observeFunction(id: string, { computeMs, overheadMs }: { computeMs?: number; overheadMs?: number }): void {
    const held = this.state.functions.get(id) ?? [UNKNOWN, UNKNOWN, 0, 0];
    const follow = (estimate: number, ms: number | undefined, up: boolean) => {
      if (ms === undefined || !(ms >= 0)) return estimate;
      if (estimate === UNKNOWN || (up ? ms > estimate : ms < estimate)) return ms;
      return estimate + DRIFT * (ms - estimate);
    };
    const round = (ms: number) => (ms === UNKNOWN ? ms : Math.round(ms * 1e4) / 1e4);
    const sample: FunctionSample = [
      round(follow(held[0], computeMs, true)), round(follow(held[1], overheadMs, false)),
      held[2] + (computeMs === undefined ? 0 : 1), Date.now(),
    ];
    this.state.functions.set(id, sample);
    // Worth writing when the decision may change, not for every call of a function in a loop.
    const moved = (a: number, b: number) => (a === UNKNOWN) !== (b === UNKNOWN) || Math.abs(a - b) > 0.25 * a;
    if (held[2] < DIRECT_AFTER || isDirect(held) !== isDirect(sample) || moved(held[0], sample[0]) || moved(held[1], sample[1])) this.unsaved++;
  }

  /**
   * Whether measurements are waiting to be written.
   * @internal
   */
  get dirty(): boolean {
    return this.unsaved > 0;
  }

  /**
   * Merges this process's measurements into the root's file (temporary file, then rename), taking turns with
   * other writers. Failures are kept quiet: the model is advice, and the next checkpoint tries again.
   * @internal
   */
  async persist(): Promise<void> {
    if (this.unsaved === 0) return;
    await this.open();
    const pending = this.unsaved;
    let release: (() => Promise<void>) | undefined;
    try {
      release = await this.files.lock(LOCK, { timeoutMs: LOCK_TIMEOUT_MS, transient: true });
      const merged = mergeCostStates(parseCostFile(await this.files.read(COST_FILE)), this.state);
      await this.files.writeAtomic(COST_FILE, serializeCostState(merged));
      // Measurements made while writing stay in this.state, and merging again keeps them.
      this.state = mergeCostStates(merged, this.state);
      this.unsaved = Math.max(0, this.unsaved - pending);
    } catch {
      // a full disk, a lock held too long: kept for the next try
    } finally {
      await release?.().catch(() => undefined);
    }
  }

  /**
   * What the model has learnt, as `getStats().costs` reports it.
   * @returns the load costs per storage and the counts of what is measured.
   * @example
   * cache.costs.report().loads.disk.mbPerSecond;
   */
  report(): CostReport {
    const loads = {} as Record<StorageKind, LoadCostReport>;
    for (const [kind, model] of this.state.loads) {
      const { fixedMs, msPerByte } = model.costs();
      loads[kind] = { fixedMs: roundMs(fixedMs), mbPerSecond: Math.round(1 / (msPerByte * 1000)), samples: model.samples };
    }
    const direct = [...this.state.functions.keys()].filter((id) => this.callsDirectly(id)).sort();
    return {
      storage: this.storage, file: `${this.files.root}/${COST_FILE}`, loads, computes: this.state.computes.size,
      functions: { measured: this.state.functions.size, direct },
    };
  }
}
