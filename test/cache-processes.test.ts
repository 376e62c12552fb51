// The cache shared by several processes: a random multi-process workload, writers killed with SIGKILL at
// random moments, and the category lock held by live or dead processes. The child processes run
// test/fixtures/cache-worker.ts (through tsx); every value they save is self-checking (see checkValue),
// so a torn or mixed value is always told apart from one some writer wrote.
//
// No assertion here depends on timing: delays only choose *when* something happens (a kill, a look).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheManager, CacheMissError, IntegrityError } from '../src/node.js';
import {
  ARRAY_CATEGORY, CRASH_KEYS, JSON_CATEGORY, MUTABLE_KEYS, STABLE_KEYS,
  arrayValue, checkValue, jsonValue, valueId, type StressReport,
} from './fixtures/cache-worker.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { nodeSha256Hex, sleep } from './fixtures/util.js';
import { killAll, startWorker as startProcess, type Worker } from './fixtures/worker-process.js';

const WORKER = fileURLToPath(new URL('./fixtures/cache-worker.ts', import.meta.url));
const CATEGORIES = [ARRAY_CATEGORY, JSON_CATEGORY];

// ---------- temporary roots ----------

const roots: string[] = [];
async function tempRoot(): Promise<string> {
  const root = await fs.mkdtemp(join(tmpdir(), 'dase-cache-procs-'));
  roots.push(root);
  return root;
}
const children = new Set<ChildProcess>();
afterEach(async () => {
  killAll(children);
  for (const root of roots.splice(0)) await fs.rm(root, { recursive: true, force: true });
});

// ---------- child processes ----------

const startWorker = (args: (string | number)[]): Worker => startProcess(WORKER, args, children);

// ---------- on-disk checks ----------

/** Lock files, journals and kept damaged indexes: everything in a category folder that is not data. */
const isBookkeeping = (name: string) =>
  name === 'index.json' || name.startsWith('.journal-') || name.startsWith('.lock') || name.startsWith('index.json.damaged-');

/**
 * index.json parses, and its entries are exactly the data files on disk: each file's SHA-256 and size are
 * the entry's, and no other data or temporary file is there.
 */
async function expectIndexMatchesDisk(root: string, category: string): Promise<Record<string, { access_count: number }>> {
  const dir = join(root, category);
  const index = JSON.parse(await fs.readFile(join(dir, 'index.json'), 'utf8')) as {
    total_entries: number; entries: Record<string, { key: string; file: string; checksum: string; size_bytes: number; access_count: number }>;
  };
  const files: string[] = [];
  for (const [key, entry] of Object.entries(index.entries)) {
    expect(entry.key).toBe(key);
    const bytes = await fs.readFile(join(dir, entry.file));
    expect(entry.checksum, `${category}/${entry.file}`).toBe(`sha256:${nodeSha256Hex(bytes)}`);
    expect(entry.size_bytes).toBe(bytes.length);
    expect(Number.isInteger(entry.access_count) && entry.access_count >= 0).toBe(true);
    files.push(entry.file);
  }
  expect(index.total_entries).toBe(files.length);
  const onDisk = (await fs.readdir(dir)).filter((name) => !isBookkeeping(name));
  expect(onDisk.sort()).toEqual(files.sort());
  return index.entries;
}

async function expectIndexParses(root: string, category: string): Promise<void> {
  const text = await fs.readFile(join(root, category, 'index.json'), 'utf8');
  let parsed: { entries?: unknown };
  try {
    parsed = JSON.parse(text) as { entries?: unknown };
  } catch (error) {
    throw new Error(`${category}/index.json does not parse: ${(error as Error).message}\n${text.slice(0, 500)}`);
  }
  expect(typeof parsed.entries).toBe('object');
}

/** Loads `key`: its self-checked identity, or 'miss'. Anything else (IntegrityError included) throws. */
async function loadChecked(cache: CacheManager, category: string, key: string): Promise<string> {
  let value: unknown;
  try {
    value = await cache.load(category, key);
  } catch (error) {
    if (error instanceof CacheMissError) return 'miss';
    if (error instanceof IntegrityError) throw new Error(`IntegrityError loading ${category}/${key}: ${error.message}`);
    throw error;
  }
  const id = checkValue(category, key, value);
  if (id.startsWith('BAD')) throw new Error(`inconsistent value for ${category}/${key}: ${id}`);
  return id;
}

// ---------- the category lock as it is on disk ----------
//
// The lock is a token: `<category>/.lock` when free, renamed to `<category>/.lock.<pid>.<nonce>` while
// held. `plantLock` makes it look held by `pid` and returns how to let go of it.

async function heldTokens(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((name) => /^\.lock\.\d+\./.test(name));
}

