// A parameter sweep of the time-fractional diffusion (examples/diffusion-model.ts) fanned over worker processes
// through a BullMQ queue: each worker has a local cache of its own and one Redis remote shared by all, so a
// kernel, a Laplacian or a whole simulation is computed once and downloaded by the others. See "Sharing a cache between machines" in the README.
//
//   npm run sweep -- --workers 2                 # 16 jobs on 2 workers, with a redis-server started for the run
//   npm run sweep -- --workers 2 --repeat 2      # then again on cleared local caches: everything from the remote
//   npm run sweep -- --alphas 0.5,0.9 --grids 64 --steps 800 --json
//   SWEEP_REDIS=redis://q:6379/1 DASE_CACHE_REMOTE=redis://c:6379/0 npm run sweep -- --role worker --workers 2
//
// `runSweep` is the same sweep as a function, for the benchmark (bench/sweep.bench.ts) and the test.

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { MemoPolicy, RemoteStats } from '../src/node.js';
import { redactUrl } from '../src/remote/redact.js';
import { startRedis, type RedisServer } from '../scripts/local-servers.js';
import { checkParams, type DiffusionParams, type JobStep } from './diffusion-model.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const WORKER_FILE = fileURLToPath(new URL('./sweep-worker.ts', import.meta.url));

export const SWEEP_DEFAULTS = {
  alphas: [0.3, 0.5, 0.7, 0.9],
  grids: [64, 96],
  steps: [1000, 2000],
  dt: 1e-3,
  workers: 2,
  repeat: 1,
  root: './cache/sweep',
  queue: 'dase-sweep',
  prefix: 'dase-sweep:',
  policy: 'always' as MemoPolicy,
  timeoutMs: 10 * 60_000,
} as const;

// tsx, the WASM compile and two Redis connections: a worker is ready within seconds, even on a busy machine.
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const CLOSE_TIMEOUT_MS = 5_000;
// After Ctrl-C: how long the workers and the connections get before they are dropped.
const HURRY_MS = 2_000;
const STDERR_TAIL = 4096;

export type SweepRole = 'all' | 'producer' | 'worker';

/** What a job of the queue carries: everything a worker on any machine needs to run it. */
export interface SweepJobData extends DiffusionParams {
  round: number;
  /** Its place in the sweep (0-based), the same in every round. */
  index: number;
  policy: MemoPolicy;
  /** Return the centre's history (for checks); off by default, it is `steps + 1` numbers. */
  traces: boolean;
}

/** One finished job, as its worker returned it. */
export interface SweepRow {
  id: string;
  round: number;
  index: number;
  params: DiffusionParams;
  /** `worker-<i>` on `host`. */
  worker: string;
  host: string;
  pid: number;
  /** The memoized steps (kernel, Laplacian, history plan, simulation, D^alpha of the centre): each one's `source` is memoize's. */
  calls: JobStep[];
  jobMs: number;
  /** How long the job waited in the queue. */
  queuedMs: number;
  centreFinal: number;
  centre?: number[];
}

export interface SweepTotals {
  jobs: number;
  /** Memoized calls in all (5 per job). */
  calls: number;
  computed: number;
  /** Calls that did not compute: from the remote, the local disk, or the worker's memory. */
  saved: { remote: number; disk: number; memory: number; total: number };
  /** Time spent in jobs (the sum over jobs). */
  busyMs: number;
}

export interface SweepRoundReport extends SweepTotals {
  round: number;
  /** From the first job queued to the last one finished. */
  wallMs: number;
}

export interface SweepWorkerReport extends SweepTotals {
  /** The remote's counts in that worker (when it was one of ours and stopped cleanly). */
  remote?: Pick<RemoteStats, 'hits' | 'misses' | 'uploads' | 'errors' | 'timeouts' | 'rejected' | 'leases'>;
}

export interface SweepReport extends SweepTotals {
  role: 'all' | 'producer';
  workers: number;
  params: { alphas: number[]; grids: number[]; steps: number[]; dt: number };
  policy: MemoPolicy;
  repeat: number;
  queue: { url: string; name: string };
  cache: { url: string; prefix: string };
  /** Whether this run started its own redis-server (and stopped it). */
  startedRedis: boolean;
  /** Sum of the rounds' wall times: queueing to the last result, worker start-up excluded. */
  wallMs: number;
  /** Starting the workers (tsx, WASM, connections), all rounds. */
  startupMs: number;
  /** The whole call, server start and shutdown included. */
  elapsedMs: number;
  rounds: SweepRoundReport[];
  perWorker: Record<string, SweepWorkerReport>;
  rows: SweepRow[];
}

