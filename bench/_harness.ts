// A small benchmark harness: one subject (our kernel) against its baselines, timed in one process,
// interleaved round by round, reported as median times and median per-round speedups.

/** Something to time: `run` performs one operation (its result is kept so it cannot be optimised away). */
export interface Contender {
  name: string;
  run: () => unknown;
}

/** A goal for the median speedup over one baseline (baseline time / subject time). */
export interface Target {
  baseline: string;
  atLeast: number;
  /** 'target' by default; e.g. 'moonshot' for a stretch goal. */
  label?: string;
}

export interface ComparisonSpec {
  name: string;
  subject: Contender;
  baselines: Contender[];
  /** Bytes processed per operation, for a throughput column. */
  bytesPerOp?: number;
  /** Unit of that column; MB and GB are 10^6 and 10^9 bytes. */
  throughputUnit?: 'MB/s' | 'GB/s';
  /** Elements per operation and what they are called, for a time-per-element column. */
  itemsPerOp?: number;
  itemName?: string;
  targets?: Target[];
  rounds?: number;
  /** Aimed-at duration of one contender's slice of a round. */
  sliceMs?: number;
  /** Time each contender runs before measuring, so that the JIT has tiered it up. */
  warmupMs?: number;
}

export interface ContenderResult {
  name: string;
  role: 'subject' | 'baseline';
  opsPerSlice: number;
  /** Per round: milliseconds per operation. */
  msPerOpByRound: number[];
  medianMsPerOp: number;
  opsPerSecond: number;
  bytesPerSecond?: number;
  nsPerItem?: number;
  /** Baselines only: per-round ratio of this contender's time to the subject's, and their median. */
  speedupByRound?: number[];
  medianSpeedup?: number;
}

export interface TargetResult extends Required<Target> {
  measured: number;
  met: boolean;
}

export interface ComparisonResult {
  name: string;
  rounds: number;
  sliceMs: number;
  bytesPerOp?: number;
  itemsPerOp?: number;
  itemName?: string;
  contenders: ContenderResult[];
  targets: TargetResult[];
}

const DEFAULT_ROUNDS = 9;
const DEFAULT_SLICE_MS = 100;
const DEFAULT_WARMUP_MS = 400;

// Results land here so that no operation is dead code to the JIT.
export let sink: unknown;

function timeOps(run: () => unknown, count: number): number {
  let last: unknown;
  const start = performance.now();
  for (let i = 0; i < count; i++) last = run();
  const elapsed = performance.now() - start;
  sink = last;
  return elapsed;
}

// Runs the operation for at least warmupMs, doubling the batch, and returns how many operations fill
// one slice. A single operation longer than the slice gives a slice of one.
function warmUpAndCalibrate(run: () => unknown, warmupMs: number, sliceMs: number): number {
  let count = 1;
  let spent = 0;
  let perOp = Infinity;
  while (spent < warmupMs || count < 4) {
    const elapsed = timeOps(run, count);
    spent += elapsed;
    perOp = elapsed / count;
    if (elapsed > sliceMs && spent >= warmupMs) break;
    count *= 2;
  }
  return Math.max(1, Math.round(sliceMs / perOp));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Checks, before timing, that our result agrees with a baseline's element by element: ours[i] and theirs[i]
 * are equal, or differ by at most rel * |theirs[i]| + abs (rel = abs = 0: exactly equal; a NaN never agrees).
 */
export function checkElementwise(what: string, ours: ArrayLike<number>, theirs: ArrayLike<number>, rel: number, abs: number): void {
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] !== theirs[i] && !(Math.abs(ours[i] - theirs[i]) <= rel * Math.abs(theirs[i]) + abs)) {
      throw new Error(`${what}: dase-cache and the TypeScript baseline disagree at ${i}: ${ours[i]} vs ${theirs[i]}`);
    }
  }
}

/** Times the subject and its baselines, interleaved, and prints the comparison's table. */
export function compare(spec: ComparisonSpec): ComparisonResult {
  const { all, rounds, sliceMs, warmupMs } = prepare(spec);
  // Warm everything up before measuring anything: a contender tiered up later would otherwise be
  // measured against others that share its code paths (typed-array copies, the WASM instance) at a
  // different JIT state.
  const counts = all.map((c) => warmUpAndCalibrate(c.run, warmupMs, sliceMs));
  const times: number[][] = all.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // Rotate who goes first, so that no contender always follows the same neighbour (cache, GC debt).
    for (let i = 0; i < all.length; i++) {
      const c = (r + i) % all.length;
      times[c].push(timeOps(all[c].run, counts[c]) / counts[c]);
    }
  }
  return summarize(spec, rounds, sliceMs, counts, times);
}

/** An asynchronous operation to time (file I/O): each is awaited before the next starts. */
export interface AsyncContender {
  name: string;
  run: () => Promise<unknown>;
}

export type AsyncComparisonSpec = Omit<ComparisonSpec, 'subject' | 'baselines'> & {
  subject: AsyncContender;
  baselines: AsyncContender[];
};

async function timeOpsAsync(run: () => Promise<unknown>, count: number): Promise<number> {
  let last: unknown;
  const start = performance.now();
  for (let i = 0; i < count; i++) last = await run();
  const elapsed = performance.now() - start;
  sink = last;
  return elapsed;
}

