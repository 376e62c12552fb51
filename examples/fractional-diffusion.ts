// Time-fractional diffusion on a 2-D grid (examples/diffusion-model.ts) with its kernels and its result
// memoized in the cache: `npm start` runs it cold (its entries removed first), then warm, each in a fresh
// process, on the default cache root, and prints what was computed, what was loaded, and the time of each.
//
//   npm start                                   # alpha 0.5, 128x128 grid, 2000 steps, history 'fast'
//   npx tsx examples/fractional-diffusion.ts --grid 64 --steps 600   # the example's problem before fractionalHistory
//   ... --alpha 0.7 --dt 0.002 --method direct  # any parameter; 'direct' sums the whole history exactly
//   ... --json                                  # the two runs' reports as JSON, for scripts and benchmarks
//   npm run example -- --long                   # 100,000 steps of 64x64 in this process, uncached: time and memory held

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CacheManager, cachedKernels, kernelInfo } from '../src/node.js';
import {
  DEFAULT_PARAMS, checkParams, diffusionJob, historyPlanOptions, setup, simulateWithStats, type DiffusionParams, type JobStep,
} from './diffusion-model.js';

/** What --long runs unless told otherwise: a run whose 'direct' history would need 3.3 GB. */
const LONG_PARAMS: Readonly<DiffusionParams> = { alpha: 0.5, grid: 64, steps: 100_000, dt: 1e-3 };
const NUMERIC = ['alpha', 'grid', 'steps', 'dt'] as const;
const USAGE = 'options: --alpha, --grid, --steps, --dt, --method fast|direct, --long, --json';

interface Report { mode: 'cold' | 'warm'; root: string; steps: JobStep[]; jobMs: number; centreFinal: number }

function parseParams(argv: string[]): DiffusionParams {
  const params: DiffusionParams = { ...(argv.includes('--long') ? LONG_PARAMS : DEFAULT_PARAMS) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json' || arg === '--long' || arg.startsWith('--job=')) continue;
    const name = arg.replace(/^--/, '');
    if (name === 'method' && arg.startsWith('--')) {
      const method = argv[++i];
      if (method !== 'fast' && method !== 'direct') throw new RangeError(`fractional-diffusion: --method expects fast or direct, got ${method}`);
      params.method = method;
      continue;
    }
    if (!(NUMERIC as readonly string[]).includes(name) || !arg.startsWith('--')) {
      throw new RangeError(`fractional-diffusion: unknown argument ${arg} (${USAGE})`);
    }
    const value = Number(argv[++i]);
    if (!Number.isFinite(value)) throw new RangeError(`fractional-diffusion: --${name} expects a number, got ${argv[i]}`);
    params[name as typeof NUMERIC[number]] = value;
  }
  return checkParams(params);
}

/** One run of the job in this process; cold runs forget the job's entries first. */
async function runJob(mode: 'cold' | 'warm', params: DiffusionParams): Promise<Report> {
  {
    // Cold runs forget the job's entries first; warm runs open the cache once too, so that both time the
    // job in a process that has loaded the same code and compiled the same WASM.
    const cache = new CacheManager();
    if (mode === 'cold') await diffusionJob(cache, params).forget();
    else await cache.listKeys('state_profiles');
    await cache.close();
    kernelInfo(); // the WASM module, instantiated before the clock starts in both runs
  }
  // Everything from here on is the job, cold or warm: opening the cache, instantiating the kernels, the calls.
  const started = performance.now();
  const cache = new CacheManager();
  const { steps, centreDerivative } = await diffusionJob(cache, params).run();
  const jobMs = performance.now() - started;
  await cache.close();
  return { mode, root: cache.root, steps, jobMs, centreFinal: centreDerivative[centreDerivative.length - 1] };
}

function describeSource(step: Pick<JobStep, 'source' | 'stored'>): string {
  if (step.source !== 'computed') return `loaded (${step.source})`;
  return step.stored ? 'computed, stored' : 'computed, kept off disk';
}