async function plantLock(dir: string, pid: number): Promise<{ path: string; remove: () => Promise<void> }> {
  const free = join(dir, '.lock');
  const held = join(dir, `.lock.${pid}.0badc0de`);
  if ((await heldTokens(dir)).length > 0) throw new Error(`plantLock: the lock in ${dir} is already held`);
  // Take the free token as `pid` would have; a folder that never had one gets it held from the start.
  await fs.rename(free, held).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    await fs.writeFile(held, '', { flag: 'wx' });
  });
  return { path: held, remove: () => fs.rename(held, free) };
}

/** The pids the lock in `dir` is held by (none when free). */
async function lockHolders(dir: string): Promise<number[]> {
  return (await heldTokens(dir)).map((name) => Number(name.split('.')[2]));
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '']);
  expect(result.status).toBe(0);
  return result.pid!;
}

// ---------- 1. several processes at once ----------

describe('cache shared by several processes', () => {
  it('4 processes × 300 random operations: every load is a whole value some writer wrote; index and files agree; access counts add up', async () => {
    const root = await tempRoot();
    const started = Date.now();
    // The stable keys: written once here (writer 0), only ever loaded by the workers.
    const initial = new Set<string>();
    const setup = new CacheManager({ root });
    for (const category of CATEGORIES) {
      for (const [i, key] of STABLE_KEYS.entries()) {
        await setup.save(category, key, category === ARRAY_CATEGORY ? arrayValue(key, 0, i + 1, 64) : jsonValue(key, 0, i + 1, 16));
        initial.add(valueId(category, key, 0, i + 1));
      }
    }
    await setup.close();

    const seed = Math.floor(Math.random() * 1e9);
    const workers = [1, 2, 3, 4].map((w) => startWorker(['stress', root, w, 300, seed + w]));
    // All four start their operations together (process start-up takes longer than 300 operations).
    for (const worker of workers) await worker.waitForLine((line) => line === 'ready', "'ready'");
    for (const worker of workers) worker.child.stdin!.end('go\n');
    const reports: StressReport[] = [];
    for (const [i, worker] of workers.entries()) {
      const { code, signal } = await worker.exited;
      expect({ worker: i + 1, seed, code, signal, stderr: worker.stderr() }).toEqual({ worker: i + 1, seed, code: 0, signal: null, stderr: '' });
      reports.push(JSON.parse(worker.lines.at(-1)!) as StressReport);
    }
    for (const report of reports) expect(report.violations, `worker ${report.writer} (seed ${seed})`).toEqual([]);

    // Every value loaded is exactly one that was written (by the test or a worker whose save returned:
    // a load can also see a value whose save was still in progress, and every save here did return).
    const written = new Set([...initial, ...reports.flatMap((r) => r.saved)]);
    for (const report of reports) for (const id of report.loaded) expect(written.has(id), id).toBe(true);
    const total = (what: string) => reports.reduce((n, r) => n + (r.counts[what] ?? 0), 0);
    expect(total('save')).toBeGreaterThan(100);
    expect(total('load') + total('load-stable')).toBeGreaterThan(100);

    const cache = new CacheManager({ root });
    // Access counts, before this process loads anything. Each load of a committed entry is counted once
    // in its process and journalled as a delta at the next flush (close() flushes; the workers closed).
    //  - Stable keys were never saved again nor deleted while the workers ran, so every one of their loads
    //    must be in their access_count: exact equality.
    //  - Mutable keys: a delete drops the count, an overwrite keeps it (apply('commit') adds the old
    //    count), a load that finds a save between rename and commit is served from the pending put and
    //    not counted, and a count flushed after a delete+re-save lands on the new entry. So there is no
    //    sound lower bound per key, but counts are never invented: the sum is at most the loads made.
    for (const category of CATEGORIES) {
      const stats = await cache.getStats(category);
      for (const key of STABLE_KEYS) {
        const loads = reports.reduce((n, r) => n + (r.stableLoads[`${category}/${key}`] ?? 0), 0);
        expect(stats.entries[key]?.access_count, `access_count of ${category}/${key}`).toBe(loads);
      }
      const mutableCounts = Object.values(stats.entries).filter((e) => !STABLE_KEYS.includes(e.key)).reduce((n, e) => n + e.access_count, 0);
      const mutableLoads = reports.reduce((n, r) => n + (r.mutableLoads[category] ?? 0), 0);
      expect(mutableCounts).toBeLessThanOrEqual(mutableLoads);
    }

    const report = await cache.validate();
    expect(Object.fromEntries(CATEGORIES.map((c) => [c, report.categories[c].problems]))).toEqual({ [ARRAY_CATEGORY]: [], [JSON_CATEGORY]: [] });
    expect(report.ok).toBe(true);
    for (const category of CATEGORIES) {
      const keys = await cache.listKeys(category);
      for (const key of STABLE_KEYS) expect(keys).toContain(key);
      for (const key of keys) {
        expect([...MUTABLE_KEYS, ...STABLE_KEYS]).toContain(key);
        const id = await loadChecked(cache, category, key);
        expect(written.has(id), `${category}/${key} holds ${id}`).toBe(true);
      }
    }
    await cache.close();
    expectIndexAtRest(root);
    for (const category of CATEGORIES) await expectIndexMatchesDisk(root, category);
    console.log(`cache-processes stress: seed ${seed}, ${JSON.stringify(Object.fromEntries(
      ['save', 'load', 'load-stable', 'miss', 'delete', 'delete-absent', 'exists', 'listKeys', 'reopen'].map((k) => [k, total(k)])))}, ${Date.now() - started} ms`);
  }, 90_000);
});