export interface SweepOptions {
  /** Worker processes started here (role 'all'); default 2. */
  workers?: number;
  alphas?: number[];
  grids?: number[];
  steps?: number[];
  dt?: number;
  /** Rounds: each on freshly started workers, their local caches cleared first unless `keep`; default 1. */
  repeat?: number;
  /** The folder of the workers' local caches, `<root>/worker-<i>`; default ./cache/sweep. */
  root?: string;
  keep?: boolean;
  /** 'all' (default): queue, start the workers, wait, report; 'producer': queue and wait for other machines' workers. */
  role?: 'all' | 'producer';
  /** A Redis server for both, when neither URL is given: the cache in database 0, the queue in database 1. */
  redisUrl?: string;
  /** The cache's remote (any URL CacheManager takes); without it (and without redisUrl) a redis-server is started. */
  cacheUrl?: string;
  /** The queue's Redis; it must not evict keys (maxmemory-policy noeviction). */
  queueUrl?: string;
  /** Namespace of the cache on the remote; default 'dase-sweep:'. */
  prefix?: string;
  /** The BullMQ queue's name; default 'dase-sweep'. */
  queue?: string;
  /** memoize's policy in the workers; default 'always' (even cheap kernels are stored, so shared). */
  policy?: MemoPolicy;
  /** Return each simulation's centre history in its row. */
  traces?: boolean;
  /** How long a round may take (ms); default 10 minutes. */
  timeoutMs?: number;
  /** Print nothing (the report is returned either way). */
  quiet?: boolean;
  /** Called with each job as it finishes. */
  onJob?: (row: SweepRow) => void;
  signal?: AbortSignal;
}

/** Messages from a worker process to sweep.ts. */
export type WorkerMessage =
  | { type: 'ready'; worker: string; pid: number }
  | { type: 'job'; row: SweepRow }
  | { type: 'stats'; worker: string; remote?: RemoteStats };

/** Messages from sweep.ts to a worker process. */
export type ParentMessage = { type: 'stop' };

/** A sweep that cannot start or did not finish; `code` says why. */
export class SweepError extends Error {
  constructor(readonly code: 'ENOREDIS' | 'ENOQUEUE' | 'EWORKER' | 'EJOB' | 'ETIMEDOUT', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SweepError';
  }
}

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Whether redis-server can be started here (on PATH, or in the sbin folders a user's PATH may lack). */
export function redisServerInstalled(): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin'];
  return dirs.filter(Boolean).some((dir) => existsSync(join(dir, 'redis-server')));
}

/** A server URL with its database set (`redis://host:port` + 1 -> `redis://host:port/1`). */
function withDatabase(url: string, db: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.href;
}

/** The jobs of one round, ordered so that jobs sharing a fractional kernel are queued next to each other. */
function sweepJobs(o: Required<Pick<SweepOptions, 'alphas' | 'grids' | 'steps' | 'dt' | 'policy' | 'traces'>>, round: number): SweepJobData[] {
  const jobs: SweepJobData[] = [];
  for (const alpha of o.alphas) {
    for (const steps of o.steps) {
      for (const grid of o.grids) {
        checkParams({ alpha, grid, steps, dt: o.dt });
        jobs.push({ alpha, grid, steps, dt: o.dt, round, index: jobs.length, policy: o.policy, traces: o.traces });
      }
    }
  }
  return jobs;
}

function emptyTotals(): SweepTotals {
  return { jobs: 0, calls: 0, computed: 0, saved: { remote: 0, disk: 0, memory: 0, total: 0 }, busyMs: 0 };
}

function addRow(totals: SweepTotals, row: SweepRow): void {
  totals.jobs++;
  totals.busyMs += row.jobMs;
  for (const call of row.calls) {
    totals.calls++;
    if (call.source === 'computed') totals.computed++;
    else {
      totals.saved[call.source]++;
      totals.saved.total++;
    }
  }
}