function ms(x: number): string {
  return x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${(x * 1000).toFixed(0)} µs`;
}

function describeParams({ alpha, grid, steps, dt, method = 'fast' }: DiffusionParams): string {
  return `alpha ${alpha}, ${grid}x${grid} grid, ${steps} steps of ${dt}, history '${method}'`;
}

function bytes(x: number): string {
  return x >= 1e9 ? `${(x / 1e9).toFixed(2)} GB` : x >= 1e6 ? `${(x / 1e6).toFixed(1)} MB` : `${(x / 1e3).toFixed(1)} kB`;
}

/**
 * --long: one long simulation in this process, not memoized (what it shows is the memory the history holds,
 * not the cache), its kernels through the cache as in the job.
 */
async function longRun(params: DiffusionParams): Promise<void> {
  const { alpha, grid, steps, dt, method = 'fast' } = params;
  console.log(`dase-cache example, long run: time-fractional diffusion, ${describeParams(params)}\n`);
  const cache = new CacheManager();
  const kernels = cachedKernels(cache);
  const kernel = await kernels.fractionalKernel.withInfo(alpha, dt, steps + 1);
  const lap = await kernels.laplacian.withInfo([grid, grid], { spacing: setup(params).h });
  const plan = method === 'fast' ? await kernels.historyPlan.withInfo(historyPlanOptions(params)) : undefined;
  const row = (label: string, source: string, time: string) => console.log(`${label.padEnd(18)}  ${source.padEnd(24)}  ${time.padStart(8)}`);
  for (const [label, call] of [['fractional kernel', kernel], ['Laplacian (CSR)', lap], ['history plan', plan]] as const) {
    if (call) row(label, describeSource(call), ms(call.ms));
  }
  const started = performance.now();
  let run: ReturnType<typeof simulateWithStats>;
  try {
    run = simulateWithStats(params, { kernel: kernel.value, lap: lap.value, plan: plan?.value });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    console.error(`\nthe simulation stopped: ${error.message}`);
    process.exitCode = 1;
    await cache.close();
    return;
  }
  const elapsed = performance.now() - started;
  await cache.close();
  const every = grid * grid * 8 * steps;
  const shape = plan ? ` (a window of ${plan.value.window} states and ${plan.value.lambdas.length} sums of exponentials)` : ' (every state)';
  row('simulation', 'computed, not memoized', ms(elapsed));
  console.log(`\n${steps} steps in ${(elapsed / 1000).toFixed(2)} s: ${((elapsed * 1000) / steps).toFixed(0)} µs a step`);
  console.log(`history held: ${bytes(run.historyBytes)} of WebAssembly memory${shape}; every state would be ${steps} x ${grid}² x 8 B = ${bytes(every)}`);
  console.log(`u at the centre, last step: ${run.result.centre[steps].toPrecision(6)}`);
}

/** Runs the job cold, then warm, each in a fresh process, and prints the table. */
function main(): void {
  const params = parseParams(process.argv.slice(2));
  const runs: { report: Report; wallMs: number }[] = [];
  for (const mode of ['cold', 'warm'] as const) {
    const started = performance.now();
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--job=${mode}`, ...process.argv.slice(2)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const wallMs = performance.now() - started;
    if (child.status !== 0) throw new Error(`fractional-diffusion: the ${mode} run failed (exit ${child.status})`);
    runs.push({ report: JSON.parse(child.stdout.trim().split('\n').pop()!) as Report, wallMs });
  }
  const [cold, warm] = runs;
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ cold: { ...cold.report, wallMs: cold.wallMs }, warm: { ...warm.report, wallMs: warm.wallMs } }));
    return;
  }
  console.log(`dase-cache example: time-fractional diffusion, ${describeParams(params)}\n`);
  const rows = cold.report.steps.map((step, i) => {
    const w = warm.report.steps[i];
    const speedup = w.source === 'computed' ? '' : `${(step.ms / w.ms).toFixed(1)}x`;
    return [step.label, step.key, describeSource(step), ms(step.ms), describeSource(w), ms(w.ms), speedup];
  });
  rows.push(['end to end (the job)', '', '', ms(cold.report.jobMs), '', ms(warm.report.jobMs), `${(cold.report.jobMs / warm.report.jobMs).toFixed(1)}x`]);
  rows.push(['end to end (the process)', '', '', ms(cold.wallMs), '', ms(warm.wallMs), `${(cold.wallMs / warm.wallMs).toFixed(1)}x`]);
  const header = ['step', 'cache key', 'cold', '', 'warm', '', 'speedup'];
  const widths = header.map((_, c) => Math.max(header[c].length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c >= 3 && c !== 4 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const same = cold.report.centreFinal === warm.report.centreFinal;
  console.log(`\nD^alpha u at the centre, last step: ${cold.report.centreFinal.toPrecision(6)} (warm run: ${same ? 'identical' : warm.report.centreFinal.toPrecision(6)})`);
  console.log(`cache: ${cold.report.root} (set DASE_CACHE_DIR to move it; \`npx dase-cache stats\` to look inside)`);
}

const job = process.argv.find((a) => a.startsWith('--job='))?.slice(6);
if (job === 'cold' || job === 'warm') {
  const report = await runJob(job, parseParams(process.argv.slice(2)));
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else if (process.argv.includes('--long')) {
  await longRun(parseParams(process.argv.slice(2)));
} else {
  main();
}
