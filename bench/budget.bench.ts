// The byte budget's eviction policies on a replayed trace: how much compute time each one saves when the cache
// holds 10%, 20% or 30% of the working set, and what the policy itself costs per operation.
//
// The traces are synthetic and seeded: a few thousand keys with Zipf popularity, compute costs log-uniform in
// [1 ms, 1 s] and sizes log-uniform in [1 KiB, 8 MiB], drawn independently (a costly result is not
// necessarily a large one); a few catalogues of keys, each at a few skews. A miss "computes" (its compute_ms is
// spent) and is saved, evicting to fit; a hit saves its compute_ms. Nothing is timed in the replay, so the saved
// times, hit ratios and ratios are the same on every run and every machine; only the µs per operation at the
// end depend on the machine.

import { EvictionQueue, type EvictionPolicyName } from '../src/budget/eviction-policy.js';
import { mulberry32 } from '../test/fixtures/util.js';
import { compare, median, summarize, tableLines, type ComparisonResult } from './_harness.js';

const KEYS = 4000;
const REQUESTS = 80_000;
const BUDGETS = [0.1, 0.2, 0.3];
const POLICIES: EvictionPolicyName[] = ['gdsf', 'lru', 'lfu'];
// Each catalogue (sizes and costs of the keys) is replayed at each skew: these traces are the comparisons'
// "rounds", so that min..max shows how much the figures depend on the draw and on the popularity.
const CATALOGUES = 3;
const SKEWS = [0.8, 0.9, 1.0, 1.1];
// The trace whose figures are shown in full: the first catalogue at s = 0.9.
const MAIN_SKEW = 0.9;
const CATEGORY = 'bench';
const KiB = 1024;
const MiB = 1024 * KiB;

interface Trace {
  label: string;
  skew: number;
  sizes: Float64Array;
  costsMs: Float64Array;
  /** Key index per request. */
  requests: Uint32Array;
  workingSetBytes: number;
}

/** What one policy did on one trace and budget. */
export interface ReplayFigures {
  savedMs: number;
  spentMs: number;
  hitRatio: number;
  byteHitRatio: number;
  evictions: number;
}

/** One budget's comparison, with the figures behind it. */
export interface BudgetComparison extends ComparisonResult {
  budgetFraction: number;
  /** How the harness's "times" are to be read here. */
  measure: string;
  /** The traces, in round order: catalogue and skew. */
  traces: string[];
  /** Per policy, on the main trace (the first catalogue at MAIN_SKEW). */
  figures: Record<EvictionPolicyName, ReplayFigures>;
  /** Per policy and trace, compute saved by hits (ms). */
  savedMsByTrace: Record<EvictionPolicyName, number[]>;
  /** Per policy and trace, compute spent on misses (ms). */
  spentMsByTrace: Record<EvictionPolicyName, number[]>;
  /** What an unbounded cache would save (every request but the first of each key), per trace. */
  unboundedSavedMsByTrace: number[];
  /**
   * Per trace, the highest ratio over lru that any policy could reach: the unbounded cache's savings over lru's.
   * Where lru already saves most of what can be saved, a target on the ratio of savings cannot be met.
   */
  ceilingVsLruByTrace: number[];
}

const logUniform = (random: () => number, lo: number, hi: number) => Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)));

function makeTrace(catalogue: number, skew: number): Trace {
  // The catalogue's own seed, so that its keys are the same at every skew.
  const draw = mulberry32(0xb0d6e7 + catalogue);
  const sizes = new Float64Array(KEYS);
  const costsMs = new Float64Array(KEYS);
  for (let k = 0; k < KEYS; k++) {
    sizes[k] = Math.round(logUniform(draw, KiB, 8 * MiB));
    costsMs[k] = logUniform(draw, 1, 1000);
  }
  // Key k is the (k+1)-th most popular; sizes and costs were drawn independently of k.
  const cdf = new Float64Array(KEYS);
  let sum = 0;
  for (let k = 0; k < KEYS; k++) cdf[k] = sum += (k + 1) ** -skew;
  const random = mulberry32(0x7ace + 100 * catalogue + Math.round(10 * skew));
  const requests = new Uint32Array(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) {
    const u = random() * sum;
    let lo = 0, hi = KEYS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    requests[i] = lo;
  }
  return { label: `catalogue ${catalogue + 1}, s=${skew}`, skew, sizes, costsMs, requests, workingSetBytes: sizes.reduce((n, x) => n + x, 0) };
}