/** A worker's name in reports: `worker-<i>`, with its host when that is not this machine. */
const workerName = (row: { worker: string; host: string }) => (row.host === hostname() ? row.worker : `${row.host}/${row.worker}`);

/** Worker processes on this machine, each a BullMQ worker on its own local cache. */
interface WorkerPool {
  /** Rejects when a worker exits before it was asked to stop. */
  died: Promise<never>;
  /** Asks each worker to finish its job and exit (SIGKILL after `graceMs`); resolves with their remote counts. */
  stop(graceMs?: number): Promise<Record<string, RemoteStats | undefined>>;
}

interface PoolOptions {
  workers: number;
  root: string;
  keep: boolean;
  queueUrl: string;
  cacheUrl: string | undefined;
  queue: string;
  prefix: string;
  /** Forward the workers' stderr (warnings) to ours. */
  forwardStderr: boolean;
  onRow?: (row: SweepRow) => void;
  signal?: AbortSignal;
}

/**
 * Starts `workers` processes of sweep-worker.ts, each on `<root>/worker-<i>` (cleared first unless `keep`), and
 * waits until each consumes the queue.
 * @throws {SweepError} 'EWORKER' when one exits or is not ready within a minute (the others are stopped).
 */
async function startPool(o: PoolOptions): Promise<WorkerPool> {
  const children: ChildProcess[] = [];
  const stats: Record<string, RemoteStats | undefined> = {};
  const tails = new Map<ChildProcess, string>();
  let stopping = false;
  let fail!: (error: Error) => void;
  const died = new Promise<never>((_, reject) => { fail = reject; });
  died.catch(() => undefined); // read by whoever races it; a pool stopped cleanly never rejects
  const ready: Promise<void>[] = [];
  for (let i = 0; i < o.workers; i++) {
    const root = join(o.root, `worker-${i}`);
    if (!o.keep) rmSync(root, { recursive: true, force: true });
    const child = fork(WORKER_FILE, ['--index', String(i), '--root', root, '--queue', o.queue, '--prefix', o.prefix], {
      cwd: REPO,
      execArgv: WORKER_FILE.endsWith('.ts') ? ['--import', 'tsx'] : [],
      // URLs through the environment: credentials do not belong in a command line.
      env: { ...process.env, SWEEP_REDIS: o.queueUrl, DASE_CACHE_REMOTE: o.cacheUrl ?? '' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    children.push(child);
    tails.set(child, '');
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      tails.set(child, (tails.get(child)! + chunk).slice(-STDERR_TAIL));
      if (o.forwardStderr) process.stderr.write(chunk.replace(/^(?=.)/gm, `[worker-${i}] `));
    });
    ready.push(new Promise<void>((done, reject) => {
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') done();
        else if (message.type === 'job') o.onRow?.(message.row);
        else if (message.type === 'stats') stats[message.worker] = message.remote;
      });
      child.once('exit', (code, signal) => {
        const error = new SweepError('EWORKER', `sweep: worker-${i} exited (code ${code}, signal ${signal})${stopping ? '' : ' before the sweep was over'}`
          + `${tails.get(child) ? `; its last words:\n${tails.get(child)!.trimEnd()}` : ''}`);
        reject(error);
        if (!stopping) fail(error);
      });
    }));
  }

  const stop = async (graceMs = STOP_TIMEOUT_MS) => {
    stopping = true;
    for (const child of children) {
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage, () => undefined);
      else if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    const deadline = Date.now() + graceMs;
    await Promise.all(children.map(async (child) => {
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(20);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }));
    return stats;
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SweepError('EWORKER', `sweep: the workers were not ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    });
    await Promise.race([Promise.all(ready), timeout, aborted(o.signal)]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { died, stop };
}

/** A promise that rejects with the signal's reason once it is aborted (never, without a signal). */
function aborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** `promise`, or undefined once `ms` have passed: closing a client of a server that is gone must not hang. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((done) => { timer = setTimeout(done, ms); })]);
  clearTimeout(timer);
}

/** Where the queue and the cache are: the options' URLs, or a redis-server started now. */
async function resolveServers(o: Omit<SweepOptions, 'role'>, role: SweepRole) {
  let cacheUrl = o.cacheUrl ?? (o.redisUrl ? withDatabase(o.redisUrl, 0) : undefined);
  let queueUrl = o.queueUrl ?? (o.redisUrl ? withDatabase(o.redisUrl, 1) : undefined);
  let server: RedisServer | undefined;
  if (role !== 'all' && !queueUrl) {
    throw new SweepError('ENOQUEUE', `sweep: --role ${role} needs the queue's Redis shared by every machine: set SWEEP_REDIS (and DASE_CACHE_REMOTE)`);
  }
  if (!cacheUrl || !queueUrl) {
    if (!redisServerInstalled()) {
      throw new SweepError('ENOREDIS', 'sweep: redis-server is not installed: `sudo apt-get install redis-server` (or set SWEEP_REDIS and DASE_CACHE_REMOTE to a Redis)');
    }
    // noeviction (redis-server's default): the queue lives here, and a queue must lose nothing.
    server = await startRedis();
    cacheUrl ??= withDatabase(server.url, 0);
    queueUrl ??= withDatabase(server.url, 1);
  }
  if (sameDatabase(cacheUrl, queueUrl)) {
    await server?.stop();
    throw new SweepError('ENOQUEUE', 'sweep: the queue and the cache must not share a Redis database (give the queue another database, or another server)');
  }
  return { cacheUrl, queueUrl, server };
}

