// Runs every benchmark in sequence and saves the results, with the date, the machine and the kernel build,
// as bench/results/<bench>.json and bench/results/latest.json. The browser bench runs where Debian's
// /usr/bin/chromium is installed, and says it was skipped elsewhere.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelInfo } from '../src/node.js';
import type { ComparisonResult } from './_harness.js';
import { benchBrowser, browserBenchSkipped, type BrowserBenchRecord } from './browser.bench.js';
import { benchBudget } from './budget.bench.js';
import { benchBudgetSave } from './budget-save.bench.js';
import { benchBundle, type BundleSize } from './bundle.bench.js';
import { benchCache } from './cache.bench.js';
import { benchCrc32 } from './crc32.bench.js';
import { benchCsr } from './csr.bench.js';
import { benchFractional } from './fractional.bench.js';
import { benchGl } from './gl.bench.js';
import { benchHistory } from './history.bench.js';
import { benchLaplacian } from './laplacian.bench.js';
import { benchMemo } from './memo.bench.js';
import { benchRemote, type DownMissResult } from './remote.bench.js';
import { benchSha256 } from './sha256.bench.js';
import { benchSweep, type SweepBenchResult } from './sweep.bench.js';

// Timed comparisons, and the browser bundle's sizes (which have no baseline to be timed against).
type BenchResult = ComparisonResult | BundleSize | DownMissResult | SweepBenchResult | BrowserBenchRecord;

const BENCHES: Record<string, () => BenchResult[] | Promise<BenchResult[]>> = {
  sha256: benchSha256,
  crc32: benchCrc32,
  gl: benchGl,
  fractional: benchFractional,
  history: benchHistory,
  laplacian: benchLaplacian,
  csr: benchCsr,
  cache: benchCache,
  budget: benchBudget,
  'budget-save': benchBudgetSave,
  memo: benchMemo,
  remote: benchRemote,
  sweep: benchSweep,
  bundle: benchBundle,
  browser: benchBrowser,
};

// Why a bench cannot run on this machine (undefined: it can).
const SKIPPED: Record<string, () => string | undefined> = {
  browser: browserBenchSkipped,
};

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

// Written beside and renamed into place, so an interrupted run never leaves a torn file.
function writeJson(name: string, value: unknown): void {
  const path = join(resultsDir, `${name}.json`);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(value, null, 2) + '\n');
  renameSync(temporary, path);
}

function describeMachine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    // The machine may be shared: the load before the run says how much to trust the figures.
    loadAverage: os.loadavg(),
  };
}

async function main(): Promise<void> {
  // Names on the command line run only those benches (and leave latest.json alone).
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) throw new Error(`bench/run.ts: unknown bench ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  const context = { date: new Date().toISOString(), machine: describeMachine(), kernel: kernelInfo() };
  console.log(`dase-cache benchmarks, ${context.date}`);
  console.log(`${context.machine.cpu}, ${context.machine.cores} cores, node ${context.machine.node}, kernels: ${context.kernel.build} build`);
  console.log('Times are medians over rounds; MB/s and GB/s count 10^6 and 10^9 bytes.\n');
  mkdirSync(resultsDir, { recursive: true });
  const all: Record<string, BenchResult[]> = {};
  for (const [name, bench] of Object.entries(BENCHES)) {
    if (only.length > 0 && !only.includes(name)) continue;
    console.log(`== ${name} ==\n`);
    const skipped = SKIPPED[name]?.();
    if (skipped) {
      console.log(`  skipped: ${skipped}\n`);
      continue;
    }
    all[name] = await bench();
    writeJson(name, { ...context, bench: name, comparisons: all[name] });
  }
  if (only.length === 0) writeJson('latest', { ...context, benches: all });
  const targets = Object.values(all).flat().flatMap((c) => ('targets' in c ? c.targets : []).map((t) => ({ comparison: c.name, ...t })));
  console.log('== targets ==\n');
  for (const t of targets) {
    console.log(`  ${t.met ? 'met    ' : 'NOT met'}  ${t.comparison}: ${t.label} >= ${t.atLeast.toFixed(2)}x vs ${t.baseline} (${t.measured.toFixed(2)}x)`);
  }
}

await main();
