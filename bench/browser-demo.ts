// The browser demo end to end (demo/, default settings), in headless Chromium: its first run on an empty OPFS,
// where every step is computed, against a reload, where the steps come from OPFS, as the page reports them.
//
// The demo is built and served by scripts/serve-demo.mjs (as test/browser.test.ts does): its own bundle, its
// strict Content-Security-Policy, 127.0.0.1 on a free port; the server is stopped by pid at the end. Each round
// launches the browser on a fresh profile, so that the first run is really cold.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { DEFAULT_PARAMS, type DiffusionParams } from '../examples/diffusion-model.js';
import type { DemoApi } from '../demo/main.js';
import { startDemoServer } from '../scripts/demo-server.js';
import { formatTime, median, summarize, tableLines, type ComparisonResult } from './_harness.js';

const ROUNDS = 7;
// A run that takes longer than this has hung (the default job takes a few seconds at most).
const RUN_TIMEOUT_MS = 60_000;

/** One load of the demo, as its page reports it. */
export interface DemoLoad {
  /** The job in the worker: opening the cache, the steps and their background writes (RunReport.jobMs). */
  jobMs: number;
  /** Closing the worker's cache after the job (RunReport.closeMs). */
  closeMs: number;
  /** The page's clock from navigation start: the kernels loaded in the worker, and the run's report received. */
  readyMs: number;
  wallMs: number;
  steps: { label: string; source: string; ms: number; stored?: boolean; reason: string }[];
  snapshotsSha256: string;
}

/** The demo's rounds, as bench/run.ts stores them. */
export interface BrowserDemoRecord {
  name: string;
  kind: 'demo';
  params: DiffusionParams;
  rounds: { first: DemoLoad; reload: DemoLoad }[];
}

interface BenchTimes { readyMs?: number; runMs?: number }
declare const window: { daseDemo: DemoApi; daseBenchTimes: BenchTimes };

/**
 * Runs before the page's own scripts: notes on the page's clock (0 at navigation start) when the worker's
 * kernels were ready and when each run's report arrived, by hooking window.daseDemo as main.ts sets it.
 * Plain JS in a string: tsx's output of a function would call its own helpers (__name), absent in the page.
 */
const HOOK_DEMO = String.raw`
  const times = {};
  window.daseBenchTimes = times;
  let api;
  Object.defineProperty(window, 'daseDemo', {
    configurable: true,
    get: () => api,
    set(value) {
      api = value;
      value.ready.then(() => { times.readyMs = performance.now(); }, () => undefined);
      // run() replaces lastRun: each promise it sets is timed from the moment it is set.
      let last = value.lastRun;
      Object.defineProperty(value, 'lastRun', {
        configurable: true, enumerable: true,
        get: () => last,
        set(run) {
          last = run;
          run.then(() => { times.runMs = performance.now(); }, () => undefined);
        },
      });
    },
  });
`;

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The report of the run the page load started. Its promise resolves once the worker has closed its cache,
 * so the run's background writes are on OPFS (and index.json folded) before anything reloads.
 */
async function loadReport(page: Page, what: string): Promise<DemoLoad> {
  return withTimeout(what, page.evaluate(async () => {
    const r = await window.daseDemo.lastRun;
    const { readyMs, runMs } = window.daseBenchTimes;
    return {
      jobMs: r.jobMs, closeMs: r.closeMs, readyMs: readyMs ?? NaN, wallMs: runMs ?? NaN, snapshotsSha256: r.snapshotsSha256,
      steps: r.steps.map(({ label, source, ms, stored, reason }) => ({ label, source, ms, stored, reason })),
    };
  }));
}