function sameDatabase(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    const db = (u: URL) => Number(u.pathname.replace(/^\/+/, '') || 0);
    return /^rediss?:$/.test(x.protocol) && /^rediss?:$/.test(y.protocol) && x.host === y.host && db(x) === db(y);
  } catch {
    return false;
  }
}

/**
 * Runs the parameter sweep: queues one job per (alpha, steps, grid) on a BullMQ queue, starts `workers` worker
 * processes (role 'all'), each on a local cache of its own and the shared remote, waits for every job, and
 * reports who ran what and where each memoized step came from (memoize's `source`). Each of `repeat` rounds
 * runs on freshly started workers; their local caches are cleared first unless `keep`, so a second round
 * downloads everything from the remote. Without URLs, a redis-server is started for the run and stopped after.
 * @param options - the grid of parameters, the number of workers, the servers; see {@link SweepOptions}.
 * @returns the report: wall times, jobs, computations made and saved (per source, round and worker), and the rows.
 * @throws {SweepError} 'ENOREDIS' when a server is needed and redis-server is not installed, 'EWORKER' when a
 *   worker dies, 'EJOB' when a job fails, 'ETIMEDOUT' when a round takes longer than `timeoutMs`;
 *   {RangeError} for parameters the model cannot run with; the signal's reason when it is aborted.
 * @example
 * const report = await runSweep({ workers: 2, grids: [16], steps: [50], quiet: true });
 * console.log(report.computed, report.saved.remote, report.wallMs);
 */