const names = Array.from({ length: KEYS }, (_, k) => `k${k}`);

/** Replays a trace against a cache of `budgetBytes` kept by `policy`; request i happens at i ms. */
function replay(trace: Trace, policy: EvictionPolicyName, budgetBytes: number): ReplayFigures {
  const queue = new EvictionQueue({ policy });
  let savedMs = 0, spentMs = 0, hits = 0, hitBytes = 0, requestedBytes = 0, evictions = 0;
  for (let i = 0; i < trace.requests.length; i++) {
    const k = trace.requests[i];
    const size = trace.sizes[k], cost = trace.costsMs[k];
    requestedBytes += size;
    if (queue.hit(CATEGORY, names[k], i)) {
      hits++;
      hitBytes += size;
      savedMs += cost;
      continue;
    }
    spentMs += cost;
    // A result larger than the whole budget is computed and not kept. Room is made before the insert, so a new
    // entry is never its own victim (lfu would otherwise turn every newcomer away: it has the fewest uses).
    if (size > budgetBytes) continue;
    evictions += queue.evictUntil(queue.totalBytes + size - budgetBytes).victims.length;
    queue.insert({ category: CATEGORY, key: names[k], sizeBytes: size, accessCount: 0, lastAccessedMs: i, createdMs: i, computeMs: cost });
  }
  return { savedMs, spentMs, hitRatio: hits / trace.requests.length, byteHitRatio: hitBytes / requestedBytes, evictions };
}