async function warmUpAndCalibrateAsync(run: () => Promise<unknown>, warmupMs: number, sliceMs: number): Promise<number> {
  let count = 1;
  let spent = 0;
  let perOp = Infinity;
  while (spent < warmupMs || count < 4) {
    const elapsed = await timeOpsAsync(run, count);
    spent += elapsed;
    perOp = elapsed / count;
    if (elapsed > sliceMs && spent >= warmupMs) break;
    count *= 2;
  }
  return Math.max(1, Math.round(sliceMs / perOp));
}

/** compare() for asynchronous operations. */
export async function compareAsync(spec: AsyncComparisonSpec): Promise<ComparisonResult> {
  const { all, rounds, sliceMs, warmupMs } = prepare(spec);
  const counts: number[] = [];
  for (const c of all) counts.push(await warmUpAndCalibrateAsync(c.run, warmupMs, sliceMs));
  const times: number[][] = all.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < all.length; i++) {
      const c = (r + i) % all.length;
      times[c].push((await timeOpsAsync(all[c].run, counts[c])) / counts[c]);
    }
  }
  return summarize(spec, rounds, sliceMs, counts, times);
}

function prepare<C extends { name: string }>(spec: { name: string; subject: C; baselines: C[]; targets?: Target[]; rounds?: number; sliceMs?: number; warmupMs?: number }) {
  for (const t of spec.targets ?? []) {
    if (!spec.baselines.some((b) => b.name === t.baseline)) throw new Error(`${spec.name}: target names an unknown baseline '${t.baseline}'`);
  }
  return {
    all: [spec.subject, ...spec.baselines],
    rounds: spec.rounds ?? DEFAULT_ROUNDS,
    sliceMs: spec.sliceMs ?? DEFAULT_SLICE_MS,
    warmupMs: spec.warmupMs ?? DEFAULT_WARMUP_MS,
  };
}

export function summarize(
  spec: Omit<ComparisonSpec, 'subject' | 'baselines'> & { subject: { name: string }; baselines: { name: string }[] },
  rounds: number, sliceMs: number, counts: number[], times: number[][],
): ComparisonResult {
  const all = [spec.subject, ...spec.baselines];
  const subjectTimes = times[0];
  const contenders: ContenderResult[] = all.map((c, i) => {
    const msPerOp = median(times[i]);
    const result: ContenderResult = {
      name: c.name,
      role: i === 0 ? 'subject' : 'baseline',
      opsPerSlice: counts[i],
      msPerOpByRound: times[i],
      medianMsPerOp: msPerOp,
      opsPerSecond: 1000 / msPerOp,
    };
    if (spec.bytesPerOp !== undefined) result.bytesPerSecond = spec.bytesPerOp / (msPerOp / 1000);
    if (spec.itemsPerOp !== undefined) result.nsPerItem = (msPerOp * 1e6) / spec.itemsPerOp;
    if (i > 0) {
      result.speedupByRound = times[i].map((t, r) => t / subjectTimes[r]);
      result.medianSpeedup = median(result.speedupByRound);
    }
    return result;
  });
  const targets = (spec.targets ?? []).map((t): TargetResult => {
    const measured = contenders.find((c) => c.name === t.baseline)!.medianSpeedup!;
    return { baseline: t.baseline, atLeast: t.atLeast, label: t.label ?? 'target', measured, met: measured >= t.atLeast };
  });
  const result: ComparisonResult = {
    name: spec.name, rounds, sliceMs, contenders, targets,
    bytesPerOp: spec.bytesPerOp, itemsPerOp: spec.itemsPerOp, itemName: spec.itemName,
  };
  console.log(formatTable(result, spec.throughputUnit ?? 'MB/s'));
  return result;
}

export function formatTime(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  if (ms >= 1e-3) return `${(ms * 1e3).toFixed(2)} µs`;
  return `${(ms * 1e6).toFixed(1)} ns`;
}

function formatCount(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

/** A table's lines, indented: the first column left-aligned, the others right-aligned, each as wide as its widest cell. */
export function tableLines(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  return [header, ...rows].map(line);
}

function formatTable(result: ComparisonResult, unit: 'MB/s' | 'GB/s'): string {
  const scale = unit === 'GB/s' ? 1e9 : 1e6;
  const header = ['contender', 'time/op', 'ops/s'];
  if (result.bytesPerOp !== undefined) header.push(unit);
  if (result.itemsPerOp !== undefined) header.push(`ns/${result.itemName ?? 'item'}`);
  header.push('speedup', '(min..max)');
  const rows = result.contenders.map((c) => {
    const row = [c.name, formatTime(c.medianMsPerOp), formatCount(c.opsPerSecond)];
    if (c.bytesPerSecond !== undefined) row.push((c.bytesPerSecond / scale).toFixed(unit === 'GB/s' ? 2 : 1));
    if (c.nsPerItem !== undefined) row.push(c.nsPerItem.toFixed(2));
    if (c.speedupByRound === undefined) {
      row.push('subject', '');
    } else {
      const lo = Math.min(...c.speedupByRound), hi = Math.max(...c.speedupByRound);
      row.push(`${c.medianSpeedup!.toFixed(2)}x`, `(${lo.toFixed(2)}..${hi.toFixed(2)})`);
    }
    return row;
  });
  const out = [
    `${result.name}  [${result.rounds} rounds of ~${result.sliceMs} ms slices, interleaved; speedup = baseline time / subject time, > 1: ours faster]`,
    ...tableLines(header, rows),
  ];
  for (const t of result.targets) {
    out.push(`  ${t.label}: >= ${t.atLeast.toFixed(2)}x vs ${t.baseline}: ${t.met ? 'met' : 'NOT met'} (${t.measured.toFixed(2)}x)`);
  }
  return out.join('\n') + '\n';
}