export async function runSweep(options: SweepOptions = {}): Promise<SweepReport> {
  const started = now();
  const role = options.role ?? 'all';
  const o = {
    alphas: options.alphas ?? [...SWEEP_DEFAULTS.alphas],
    grids: options.grids ?? [...SWEEP_DEFAULTS.grids],
    steps: options.steps ?? [...SWEEP_DEFAULTS.steps],
    dt: options.dt ?? SWEEP_DEFAULTS.dt,
    policy: options.policy ?? SWEEP_DEFAULTS.policy,
    traces: options.traces ?? false,
  };
  const workers = role === 'all' ? options.workers ?? SWEEP_DEFAULTS.workers : 0;
  const repeat = options.repeat ?? SWEEP_DEFAULTS.repeat;
  if (role === 'all' && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new RangeError(`sweep: expected 1 to 64 workers, got ${workers}`);
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new RangeError(`sweep: expected repeat to be a positive integer, got ${repeat}`);
  const rounds = Array.from({ length: repeat }, (_, r) => sweepJobs(o, r + 1)); // checks every job's parameters first
  const root = resolve(options.root ?? SWEEP_DEFAULTS.root);
  const queueName = options.queue ?? SWEEP_DEFAULTS.queue;
  const prefix = options.prefix ?? SWEEP_DEFAULTS.prefix;
  const timeoutMs = options.timeoutMs ?? SWEEP_DEFAULTS.timeoutMs;
  const print = options.quiet ? () => undefined : (line = '') => console.log(line);

  const { cacheUrl, queueUrl, server } = await resolveServers(options, role);
  const report: SweepReport = {
    role, workers, params: { alphas: o.alphas, grids: o.grids, steps: o.steps, dt: o.dt }, policy: o.policy, repeat,
    queue: { url: redactUrl(queueUrl), name: queueName }, cache: { url: redactUrl(cacheUrl), prefix }, startedRedis: server !== undefined,
    ...emptyTotals(), wallMs: 0, startupMs: 0, elapsedMs: 0, rounds: [], perWorker: {}, rows: [],
  };
  let queue: Queue<SweepJobData, SweepRow> | undefined;
  let events: QueueEvents | undefined;
  let pool: WorkerPool | undefined;
  let pending: Job<SweepJobData, SweepRow>[] = [];
  // Each worker process's remote counts, as it sent them when it stopped (one process per worker and round).
  const remoteCounts: [worker: string, stats: RemoteStats][] = [];
  let lastError = '';
  const connectionErrors = (error: Error) => {
    if (!options.quiet && error.message !== lastError) console.error(`sweep: the queue's Redis: ${error.message}`);
    lastError = error.message;
  };
  try {
    printHeader(print, report, rounds[0].length, root, options.keep === true);
    queue = new Queue<SweepJobData, SweepRow>(queueName, { connection: { url: queueUrl } });
    events = new QueueEvents(queueName, { connection: { url: queueUrl } });
    queue.on('error', connectionErrors);
    events.on('error', connectionErrors);
    // Each job's waitUntilFinished listens to the queue's 'closing': a listener per job, not a leak.
    queue.setMaxListeners(rounds[0].length + 16);
    await Promise.race([Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), aborted(options.signal)]);

    for (const [r, jobs] of rounds.entries()) {
      options.signal?.throwIfAborted();
      if (role === 'all') {
        const startup = now();
        pool = await startPool({
          workers, root, keep: options.keep === true, queueUrl, cacheUrl, queue: queueName, prefix,
          forwardStderr: !options.quiet, signal: options.signal,
        });
        report.startupMs += now() - startup;
      }
      print(`round ${r + 1} of ${repeat}${role === 'all' ? `: ${workers} worker${workers > 1 ? 's' : ''} started${r > 0 && !options.keep ? ' on cleared local caches' : ''}` : ''}`);
      print(HEADER);
      const roundStarted = now();
      const added = await queue.addBulk(jobs.map((data) => ({ name: `alpha ${data.alpha} grid ${data.grid} steps ${data.steps}`, data })));
      pending = [...added];
      const finished = Promise.all(added.map(async (job) => {
        let row: SweepRow;
        try {
          row = await job.waitUntilFinished(events!, timeoutMs) as SweepRow;
        } catch (error) {
          const timedOut = /timed out/.test((error as Error).message);
          throw new SweepError(timedOut ? 'ETIMEDOUT' : 'EJOB', timedOut
            ? `sweep: job ${job.name} (round ${r + 1}) did not finish within ${timeoutMs / 1000} s${role === 'producer' ? ' (are workers consuming the queue?)' : ''}`
            : `sweep: job ${job.name} (round ${r + 1}) failed: ${(error as Error).message}`, { cause: error });
        }
        pending = pending.filter((p) => p !== job);
        report.rows.push(row);
        print(formatRow(row));
        options.onJob?.(row);
        return row;
      }));
      const rows = await Promise.race([finished, ...(pool ? [pool.died] : []), aborted(options.signal)]);
      const roundReport: SweepRoundReport = { round: r + 1, wallMs: now() - roundStarted, ...emptyTotals() };
      for (const row of rows) addRow(roundReport, row);
      report.rounds.push(roundReport);
      if (pool) {
        const stats = await pool.stop();
        pool = undefined;
        for (const [name, remote] of Object.entries(stats)) if (remote) remoteCounts.push([name, remote]);
      }
      print(rows.some((row) => row.calls.some((c) => c.waited)) ? "(* waited for another worker's lease on the key, then took its result)\n" : '');
    }
  } finally {
    // Interrupted (Ctrl-C): quickly. The terminal's SIGINT has reached our redis-server too, and what waits for
    // a server that is gone waits in vain.
    const hurry = options.signal?.aborted === true;
    await pool?.stop(hurry ? HURRY_MS : STOP_TIMEOUT_MS);
    // Jobs of a failed sweep would otherwise run on the next workers to come.
    if (queue && pending.length > 0 && !hurry) await bounded(Promise.all(pending.map((job) => job.remove().catch(() => undefined))), CLOSE_TIMEOUT_MS);
    await bounded(events?.close() ?? Promise.resolve(), hurry ? HURRY_MS : CLOSE_TIMEOUT_MS);
    await bounded(queue?.close() ?? Promise.resolve(), hurry ? HURRY_MS : CLOSE_TIMEOUT_MS);
    if (hurry) await Promise.all([events?.disconnect(), queue?.disconnect()].map((p) => p?.catch(() => undefined)));
    await server?.stop();
  }

  // Per worker: its rows over every round, and its remote's counts summed over its processes.
  for (const row of report.rows) {
    addRow(report, row);
    addRow(report.perWorker[workerName(row)] ??= emptyTotals(), row);
  }
  for (const [name, remote] of remoteCounts) {
    const worker = report.perWorker[name];
    if (!worker) continue; // it ran no job
    const sum = (worker.remote ??= { hits: 0, misses: 0, uploads: 0, errors: 0, timeouts: 0, rejected: 0, leases: { acquired: 0, waited: 0, independent: 0 } });
    for (const field of ['hits', 'misses', 'uploads', 'errors', 'timeouts', 'rejected'] as const) sum[field] += remote[field];
    sum.leases = {
      acquired: sum.leases.acquired + remote.leases.acquired,
      waited: sum.leases.waited + remote.leases.waited,
      independent: sum.leases.independent + (remote.leases.independent ?? 0),
    };
  }
  report.rows.sort((a, b) => a.round - b.round || a.index - b.index);
  report.wallMs = report.rounds.reduce((sum, r) => sum + r.wallMs, 0);
  report.elapsedMs = now() - started;
  printSummary(print, report);
  return report;
}

