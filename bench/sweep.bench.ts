// The parameter sweep of examples/sweep.ts (16 fractional diffusion jobs over a BullMQ queue, a Redis remote
// shared by the workers) on 1, 2 and 4 worker processes: its wall time, what was computed and what the workers
// took from each other through the remote. Each run starts its own redis-server (a fresh remote) and its
// workers on fresh local caches; the configurations are interleaved, run after run, and the median is kept.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { runSweep, type SweepReport } from '../examples/sweep.js';
import { formatTime, median, tableLines } from './_harness.js';

const WORKERS = [1, 2, 4];
const RUNS = 3;

/** One configuration of the sweep, as bench/run.ts stores it. */
export interface SweepBenchResult {
  name: string;
  workers: number;
  /** Per run: queueing to the last result (worker start-up excluded), and the median. */
  wallMsByRun: number[];
  medianWallMs: number;
  /** Starting the workers (tsx, WASM, connections), median. */
  medianStartupMs: number;
  jobs: number;
  /** Memoized calls computed, and saved by source (medians over the runs). */
  computed: number;
  savedRemote: number;
  savedDisk: number;
  savedMemory: number;
  /** The 1-worker median wall time over this one's. */
  speedup: number;
}

/** Runs the sweep with 1, 2 and 4 workers, RUNS times each, interleaved, and prints the table. */
export async function benchSweep(): Promise<SweepBenchResult[]> {
  const base = mkdtempSync(join(os.tmpdir(), 'dase-sweep-bench-'));
  const reports = new Map<number, SweepReport[]>(WORKERS.map((w) => [w, []]));
  try {
    for (let run = 0; run < RUNS; run++) {
      // Rotated, so that no configuration always runs first (or right after the heaviest one).
      for (let i = 0; i < WORKERS.length; i++) {
        const workers = WORKERS[(run + i) % WORKERS.length];
        const root = join(base, `run-${run}-workers-${workers}`);
        reports.get(workers)!.push(await runSweep({ workers, root, quiet: true }));
        rmSync(root, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  const results: SweepBenchResult[] = WORKERS.map((workers) => {
    const runs = reports.get(workers)!;
    const wallMsByRun = runs.map((r) => r.wallMs);
    return {
      name: `sweep, ${workers} worker${workers > 1 ? 's' : ''}`,
      workers, wallMsByRun, medianWallMs: median(wallMsByRun), medianStartupMs: median(runs.map((r) => r.startupMs)),
      jobs: runs[0].jobs,
      computed: median(runs.map((r) => r.computed)),
      savedRemote: median(runs.map((r) => r.saved.remote)),
      savedDisk: median(runs.map((r) => r.saved.disk)),
      savedMemory: median(runs.map((r) => r.saved.memory)),
      speedup: 0,
    };
  });
  for (const r of results) r.speedup = results[0].medianWallMs / r.medianWallMs;
  const { alphas, grids, steps } = reports.get(1)![0].params;
  console.log(`parameter sweep (examples/sweep.ts): ${results[0].jobs} jobs, alpha ${alphas.join(',')} x grid ${grids.join(',')} x steps ${steps.join(',')}, `
    + `median of ${RUNS} runs each, interleaved; ${os.cpus().length} cores`);
  const rows = results.map((r) => [
    String(r.workers), formatTime(r.medianWallMs), `(${r.wallMsByRun.map((ms) => (ms / 1000).toFixed(2)).join(', ')})`, formatTime(r.medianStartupMs),
    String(r.jobs), String(r.computed), String(r.savedRemote), String(r.savedMemory), `${r.speedup.toFixed(2)}x`,
  ]);
  console.log(tableLines(['workers', 'wall time', '(runs, s)', 'start-up', 'jobs', 'computed', 'saved by remote', 'by memory', 'speedup'], rows).join('\n'));
  console.log('  wall time: first job queued to last result, worker start-up apart; speedup: 1 worker\'s wall time over this one\'s\n');
  return results;
}
