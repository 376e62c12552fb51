// What a cache hit costs, learnt from the loads this process made: policy 'auto' stores a result only
// when computing it again would cost more than loading it back.

// Until loads have been measured: a few hundred µs per file, and about 1.2 GB/s (a verified load of an
// 8 MB array took 6.8 ms on the benchmark machine).
const INITIAL_FIXED_MS = 0.3;
const INITIAL_MS_PER_BYTE = 1 / 1.2e6;
const LARGE = 1 << 20; // loads this big tell the throughput; smaller ones the fixed cost
const SMALL = 64 << 10;
const WEIGHT = 0.25; // of each new observation in the running averages

/** A running estimate of the time a verified load of `bytes` takes. */
export class LoadCostModel {
  private fixedMs = INITIAL_FIXED_MS;
  private msPerByte = INITIAL_MS_PER_BYTE;

  /** Estimated milliseconds to load an entry of `bytes` bytes. */
  estimate(bytes: number): number {
    return this.fixedMs + bytes * this.msPerByte;
  }

  /** Folds in a measured load. */
  observe(bytes: number, ms: number): void {
    if (!(ms >= 0) || !(bytes >= 0)) return;
    if (bytes >= LARGE) {
      const perByte = Math.max(0, ms - this.fixedMs) / bytes;
      this.msPerByte += WEIGHT * (perByte - this.msPerByte);
    } else if (bytes <= SMALL) {
      const fixed = Math.max(0, ms - bytes * this.msPerByte);
      this.fixedMs += WEIGHT * (fixed - this.fixedMs);
    }
  }
}
