// What a verified load from one storage costs, learnt from the loads measured there: a fixed cost per load
// (from recent small loads) and a cost per byte (from recent large ones). Medians, so one load slowed by
// the machine does not swing a decision; recent ones only, so the model follows the machine as it changes.

/** A measured load: its size, its milliseconds, and when (epoch ms). */
export type LoadSample = readonly [bytes: number, ms: number, at: number];

/** Where entries are loaded from. */
export type StorageKind = 'disk' | 'opfs' | 'memory' | 'remote';

export interface LoadCost {
  /** Milliseconds every load costs, whatever its size. */
  fixedMs: number;
  /** Milliseconds per byte beyond that. */
  msPerByte: number;
}

/**
 * Until loads have been measured: on the safe side of what the benchmarks measured (a fresh process's first
 * verified load of a small file from disk took 0.5-2 ms, later ones 0.1-0.5 ms; an 8 MB load 7-14 ms), so
 * that 'auto' stores what is clearly worth it and learns the rest from its own loads.
 */
export const PRIOR_COSTS: Readonly<Record<StorageKind, LoadCost>> = {
  disk: { fixedMs: 1, msPerByte: 1 / 1e6 },
  // Chromium, main thread (bench/browser.bench.ts): ~3 ms for 1 KiB, ~20 ms for 8 MB verified.
  opfs: { fixedMs: 3, msPerByte: 1 / 0.5e6 },
  memory: { fixedMs: 0.1, msPerByte: 1 / 0.7e6 },
  // A round trip, a download, a check and a local write.
  remote: { fixedMs: 3, msPerByte: 1 / 0.2e6 },
};

/** Loads up to this size tell the fixed cost; larger ones the cost per byte. */
export const SMALL_LOAD_BYTES = 256 * 1024;
// 100 GB/s: no storage is faster, and a throughput stays finite.
const MIN_MS_PER_BYTE = 1e-8;
/** Samples kept per kind (small, large). */
export const SAMPLES_KEPT = 24;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The newest `SAMPLES_KEPT` of the samples, each measurement once (the same one may come from two files). */
export function newestSamples(samples: readonly LoadSample[]): LoadSample[] {
  const seen = new Set<string>();
  const unique = samples.filter((s) => {
    const id = s.join(',');
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return unique.sort((a, b) => a[2] - b[2]).slice(-SAMPLES_KEPT);
}

/** A storage's measured loads, and what they predict. */
export class LoadModel {
  small: LoadSample[];
  large: LoadSample[];
  private cost: LoadCost | undefined;

  constructor(readonly prior: LoadCost, samples: { small?: readonly LoadSample[]; large?: readonly LoadSample[] } = {}) {
    this.small = newestSamples(samples.small ?? []);
    this.large = newestSamples(samples.large ?? []);
  }

  /** The fixed and per-byte costs the samples give (the prior's where there are none). */
  costs(): LoadCost {
    if (this.cost) return this.cost;
    const { prior } = this;
    let { fixedMs, msPerByte } = prior;
    // Each part is measured net of the other: two passes settle them. The prior counts as two measurements,
    // so that the first load, which may have met a garbage collection, does not decide alone.
    for (let pass = 0; pass < 2; pass++) {
      if (this.large.length > 0) {
        msPerByte = Math.max(MIN_MS_PER_BYTE, median([...this.large.map(([b, ms]) => (ms - fixedMs) / b), prior.msPerByte, prior.msPerByte]));
      }
      if (this.small.length > 0) fixedMs = Math.max(0, median([...this.small.map(([b, ms]) => ms - b * msPerByte), prior.fixedMs, prior.fixedMs]));
    }
    return (this.cost = { fixedMs, msPerByte });
  }

  /** Predicted milliseconds of a verified load of `bytes`. */
  estimate(bytes: number): number {
    const { fixedMs, msPerByte } = this.costs();
    return fixedMs + bytes * msPerByte;
  }

  /** Folds in a measured load. @returns false for a measurement that cannot be one (negative, not finite). */
  observe(bytes: number, ms: number, at = Date.now()): boolean {
    if (!Number.isFinite(bytes) || !Number.isFinite(ms) || bytes < 0 || ms < 0) return false;
    const sample: LoadSample = [bytes, Math.round(ms * 1000) / 1000, at];
    if (bytes <= SMALL_LOAD_BYTES) this.small = newestSamples([...this.small, sample]);
    else this.large = newestSamples([...this.large, sample]);
    this.cost = undefined;
    return true;
  }

  /** This model and another's samples together (two processes' measurements of one root). */
  merged(other: LoadModel): LoadModel {
    return new LoadModel(this.prior, { small: [...this.small, ...other.small], large: [...this.large, ...other.large] });
  }

  get samples(): number {
    return this.small.length + this.large.length;
  }
}
