// One worker process of the parameter sweep (examples/sweep.ts): a BullMQ Worker that runs the fractional
// diffusion jobs of the queue on a local cache of its own, backed by the remote every worker shares.
//
//   node --import tsx examples/sweep-worker.ts --index <i> --root <folder> --queue <name> --prefix <remote prefix>
//   with SWEEP_REDIS (the queue's Redis) and DASE_CACHE_REMOTE (the cache's remote) in the environment, so
//   that their credentials stay out of `ps`.
//
// Started by sweep.ts (fork, with an IPC channel): it says 'ready', reports each job it finished, and on
// 'stop', SIGINT, SIGTERM or the loss of its parent finishes the job in hand, sends its remote's counts and
// exits. One job at a time: the simulation is synchronous, so a second one would only wait for the first.

import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker, type Job } from 'bullmq';
import { CacheManager, kernelInfo } from '../src/node.js';
import { diffusionJob } from './diffusion-model.js';
import type { ParentMessage, SweepJobData, SweepRow, WorkerMessage } from './sweep.js';

// Past this, a worker that cannot finish its job and close is ended anyway; sooner after a signal (Ctrl-C
// reaches a redis-server started by sweep.ts too, and closing connections to a server that is gone only waits).
const STOP_TIMEOUT_MS = 15_000;
const SIGNAL_STOP_MS = 3_000;

const { values } = parseArgs({
  options: {
    index: { type: 'string' },
    root: { type: 'string' },
    queue: { type: 'string', default: 'dase-sweep' },
    prefix: { type: 'string', default: 'dase-sweep:' },
  },
});
const index = Number(values.index);
if (!Number.isInteger(index) || index < 0 || !values.root) {
  console.error('sweep-worker: expected --index <n> and --root <folder> (started by examples/sweep.ts)');
  process.exit(2);
}
const queueUrl = process.env.SWEEP_REDIS;
const cacheUrl = process.env.DASE_CACHE_REMOTE;
if (!queueUrl) {
  console.error('sweep-worker: SWEEP_REDIS (the Redis URL of the queue) is not set');
  process.exit(2);
}
const name = `worker-${index}`;
const host = hostname();

/** To the parent, when there is one (a worker started by hand has none); resolves once it is sent. */
function send(message: WorkerMessage): Promise<void> {
  if (!process.send || !process.connected) return Promise.resolve();
  return new Promise((done) => process.send!(message, undefined, {}, () => done()));
}

// The remote is given explicitly: an empty DASE_CACHE_REMOTE means none, never the default lookup.
const cache = new CacheManager({ root: values.root, remote: cacheUrl ? { url: cacheUrl, prefix: values.prefix } : false });
kernelInfo(); // the WASM module compiled before the first job, so that job times are the jobs'

async function run(job: Job<SweepJobData>): Promise<SweepRow> {
  const { alpha, grid, steps, dt, policy, traces } = job.data;
  const started = performance.now();
  const { steps: calls, result, centreDerivative } = await diffusionJob(cache, { alpha, grid, steps, dt }, { policy }).run();
  const row: SweepRow = {
    id: String(job.id), round: job.data.round, index: job.data.index, params: { alpha, grid, steps, dt },
    worker: name, host, pid: process.pid, calls,
    jobMs: performance.now() - started,
    queuedMs: Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp),
    centreFinal: centreDerivative[centreDerivative.length - 1],
    ...(traces ? { centre: Array.from(result.centre) } : {}),
  };
  await send({ type: 'job', row });
  return row;
}

const worker = new Worker<SweepJobData, SweepRow>(values.queue!, run, {
  connection: { url: queueUrl },
  concurrency: 1,
  // Jobs are kept an hour for a producer that looks late; the queue's Redis must not fill up with them.
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
});
let lastError = '';
// Without a listener, a connection error would be thrown as an unhandled 'error' event.
worker.on('error', (error) => {
  if (error.message === lastError) return;
  lastError = error.message;
  console.error(`sweep ${name}: the queue's Redis: ${error.message}`);
});

let stopping = false;
async function stop(code: number, graceMs = STOP_TIMEOUT_MS): Promise<void> {
  if (stopping) return;
  stopping = true;
  const deadline = setTimeout(() => process.exit(code || 1), graceMs);
  try {
    await worker.close(); // finishes the job in hand
    await cache.settleBackground(); // local writes and the uploads to the remote
    const { remote } = await cache.getStats();
    await send({ type: 'stats', worker: name, ...(remote ? { remote } : {}) });
    await cache.close();
  } catch (error) {
    console.error(`sweep ${name}: stopping: ${(error as Error).message}`);
    code ||= 1;
  }
  clearTimeout(deadline);
  process.exit(code);
}

process.on('message', (message: ParentMessage) => { if (message?.type === 'stop') void stop(0); });
process.on('disconnect', () => void stop(0)); // the parent is gone: no one will read the results
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0, SIGNAL_STOP_MS));

await worker.waitUntilReady();
await send({ type: 'ready', worker: name, pid: process.pid });