/** One round: a fresh profile (empty OPFS), the page's first load, then a reload. */
async function round(url: string, executablePath: string, args: string[]): Promise<{ first: DemoLoad; reload: DemoLoad }> {
  const profile = mkdtempSync(join(tmpdir(), 'dase-cache-bench-demo-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, args });
  const errors: string[] = [];
  try {
    await context.addInitScript({ content: HOOK_DEMO });
    const page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.goto(url);
    const first = await loadReport(page, 'the first run');
    await page.reload();
    const reload = await loadReport(page, 'the reload');
    if (errors.length > 0) throw new Error(`the demo logged errors:\n${errors.join('\n')}`);
    // The comparison means something only if the first run computed everything and the reload loaded the simulation.
    const simulation = (load: DemoLoad) => load.steps.find((s) => s.label === 'simulation');
    if (!first.steps.every((s) => s.source === 'computed') || simulation(first)?.stored !== true) {
      throw new Error(`the demo's first run on a fresh profile did not compute and store every step: ${JSON.stringify(first.steps)}`);
    }
    if (simulation(reload)?.source !== 'disk' || reload.snapshotsSha256 !== first.snapshotsSha256) {
      throw new Error(`the demo's reload did not load the same simulation from OPFS: ${JSON.stringify(reload.steps)}`);
    }
    return { first, reload };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** How each round's loads got a step: one source, or the ones seen. */
function sources(loads: DemoLoad[], label: string): string {
  const seen = new Set(loads.map((l) => l.steps.find((s) => s.label === label)?.source ?? '-'));
  return [...seen].join('/');
}

function printBreakdown(rounds: { first: DemoLoad; reload: DemoLoad }[]): void {
  const firsts = rounds.map((r) => r.first), reloads = rounds.map((r) => r.reload);
  const med = (loads: DemoLoad[], f: (l: DemoLoad) => number) => formatTime(median(loads.map(f)));
  const stepMs = (label: string) => (l: DemoLoad) => l.steps.find((s) => s.label === label)?.ms ?? NaN;
  const rows = firsts[0].steps.map(({ label }) => [
    `  ${label}`, sources(firsts, label), med(firsts, stepMs(label)), sources(reloads, label), med(reloads, stepMs(label)),
  ]);
  // The job outside its steps: making the CacheManager, waiting for the background writes (opening the cache
  // falls in the first step that looks in it).
  const outside = (l: DemoLoad) => l.jobMs - l.steps.reduce((sum, s) => sum + s.ms, 0);
  console.log(`The demo's loads, step by step  [medians of ${rounds.length} rounds; clocks: the worker's for the job, the page's from navigation start]`);
  console.log(tableLines(['', 'first run', 'median', 'reload', 'median'], [
    ['navigation -> kernels ready', '', med(firsts, (l) => l.readyMs), '', med(reloads, (l) => l.readyMs)],
    ['the job (jobMs)', '', med(firsts, (l) => l.jobMs), '', med(reloads, (l) => l.jobMs)],
    ...rows,
    ['  outside the steps', '', med(firsts, outside), '', med(reloads, outside)],
    ['closing the cache', '', med(firsts, (l) => l.closeMs), '', med(reloads, (l) => l.closeMs)],
    ['navigation -> result', '', med(firsts, (l) => l.wallMs), '', med(reloads, (l) => l.wallMs)],
  ]).join('\n') + '\n');
}

/**
 * Runs the demo's rounds and prints its comparisons: the job's time (the target: a reload at least 10x
 * faster) and the wall time from navigation to the result, reload against first run.
 */
export async function benchDemo(executablePath: string, args: string[]): Promise<Array<BrowserDemoRecord | ComparisonResult>> {
  const out = mkdtempSync(join(tmpdir(), 'dase-cache-bench-demo-build-'));
  const { url, stop } = await startDemoServer(out);
  try {
    console.log(`The demo end to end (${url}, default settings: α ${DEFAULT_PARAMS.alpha}, ${DEFAULT_PARAMS.grid}² grid, `
      + `${DEFAULT_PARAMS.steps} steps): ${ROUNDS} rounds, each on a fresh profile (empty OPFS): the first load, then a reload\n`);
    const rounds: { first: DemoLoad; reload: DemoLoad }[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await round(url, executablePath, args));
    printBreakdown(rounds);
    console.log('Below, one load per contender per round (no slices: sliceMs 0); speedup = first run / reload, per round.\n');
    const compareLoads = (name: string, pick: (l: DemoLoad) => number, withTarget: boolean) => summarize({
      name, subject: { name: 'reload (from OPFS)' }, baselines: [{ name: 'first run (empty OPFS)' }],
      targets: withTarget ? [{ baseline: 'first run (empty OPFS)', atLeast: 10, label: 'target' }] : [],
    }, ROUNDS, 0, [1, 1], [rounds.map((r) => pick(r.reload)), rounds.map((r) => pick(r.first))]);
    return [
      compareLoads('browser: the demo end to end, the job (jobMs): reload vs first run', (l) => l.jobMs, true),
      compareLoads('browser: the demo end to end, navigation to result: reload vs first run', (l) => l.wallMs, false),
      { name: 'demo end to end', kind: 'demo', params: { ...DEFAULT_PARAMS }, rounds },
    ];
  } finally {
    await stop();
    rmSync(out, { recursive: true, force: true });
  }
}