function unboundedSavedMs(trace: Trace): number {
  const seen = new Uint8Array(KEYS);
  let saved = 0;
  for (const k of trace.requests) {
    if (seen[k]) saved += trace.costsMs[k];
    seen[k] = 1;
  }
  return saved;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/** What the policy costs per operation at steady state (a miss: evict to fit, then insert; a hit), in this process. */
function timePolicies(trace: Trace, budgetFraction: number): ComparisonResult[] {
  const budget = trace.workingSetBytes * budgetFraction;
  // Fresh keys each time, sizes and costs from the trace's draws: the queue stays full, every insert evicts.
  const missFor = (policy: EvictionPolicyName) => {
    const queue = new EvictionQueue({ policy });
    let n = 0;
    return () => {
      const k = n % KEYS;
      const size = trace.sizes[k];
      queue.evictUntil(queue.totalBytes + size - budget);
      queue.insert({ category: CATEGORY, key: `n${n}`, sizeBytes: size, accessCount: 0, lastAccessedMs: n, createdMs: n, computeMs: trace.costsMs[k] });
      return n++;
    };
  };
  const hitFor = (policy: EvictionPolicyName) => {
    const queue = new EvictionQueue({ policy });
    for (let k = 0; k < KEYS; k++) {
      queue.insert({ category: CATEGORY, key: names[k], sizeBytes: trace.sizes[k], accessCount: 0, lastAccessedMs: 0, createdMs: 0, computeMs: trace.costsMs[k] });
    }
    let n = 0;
    return () => queue.hit(CATEGORY, names[trace.requests[n++ % REQUESTS]], n);
  };
  const timing = { rounds: 5, sliceMs: 40, warmupMs: 150 };
  return [
    compare({
      name: `policy cost: a miss at steady state (evict to fit ${percent(budgetFraction)} of the working set, then insert)`,
      subject: { name: 'gdsf', run: missFor('gdsf') }, baselines: [{ name: 'lru', run: missFor('lru') }, { name: 'lfu', run: missFor('lfu') }],
      ...timing,
    }),
    compare({
      name: `policy cost: a hit (${KEYS} entries, Zipf s=${trace.skew} keys)`,
      subject: { name: 'gdsf', run: hitFor('gdsf') }, baselines: [{ name: 'lru', run: hitFor('lru') }, { name: 'lfu', run: hitFor('lfu') }],
      ...timing,
    }),
  ];
}

const spread = (values: number[]) => `${median(values).toFixed(2)}x (${Math.min(...values).toFixed(2)}..${Math.max(...values).toFixed(2)})`;

/** Replays the traces against each budget and policy, prints the tables, and times the policies. */
export function benchBudget(): ComparisonResult[] {
  const traces = Array.from({ length: CATALOGUES }, (_, c) => SKEWS.map((skew) => makeTrace(c, skew))).flat();
  const mainIndex = SKEWS.indexOf(MAIN_SKEW);
  const main = traces[mainIndex];
  console.log(`traces: ${KEYS} keys, ${REQUESTS} requests each; compute log-uniform 1 ms..1 s and size log-uniform 1 KiB..8 MiB, `
    + `independent; ${CATALOGUES} catalogues of keys x Zipf popularity s = ${SKEWS.join(', ')} = ${traces.length} traces `
    + `(the rounds below); working set ${(main.workingSetBytes / 2 ** 30).toFixed(2)} GiB (${main.label}). Deterministic: nothing here is timed.\n`);
  const unbounded = traces.map(unboundedSavedMs);
  const results: ComparisonResult[] = [];
  const rows: string[][] = [];
  for (const fraction of BUDGETS) {
    const byTrace = traces.map((trace) => Object.fromEntries(POLICIES.map((p) => [p, replay(trace, p, trace.workingSetBytes * fraction)])) as Record<EvictionPolicyName, ReplayFigures>);
    const figures = byTrace[mainIndex];
    for (const p of POLICIES) {
      const f = figures[p];
      const vs = (x: number) => (p === 'gdsf' ? '' : `${x.toFixed(2)}x`);
      rows.push([percent(fraction), p, seconds(f.savedMs), percent(f.savedMs / unbounded[mainIndex]), seconds(f.spentMs),
        percent(f.hitRatio), percent(f.byteHitRatio), String(f.evictions),
        vs(figures.gdsf.savedMs / f.savedMs), vs(f.spentMs / figures.gdsf.spentMs), vs(unbounded[mainIndex] / f.savedMs)]);
    }
    const perPolicy = (pick: (f: ReplayFigures) => number) => Object.fromEntries(POLICIES.map((p) => [p, byTrace.map((t) => pick(t[p]))])) as Record<EvictionPolicyName, number[]>;
    const savedMsByTrace = perPolicy((f) => f.savedMs);
    const spentMsByTrace = perPolicy((f) => f.spentMs);
    const comparison: BudgetComparison = {
      ...summarize({
        name: `budget ${percent(fraction)} of the working set: compute time saved, gdsf vs lru and lfu`,
        subject: { name: 'gdsf' }, baselines: [{ name: 'lru' }, { name: 'lfu' }],
        targets: [{ baseline: 'lru', atLeast: 1.3, label: 'saves' }],
      // summarize wants times, smaller better: 1 / (seconds saved) makes its speedup gdsf's savings over the baseline's.
      }, traces.length, 0, [1, 1, 1], POLICIES.map((p) => savedMsByTrace[p].map((ms) => 1000 / ms))),
      budgetFraction: fraction,
      measure: 'times are 1 / (compute seconds saved), one round per trace: speedup = saved by gdsf / saved by the baseline',
      traces: traces.map((t) => t.label),
      figures, savedMsByTrace, spentMsByTrace, unboundedSavedMsByTrace: unbounded,
      ceilingVsLruByTrace: unbounded.map((ms, t) => ms / savedMsByTrace.lru[t]),
    };
    console.log(`  the most any policy could save over lru (an unbounded cache's savings / lru's): ${spread(comparison.ceilingVsLruByTrace)}`);
    console.log(`  compute spent on misses, lru / gdsf: ${spread(spentMsByTrace.lru.map((ms, t) => ms / spentMsByTrace.gdsf[t]))}; `
      + `lfu / gdsf: ${spread(spentMsByTrace.lfu.map((ms, t) => ms / spentMsByTrace.gdsf[t]))}\n`);
    results.push(comparison);
  }
  console.log(`(above: 'time/op' is 1 / compute seconds saved, one round per trace; speedup = saved by gdsf / saved by the baseline; `
    + 'ratios are medians over the traces, (min..max))\n');
  console.log(`${main.label}: what each policy saved (an unbounded cache would save ${seconds(unbounded[mainIndex])})`);
  console.log(tableLines(['budget', 'policy', 'compute saved', 'of unbounded', 'compute spent', 'hit ratio', 'byte hit ratio', 'evictions',
    'gdsf saves', 'spends vs gdsf', 'ceiling'], rows).join('\n'));
  console.log('  gdsf saves: gdsf\'s compute saved / this policy\'s; spends vs gdsf: this policy\'s compute spent on misses / gdsf\'s; '
    + 'ceiling: the most any policy could save / this policy\'s (an unbounded cache\'s savings)\n');
  results.push(...timePolicies(main, 0.2));
  console.log('(a cache save writes and renames a file: hundreds of µs at least, see the cache bench)\n');
  return results;
}