/**
 * Starts `workers` worker processes on this machine that consume the queue until the signal is aborted (Ctrl-C),
 * printing each job they finish: `--role worker`, for the machines of a sweep spread over several.
 * @param options - the number of workers, their root, the queue's and the cache's URLs (both required), the signal.
 * @returns once the workers have stopped.
 * @throws {SweepError} 'ENOQUEUE' without a queue URL, 'EWORKER' when a worker dies.
 */
export async function runSweepWorkers(options: Omit<SweepOptions, 'role'> & { signal: AbortSignal }): Promise<void> {
  const workers = options.workers ?? SWEEP_DEFAULTS.workers;
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new RangeError(`sweep: expected 1 to 64 workers, got ${workers}`);
  const { cacheUrl, queueUrl } = await resolveServers(options, 'worker');
  const root = resolve(options.root ?? SWEEP_DEFAULTS.root);
  const queue = options.queue ?? SWEEP_DEFAULTS.queue;
  const prefix = options.prefix ?? SWEEP_DEFAULTS.prefix;
  if (!options.cacheUrl) console.error('sweep: DASE_CACHE_REMOTE is not set: these workers share no results with the other machines');
  const pool = await startPool({
    workers, root, keep: options.keep === true, queueUrl, cacheUrl: options.cacheUrl, queue, prefix, forwardStderr: true,
    onRow: (row) => console.log(formatRow(row)), signal: options.signal,
  });
  console.log(`sweep: ${workers} worker${workers > 1 ? 's' : ''} on ${hostname()} consuming queue '${queue}' at ${redactUrl(queueUrl)}, `
    + `local caches ${root}/worker-*, cache remote ${cacheUrl ? `${redactUrl(cacheUrl)} ('${prefix}' keys)` : 'none'}; Ctrl-C to stop`);
  console.log(HEADER);
  try {
    await Promise.race([pool.died, aborted(options.signal)]);
  } catch (error) {
    if (!options.signal.aborted) throw error;
  } finally {
    const stats = await pool.stop();
    for (const [name, remote] of Object.entries(stats)) {
      if (remote) console.log(`${name}: remote hits ${remote.hits}, uploads ${remote.uploads}, waited for ${remote.leases.waited} leases, errors ${remote.errors + remote.timeouts}`);
    }
  }
}

