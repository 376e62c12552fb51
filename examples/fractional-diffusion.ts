// Time-fractional diffusion on a 2-D grid (examples/diffusion-model.ts) with its kernels and its result
// memoized in the cache: `npm start` runs it cold (its entries removed first), then warm, each in a fresh
// process, on the default cache root, and prints what was computed, what was loaded, and the time of each.
//
//   npm start                                   # alpha 0.5, 64x64 grid, 600 steps
//   npx tsx examples/fractional-diffusion.ts --alpha 0.7 --grid 96 --steps 600
//   ... --json                                  # the two runs' reports as JSON, for scripts and benchmarks

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CacheManager, kernelInfo } from '../src/node.js';
import { DEFAULT_PARAMS, checkParams, diffusionJob, type DiffusionParams, type JobStep } from './diffusion-model.js';

interface Report { mode: 'cold' | 'warm'; root: string; steps: JobStep[]; jobMs: number; centreFinal: number }

function parseParams(argv: string[]): DiffusionParams {
  const params: DiffusionParams = { ...DEFAULT_PARAMS };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json' || argv[i].startsWith('--job=')) continue;
    const name = argv[i].replace(/^--/, '') as keyof DiffusionParams;
    if (!(name in params) || !argv[i].startsWith('--')) {
      throw new RangeError(`fractional-diffusion: unknown argument ${argv[i]} (options: --alpha, --grid, --steps, --dt, --json)`);
    }
    const value = Number(argv[++i]);
    if (!Number.isFinite(value)) throw new RangeError(`fractional-diffusion: --${name} expects a number, got ${argv[i]}`);
    params[name] = value;
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

function describeSource(step: JobStep): string {
  if (step.source !== 'computed') return `loaded (${step.source})`;
  return step.stored ? 'computed, stored' : 'computed, kept off disk';
}

function ms(x: number): string {
  return x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${(x * 1000).toFixed(0)} µs`;
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
  const { alpha, grid, steps, dt } = params;
  console.log(`dase-cache example: time-fractional diffusion, alpha ${alpha}, ${grid}x${grid} grid, ${steps} steps of ${dt}\n`);
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
} else {
  main();
}
