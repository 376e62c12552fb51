// What memoization saves: for each cached kernel and operator at several sizes, the cold time (compute and
// write), the warm time from memory, the warm time from disk in this process and in a fresh one, and what
// policy 'auto' did; then the example simulation, cold against warm, end to end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheManager, cachedKernels, memoryTierOf } from '../src/node.js';
import { compareAsync, formatTime as ms, median, summarize, tableLines, type ComparisonResult } from './_harness.js';
import { memoCases } from './memo-cases.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const FRESH_RUNS = 3;
const EXAMPLE_RUNS = 3;

function fresh(root: string, policy: string): Record<string, { source: string; ms: number }> {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench', 'memo-fresh.ts'), root, policy],
    { cwd: REPO, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`bench/memo-fresh.ts failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!);
}

export async function benchMemo(): Promise<ComparisonResult[]> {
  const base = mkdtempSync(join(tmpdir(), 'dase-memo-bench-'));
  const results: ComparisonResult[] = [];
  const rows: string[][] = [];
  try {
    const always = new CacheManager({ root: join(base, 'always') });
    const auto = new CacheManager({ root: join(base, 'auto') });
    const fromMemory = cachedKernels(always, { policy: 'always' });
    const fromDisk = cachedKernels(always, { policy: 'always', memory: 0 });
    const autoKernels = cachedKernels(auto);
    const cases = memoCases();
    const cold: Record<string, number> = {};
    const autoDid: Record<string, string> = {};
    for (const c of cases) {
      cold[c.name] = (await c.call(fromMemory)).ms; // computed and written
      const first = await c.call(autoKernels);
      autoDid[c.name] = first.stored ? 'stored' : 'memory only';
      const result = await compareAsync({
        name: `memoized ${c.name}: warm from disk vs computing`,
        subject: { name: 'warm, from disk (verified load)', run: () => c.call(fromDisk) },
        baselines: [
          { name: 'compute (no cache)', run: async () => c.compute() },
          { name: 'warm, from memory', run: () => c.call(fromMemory) },
        ],
        rounds: 5,
        sliceMs: 60,
      });
      results.push(result);
    }
    await Promise.all(Object.values(autoKernels).map((k) => k.settled()));
    await always.close();
    await auto.close();
    memoryTierOf(always).clear();

    const freshAlways = Array.from({ length: FRESH_RUNS }, () => fresh(join(base, 'always'), 'always'));
    const freshAuto = Array.from({ length: FRESH_RUNS }, () => fresh(join(base, 'auto'), 'auto'));
    const freshCompute = Array.from({ length: FRESH_RUNS }, () => fresh(join(base, 'auto'), 'compute'));
    for (const [i, c] of cases.entries()) {
      const r = results[i];
      const t = (name: string) => r.contenders.find((x) => x.name === name)!.medianMsPerOp;
      const compute = t('compute (no cache)');
      const disk = t('warm, from disk (verified load)');
      const freshDisk = median(freshAlways.map((run) => run[c.name].ms));
      const autoWarm = freshAuto.map((run) => run[c.name]);
      const autoMs = median(autoWarm.map((x) => x.ms));
      const computeFresh = median(freshCompute.map((run) => run[c.name].ms));
      rows.push([c.name, ms(compute), ms(cold[c.name]), ms(t('warm, from memory')), ms(disk), `${(compute / disk).toFixed(1)}x`,
        ms(computeFresh), ms(freshDisk), `${(computeFresh / freshDisk).toFixed(1)}x`,
        autoDid[c.name], `${autoWarm[0].source} ${ms(autoMs)}`, `${(computeFresh / autoMs).toFixed(2)}x`]);
    }
    const header = ['call', 'compute', 'cold (always)', 'warm, memory', 'warm, disk', 'compute / disk',
      'fresh: compute', 'fresh: disk', 'compute / disk', "'auto' did", "fresh: 'auto'", "compute / 'auto'"];
    console.log('\nspeedup table (medians; in this process, warm JIT: compute, cold, warm from memory, warm from disk; fresh: the first call in a new process, cache opened beforehand)');
    for (const line of tableLines(header, rows)) console.log(line);
    console.log('');

    results.push(...exampleEndToEnd(join(base, 'example')));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  return results;
}

/** `npm start`'s job, cold then warm, several times: the end-to-end speedup of a warm run. */
function exampleEndToEnd(root: string): ComparisonResult[] {
  const build = spawnSync(process.execPath, [join(REPO, 'scripts', 'build-example.mjs')], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building the example failed: ${build.stderr}`);
  const job: number[][] = [[], []];
  const wall: number[][] = [[], []];
  for (let r = 0; r < EXAMPLE_RUNS; r++) {
    const run = spawnSync(process.execPath, [join(REPO, 'build', 'examples', 'fractional-diffusion.mjs'), '--json'],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, DASE_CACHE_DIR: root } });
    if (run.status !== 0) throw new Error(`the example failed: ${run.stderr}`);
    const { cold, warm } = JSON.parse(run.stdout.trim().split('\n').pop()!);
    job[0].push(warm.jobMs);
    job[1].push(cold.jobMs);
    wall[0].push(warm.wallMs);
    wall[1].push(cold.wallMs);
  }
  console.log(`examples/fractional-diffusion.ts (npm start), ${EXAMPLE_RUNS} runs of cold then warm, each in a fresh process`);
  return [
    summarize({
      name: 'npm start, the job (open the cache, get the kernels, simulate, post-process): warm vs cold',
      subject: { name: 'warm run' }, baselines: [{ name: 'cold run' }], targets: [{ baseline: 'cold run', atLeast: 10 }],
    }, EXAMPLE_RUNS, 0, [1, 1], job),
    summarize({
      name: 'npm start, the whole process (Node start included): warm vs cold',
      subject: { name: 'warm run' }, baselines: [{ name: 'cold run' }],
    }, EXAMPLE_RUNS, 0, [1, 1], wall),
  ];
}