// The human report: a line per job as it finishes, then the summary.

const fmtMs = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 10 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
const COLUMNS = [28, 12, 18, 18, 18, 18, 18, 8];
const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c.padStart(COLUMNS[i]) : c.padEnd(COLUMNS[i]))).join(' ').trimEnd();
// The job's memoized steps, by the labels diffusionJob gives them ('history plan' only for method 'fast').
const STEP_LABELS = ['fractional kernel', 'Laplacian (CSR)', 'history plan', 'simulation', 'D^alpha of the centre trace'];
const HEADER = line(['job', 'worker', 'kernel', 'Laplacian', 'history plan', 'simulation', 'D^alpha centre', 'job']);

function formatRow(row: SweepRow): string {
  const { alpha, grid, steps } = row.params;
  const cell = (call: JobStep | undefined) => (call ? `${call.source}${call.waited ? '*' : ''} ${fmtMs(call.ms)}` : '-');
  return line([`alpha ${alpha} grid ${grid} steps ${steps}`, workerName(row), ...STEP_LABELS.map((label) => cell(row.calls.find((c) => c.label === label))), fmtMs(row.jobMs)]);
}

function printHeader(print: (l?: string) => void, r: SweepReport, jobs: number, root: string, keep: boolean): void {
  const { alphas, grids, steps, dt } = r.params;
  print(`dase-cache sweep: ${jobs} jobs (alpha ${alphas.join(', ')} x grid ${grids.join(', ')} x steps ${steps.join(', ')}; dt ${dt})`
    + ` x ${r.repeat} round${r.repeat > 1 ? 's' : ''}, ${r.role === 'all' ? `${r.workers} worker${r.workers > 1 ? 's' : ''}` : 'workers elsewhere'}, memoize policy '${r.policy}'`);
  print(`queue '${r.queue.name}' at ${r.queue.url}; cache remote ${r.cache.url} ('${r.cache.prefix}' keys)${r.startedRedis ? '; a redis-server started for this run' : ''}`);
  if (r.role === 'all') print(`local caches: ${root}/worker-0..${r.workers - 1}${keep ? ' (kept)' : ' (cleared)'}`);
  print();
}

function printSummary(print: (l?: string) => void, r: SweepReport): void {
  const rounds = r.rounds.length > 1 ? ` (${r.rounds.map((x) => `round ${x.round}: ${fmtMs(x.wallMs)}`).join(', ')})` : '';
  print('summary');
  print(`  wall time      ${fmtMs(r.wallMs)}${rounds}${r.role === 'all' ? `; starting the workers took ${fmtMs(r.startupMs)} more` : ''}`);
  print(`  jobs           ${r.jobs} finished, ${r.calls} memoized calls`);
  print(`  computations   ${r.computed} made; ${r.saved.total} saved: ${r.saved.remote} downloaded from the remote, ${r.saved.disk} loaded from local disk, ${r.saved.memory} from memory`);
  for (const round of r.rounds.length > 1 ? r.rounds : []) {
    print(`    round ${round.round}     ${round.computed} made, ${round.saved.total} saved (${round.saved.remote} remote, ${round.saved.disk} disk, ${round.saved.memory} memory)`);
  }
  const header = ['per worker', 'jobs', 'computed', 'remote', 'disk', 'memory', 'busy', 'uploads', 'waited'];
  const rows = Object.entries(r.perWorker).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([name, w]) => [
    name, String(w.jobs), String(w.computed), String(w.saved.remote), String(w.saved.disk), String(w.saved.memory), fmtMs(w.busyMs),
    w.remote ? String(w.remote.uploads) : '-', w.remote ? String(w.remote.leases.waited) : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  for (const cells of [header, ...rows]) print(`  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`);
  print('  (uploads: results published to the remote; waited: keys another worker held, whose result it waited for)');
}

// The command line.

const USAGE = `usage: npm run sweep -- [options]
  --workers N        worker processes on this machine (default ${SWEEP_DEFAULTS.workers})
  --alphas A,B,...   fractional orders in (0, 1] (default ${SWEEP_DEFAULTS.alphas.join(',')})
  --grids N,M,...    grid sizes (default ${SWEEP_DEFAULTS.grids.join(',')})
  --steps N,M,...    time steps (default ${SWEEP_DEFAULTS.steps.join(',')})
  --dt X             time step (default ${SWEEP_DEFAULTS.dt})
  --repeat N         rounds, each on fresh workers with cleared local caches (default 1)
  --root DIR         the workers' local caches, DIR/worker-<i> (default ${SWEEP_DEFAULTS.root})
  --keep             do not clear the local caches first
  --role R           all (default): queue, run the workers, report; producer: queue and wait for the
                     results; worker: consume the queue until Ctrl-C
  --policy P         memoize policy in the workers: always (default), auto, never
  --queue NAME       the BullMQ queue (default ${SWEEP_DEFAULTS.queue}); --prefix P: the cache's keys on the remote (default ${SWEEP_DEFAULTS.prefix})
  --timeout S        seconds a round may take (default ${SWEEP_DEFAULTS.timeoutMs / 1000})
  --json             the report as JSON on stdout, nothing else
environment: SWEEP_REDIS (the queue's Redis, noeviction) and DASE_CACHE_REMOTE (the cache's remote); when
  unset, a redis-server is started for the run (queue in database 1, cache in database 0)`;

function numbers(name: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((x) => !Number.isFinite(x))) throw new RangeError(`--${name} expects numbers separated by commas, got ${text}`);
  return list;
}

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`--${name} expects a positive integer, got ${text}`);
  return value;
}

