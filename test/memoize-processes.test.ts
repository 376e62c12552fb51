// Single flight across processes: workers on one cache root compute a key once; a crashed computer's
// claim does not block the others; a live one that takes too long is not waited for past waitMs.
// Timing only decides when things happen; what is asserted is who computed and what each saw.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { killAll, startWorker as startProcess, type Worker } from './fixtures/worker-process.js';

const WORKER = fileURLToPath(new URL('./fixtures/memo-worker.ts', import.meta.url));

let root: string;
let marker: string;
let go: string;
const children = new Set<ChildProcess>();

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dase-memo-procs-'));
  marker = join(root, 'computed-by');
  go = join(root, 'go');
  writeFileSync(marker, '');
});
afterEach(() => {
  killAll(children);
  rmSync(root, { recursive: true, force: true });
});

const startWorker = (computeMs: number, waitMs: number): Worker =>
  startProcess(WORKER, [join(root, 'cache'), marker, go, computeMs, waitMs], children);

const outcome = async (w: Worker) => JSON.parse(await w.waitForLine((l) => l.startsWith('{'), 'its outcome')) as { source: string; waited: boolean; ok: boolean };
const computers = () => readFileSync(marker, 'utf8').split('\n').filter(Boolean);
const claimsLeft = () => {
  const dir = join(root, 'cache', 'state_profiles', '.locks');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('memoize across processes', () => {
  it('4 processes calling one key at once compute it once; the others wait and load it', async () => {
    const workers = Array.from({ length: 4 }, () => startWorker(600, 60_000));
    await Promise.all(workers.map((w) => w.waitForLine((l) => l === 'ready', "'ready'")));
    writeFileSync(go, '');
    const outcomes = await Promise.all(workers.map(outcome));
    expect(computers()).toHaveLength(1);
    expect(outcomes.filter((o) => o.source === 'computed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.source === 'disk')).toHaveLength(3);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(await Promise.all(workers.map(async (w) => (await w.exited).code))).toEqual([0, 0, 0, 0]);
    expect(claimsLeft()).toEqual([]);
    expectIndexAtRest(join(root, 'cache'));
  });

  it('a process killed while computing does not block the next one', async () => {
    writeFileSync(go, '');
    const doomed = startWorker(60_000, 60_000);
    await doomed.waitForLine((l) => l === 'computing', "'computing'");
    expect(claimsLeft()).toHaveLength(1); // its claim, held in its name
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const next = startWorker(10, 60_000);
    expect(await outcome(next)).toEqual({ source: 'computed', waited: false, ok: true });
    expect(computers()).toHaveLength(2);
    expect((await next.exited).code).toBe(0);
    expect(claimsLeft()).toEqual([]);
    expectIndexAtRest(join(root, 'cache'));
  });

  it('a live process computing for longer than waitMs is not waited for', async () => {
    writeFileSync(go, '');
    const slow = startWorker(60_000, 60_000);
    await slow.waitForLine((l) => l === 'computing', "'computing'");
    const impatient = startWorker(10, 300);
    expect(await outcome(impatient)).toEqual({ source: 'computed', waited: true, ok: true });
    expect(slow.child.exitCode).toBe(null); // still computing
    expect(computers()).toHaveLength(2);
    // The one that gave up waiting saved its result and exited; the slow one has written nothing yet.
    expect((await impatient.exited).code).toBe(0);
    expectIndexAtRest(join(root, 'cache'));
  });
});