// ---------- 2. writers killed at random moments ----------

describe('cache writers killed with SIGKILL', () => {
  it('20 rounds: readers see whole values or misses; index.json always parses; repair leaves a clean cache; a dead writer\'s lock does not block', async () => {
    const root = await tempRoot();
    const started = Date.now();
    const attempted = new Set<string>();
    let leftoverLocks = 0;
    let plantedLocks = 0;
    let loads = 0, misses = 0;
    let lastDead: number | undefined;
    const ROUNDS = 20;
    for (let round = 0; round < ROUNDS; round++) {
      const writer = startWorker(['crash', root, 100 + round, Math.floor(Math.random() * 1e9)]);
      // `started` comes after a save in each category: this writer got past whatever lock the
      // previous (killed) writer left, or the one planted below in its name.
      await writer.waitForLine((line) => line === 'started', `'started' (round ${round}, previous writer pid ${lastDead})`);
      await sleep(20 + Math.random() * 280);
      writer.child.kill('SIGKILL');
      const { signal } = await writer.exited;
      expect(signal).toBe('SIGKILL');
      lastDead = writer.child.pid!;
      for (const line of writer.lines) if (line.startsWith('saving ')) attempted.add(line.slice(7));
      expect(writer.lines.filter((line) => line.startsWith('violation')), `round ${round}; stderr: ${writer.stderr()}`).toEqual([]);

      for (const category of CATEGORIES) {
        await expectIndexParses(root, category);
        if ((await lockHolders(join(root, category))).includes(lastDead)) leftoverLocks++;
      }
      const cache = new CacheManager({ root });
      for (const category of CATEGORIES) {
        const listed = await cache.listKeys(category);
        for (const key of listed) expect(CRASH_KEYS[category]).toContain(key);
        // Every key the writer uses, listed or not: a put left pending by the kill is readable too.
        for (const key of CRASH_KEYS[category]) {
          const id = await loadChecked(cache, category, key);
          if (id === 'miss') { misses++; continue; }
          loads++;
          expect(attempted.has(id), `round ${round}: ${category}/${key} holds ${id}, which no writer saved`).toBe(true);
        }
      }
      await cache.close();
      for (const category of CATEGORIES) {
        await expectIndexParses(root, category);
        // The next writer must take the lock from a dead holder: make sure there is one.
        const dir = join(root, category);
        if ((await lockHolders(dir)).length === 0) {
          await plantLock(dir, lastDead);
          plantedLocks++;
        }
      }
    }

    // Leftover temporary files (from writers killed between writing and renaming them) count as
    // leftovers only when older than validate's grace period (60 s): age them with utimes rather than wait.
    const past = new Date(Date.now() - 10 * 60_000);
    const temps: string[] = [];
    for (const category of CATEGORIES) {
      for (const name of await fs.readdir(join(root, category))) {
        if (!name.startsWith('.tmp-')) continue;
        await fs.utimes(join(root, category, name), past, past);
        temps.push(`${category}/${name}`);
      }
    }
    const cache = new CacheManager({ root });
    const repaired = await cache.validate({ repair: true });
    expect(repaired.ok).toBe(true);
    const reportedTemps = CATEGORIES.flatMap((c) => repaired.categories[c].problems.filter((p) => p.problem === 'temp_file').map((p) => `${c}/${p.file}`));
    expect(reportedTemps.sort()).toEqual(temps.sort());
    const after = await cache.validate();
    expect(Object.fromEntries(CATEGORIES.map((c) => [c, after.categories[c].problems]))).toEqual({ [ARRAY_CATEGORY]: [], [JSON_CATEGORY]: [] });
    expect(after.ok).toBe(true);
    for (const category of CATEGORIES) {
      expect((await fs.readdir(join(root, category))).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
      for (const key of await cache.listKeys(category)) {
        const id = await loadChecked(cache, category, key);
        expect(id).not.toBe('miss');
        expect(attempted.has(id)).toBe(true);
      }
    }
    await cache.close();
    expectIndexAtRest(root);
    for (const category of CATEGORIES) await expectIndexMatchesDisk(root, category);
    expect(loads).toBeGreaterThan(0);
    console.log(`cache-processes crash: ${ROUNDS} rounds, ${attempted.size} saves attempted, ${loads} loads + ${misses} misses checked, `
      + `${temps.length} temp files aged and removed, ${leftoverLocks} locks left by killed writers, ${plantedLocks} planted, ${Date.now() - started} ms`);
  }, 180_000);
});

// ---------- 3. the category lock ----------

describe('cache category lock', () => {
  const category = ARRAY_CATEGORY;

  /** Resolves `promise`'s state after giving it `ms` to settle: not a timing assertion, a look. */
  async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
    let settled = false;
    void promise.then(() => { settled = true; }, () => { settled = true; });
    await sleep(ms);
    return settled;
  }

  /** Waits until a save in progress has written its temporary file (it takes the lock only after). */
  async function untilTempFile(dir: string): Promise<void> {
    while (!(await fs.readdir(dir)).some((name) => name.startsWith('.tmp-'))) await sleep(5);
  }

  it('a lock held in the name of a process that has exited does not block a save', async () => {
    const root = await tempRoot();
    const cache = new CacheManager({ root });
    await cache.listKeys(category);
    const dir = join(root, category);
    await plantLock(dir, deadPid());
    await cache.save(category, 'after_dead', arrayValue('after_dead', 0, 1, 100));
    expect(await loadChecked(cache, category, 'after_dead')).toBe(valueId(category, 'after_dead', 0, 1));
    expect(await lockHolders(dir)).toEqual([]); // the broken lock is not left behind, nor ours
    await cache.save(category, 'after_dead', arrayValue('after_dead', 0, 2, 100));
    expect(await loadChecked(cache, category, 'after_dead')).toBe(valueId(category, 'after_dead', 0, 2));
    await cache.close();
    expectIndexAtRest(root);
    await expectIndexMatchesDisk(root, category);
  });

  it('a lock held in the name of a live process (this one) makes a save wait until it is released', async () => {
    const root = await tempRoot();
    const cache = new CacheManager({ root });
    await cache.listKeys(category);
    const dir = join(root, category);
    const planted = await plantLock(dir, process.pid);
    const saving = cache.save(category, 'waits', arrayValue('waits', 0, 1, 100));
    await untilTempFile(dir);
    expect(await settledWithin(saving, 500)).toBe(false);
    expect(await cache.exists(category, 'waits')).toBe(false);
    await planted.remove();
    await saving;
    expect(await loadChecked(cache, category, 'waits')).toBe(valueId(category, 'waits', 0, 1));
    await cache.close();
    expectIndexAtRest(root);
    await expectIndexMatchesDisk(root, category);
  });

  it('a lock held by another live process makes a save wait; once that process is killed the save proceeds', async () => {
    const root = await tempRoot();
    const cache = new CacheManager({ root });
    await cache.listKeys(category);
    const dir = join(root, category);
    const holder = startWorker(['hold-lock', root, category]);
    await holder.waitForLine((line) => line === 'locked', "'locked'");
    const saving = cache.save(category, 'killed_holder', arrayValue('killed_holder', 0, 1, 100));
    await untilTempFile(dir);
    expect(await settledWithin(saving, 500)).toBe(false);
    expect(await lockHolders(dir)).toEqual([holder.child.pid]);
    holder.child.kill('SIGKILL');
    await holder.exited;
    await saving;
    expect(await loadChecked(cache, category, 'killed_holder')).toBe(valueId(category, 'killed_holder', 0, 1));
    await cache.close();
    expectIndexAtRest(root);
    await expectIndexMatchesDisk(root, category);
  });

  it('a save in another process waits for a lock held by a live process and proceeds when it is released', async () => {
    const root = await tempRoot();
    const cache = new CacheManager({ root });
    await cache.listKeys(category);
    const holder = startWorker(['hold-lock', root, category]);
    await holder.waitForLine((line) => line === 'locked', "'locked'");
    const saver = startWorker(['save-one', root, category, 'other_process', 7, 1]);
    await saver.waitForLine((line) => line === 'opened', "'opened'");
    await untilTempFile(join(root, category));
    await sleep(500);
    expect(saver.lines).not.toContain('saved');
    expect(await cache.exists(category, 'other_process')).toBe(false);
    holder.child.stdin!.end('release\n');
    await holder.waitForLine((line) => line === 'released', "'released'");
    await saver.waitForLine((line) => line === 'saved', "'saved'");
    expect((await saver.exited).code).toBe(0);
    expect((await holder.exited).code).toBe(0);
    expect(await loadChecked(cache, category, 'other_process')).toBe(valueId(category, 'other_process', 7, 1));
    await cache.close();
    expectIndexAtRest(root);
    await expectIndexMatchesDisk(root, category);
  });
});