function parseCli(argv: string[]): Omit<SweepOptions, 'role'> & { role: SweepRole; json: boolean; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string' }, alphas: { type: 'string' }, grids: { type: 'string' }, steps: { type: 'string' },
      dt: { type: 'string' }, repeat: { type: 'string' }, root: { type: 'string' }, keep: { type: 'boolean' },
      role: { type: 'string' }, policy: { type: 'string' }, queue: { type: 'string' }, prefix: { type: 'string' },
      timeout: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const role = (values.role ?? 'all') as SweepRole;
  if (!['all', 'producer', 'worker'].includes(role)) throw new RangeError(`--role expects all, producer or worker, got ${values.role}`);
  const policy = (values.policy ?? SWEEP_DEFAULTS.policy) as MemoPolicy;
  if (!['always', 'auto', 'never'].includes(policy)) throw new RangeError(`--policy expects always, auto or never, got ${values.policy}`);
  const dt = numbers('dt', values.dt);
  const timeout = integer('timeout', values.timeout);
  return {
    role, policy, json: values.json === true, help: values.help === true, keep: values.keep === true,
    workers: integer('workers', values.workers), repeat: integer('repeat', values.repeat),
    alphas: numbers('alphas', values.alphas), grids: numbers('grids', values.grids), steps: numbers('steps', values.steps),
    ...(dt ? { dt: dt[0] } : {}), ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
    ...(values.root ? { root: values.root } : {}), ...(values.queue ? { queue: values.queue } : {}), ...(values.prefix ? { prefix: values.prefix } : {}),
  };
}

async function main(): Promise<void> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`sweep: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (cli.help) {
    console.log(USAGE);
    return;
  }
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C: now
    if (!cli.json) console.error(`\nsweep: ${signal}, stopping the workers (Ctrl-C again to quit at once)`);
    controller.abort(new SweepError('EWORKER', `sweep: interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const env = { cacheUrl: process.env.DASE_CACHE_REMOTE || undefined, queueUrl: process.env.SWEEP_REDIS || undefined };
  try {
    if (cli.role === 'worker') {
      await runSweepWorkers({ ...cli, ...env, signal: controller.signal });
    } else {
      const report = await runSweep({ ...cli, role: cli.role, ...env, quiet: cli.json, signal: controller.signal });
      if (cli.json) console.log(JSON.stringify(report));
    }
  } catch (error) {
    if (!controller.signal.aborted) console.error(error instanceof SweepError || error instanceof RangeError ? error.message : error);
    exit(controller.signal.aborted ? 130 : 1);
    return;
  }
  // Everything is closed, but local-servers.ts leaves its 5 s stop timer behind: do not wait for it.
  exit(0);
}

/** Exits once what was written to stdout is out (a pipe is written asynchronously). */
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
