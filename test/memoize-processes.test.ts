// Single flight across processes: workers on one cache root compute a key once; a crashed computer's
// claim does not block the others; a live one that takes too long is not waited for past waitMs.
// Timing only decides when things happen; what is asserted is who computed and what each saw.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/memo-worker.ts', import.meta.url));

let root: string;
let marker: string;
let go: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dase-memo-procs-'));
  marker = join(root, 'computed-by');
  go = join(root, 'go');
  writeFileSync(marker, '');
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Worker { child: ChildProcess; line: (test: (l: string) => boolean) => Promise<string>; exited: Promise<number | null> }

function startWorker(computeMs: number, waitMs: number): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, join(root, 'cache'), marker, go, String(computeMs), String(waitMs)],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const waiters: [(l: string) => boolean, (l: string) => void][] = [];
  let partial = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) if (w[0](l)) { waiters.splice(waiters.indexOf(w), 1); w[1](l); }
    }
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const line = (test: (l: string) => boolean) => new Promise<string>((done, fail) => {
    const seen = lines.find(test);
    if (seen !== undefined) return done(seen);
    waiters.push([test, done]);
    void exited.then((code) => fail(new Error(`worker exited (${code}) before the expected line; stderr: ${stderr}`)));
  });
  return { child, line, exited };
}

const outcome = async (w: Worker) => JSON.parse(await w.line((l) => l.startsWith('{'))) as { source: string; waited: boolean; ok: boolean };
const computers = () => readFileSync(marker, 'utf8').split('\n').filter(Boolean);
const claimsLeft = () => {
  const dir = join(root, 'cache', 'state_profiles', '.locks');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('memoize across processes', () => {
  it('4 processes calling one key at once compute it once; the others wait and load it', async () => {
    const workers = Array.from({ length: 4 }, () => startWorker(600, 60_000));
    await Promise.all(workers.map((w) => w.line((l) => l === 'ready')));
    writeFileSync(go, '');
    const outcomes = await Promise.all(workers.map(outcome));
    expect(computers()).toHaveLength(1);
    expect(outcomes.filter((o) => o.source === 'computed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.source === 'disk')).toHaveLength(3);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0, 0]);
    expect(claimsLeft()).toEqual([]);
  });

  it('a process killed while computing does not block the next one', async () => {
    writeFileSync(go, '');
    const doomed = startWorker(60_000, 60_000);
    await doomed.line((l) => l === 'computing');
    expect(claimsLeft()).toHaveLength(1); // its claim, held in its name
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const next = startWorker(10, 60_000);
    expect(await outcome(next)).toEqual({ source: 'computed', waited: false, ok: true });
    expect(computers()).toHaveLength(2);
    expect(await next.exited).toBe(0);
    expect(claimsLeft()).toEqual([]);
  });

  it('a live process computing for longer than waitMs is not waited for', async () => {
    writeFileSync(go, '');
    const slow = startWorker(60_000, 60_000);
    await slow.line((l) => l === 'computing');
    const impatient = startWorker(10, 300);
    expect(await outcome(impatient)).toEqual({ source: 'computed', waited: true, ok: true });
    expect(slow.child.exitCode).toBe(null); // still computing
    expect(computers()).toHaveLength(2);
  });
});
