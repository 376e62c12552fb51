// A writer killed between each pair of disk-changing steps of one save or delete (test/fixtures/step-kill.ts
// counts them through a Proxy, so new steps are covered without being named here). After each kill the
// root is opened afresh and repaired, and must then hold what API.md promises: the old value or the new
// (a miss only where there was none, or for a delete), metadata of the version loaded, an index.json
// that lists exactly the files present, and no temporary files.
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheManager, CacheMissError } from '../src/node.js';
import { checkIndexAtRest } from './fixtures/index-at-rest.js';
import { stepMetadata, stepValue, type StepKind, type StepVersion } from './fixtures/step-kill.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';
import { bundledFixture, killAll, startWorker } from './fixtures/worker-process.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/step-kill.ts', import.meta.url));
const CATEGORY = 'mission_graph'; // holds arrays and JSON: a value can change its file kind
const KEY = 'kernel_0.5_0.01_64';
const BYSTANDER = 'bystander'; // another entry of the category, which no kill may touch
const BYSTANDER_VALUE = { untouched: true, n: [1, 2, 3] };

interface Scenario {
  name: string;
  op: 'save' | 'delete';
  /** The value saved before the operation, if any. */
  old?: StepKind;
  /** The value the operation saves. */
  next?: StepKind;
}

// Each for a JSON value (.json) and an array (.npz), all saved with metadata. A change of file kind is
// one direction only: every child costs ~0.35 s of CPU, and the other direction takes the same steps.
const SCENARIOS: Scenario[] = [
  ...(['json', 'array'] as const).flatMap((kind): Scenario[] => [
    { name: `save of a new key (${kind})`, op: 'save', next: kind },
    { name: `overwrite (${kind})`, op: 'save', old: kind, next: kind },
    { name: `delete (${kind})`, op: 'delete', old: kind },
  ]),
  { name: 'overwrite changing the file kind (json -> array)', op: 'save', old: 'json', next: 'array' },
];

// ---------- child processes, a few at a time (2 cores, shared) ----------

const children = new Set<ChildProcess>();
const roots: string[] = [];
afterAll(async () => {
  killAll(children);
  for (const root of roots.splice(0)) await fs.rm(root, { recursive: true, force: true });
});

const MAX_CHILDREN = 3;
let running = 0;
const queue: (() => void)[] = [];
async function limited<T>(run: () => Promise<T>): Promise<T> {
  if (running >= MAX_CHILDREN) await new Promise<void>((go) => queue.push(go));
  running++;
  try {
    return await run();
  } finally {
    running--;
    queue.shift()?.();
  }
}

/** A root holding the bystander and, if the scenario has one, the old value: saved and closed (at rest). */
async function prepare(scenario: Scenario): Promise<string> {
  const root = await fs.mkdtemp(join(tmpdir(), 'dase-crash-steps-'));
  roots.push(root);
  const cache = new CacheManager({ root });
  await cache.save(CATEGORY, BYSTANDER, BYSTANDER_VALUE);
  if (scenario.old) await cache.save(CATEGORY, KEY, stepValue(scenario.old, 'old'), { metadata: stepMetadata(scenario.old, 'old') });
  await cache.close();
  return root;
}

interface Run { lines: string[]; code: number | null; signal: NodeJS.Signals | null; stderr: string }

/** Runs the scenario's operation on `root` in a child killed after step `killAfter` ('inf': never). */
function runChild(root: string, scenario: Scenario, killAfter: number | 'inf'): Promise<Run> {
  const args = scenario.op === 'save'
    ? [root, killAfter, 'save', CATEGORY, KEY, scenario.next!, 'new']
    : [root, killAfter, 'delete', CATEGORY, KEY];
  return limited(async () => {
    const worker = startWorker(bundledFixture(SCRIPT), args, children);
    const { code, signal } = await worker.exited;
    children.delete(worker.child);
    return { lines: worker.lines, code, signal, stderr: worker.stderr() };
  });
}

// ---------- what a repaired root must hold ----------

type Version = StepVersion | 'miss';

async function tempFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.tmp-')) found.push(join(dir, entry.name));
    if (entry.isDirectory()) found.push(...await tempFiles(join(dir, entry.name)));
  }
  return found;
}

const describeError = (error: unknown) => {
  const e = error as { name?: string; code?: string; message?: string };
  return `${e?.name ?? 'Error'}(${e?.code ?? ''}): ${(e?.message ?? String(error)).replace(/\s+/g, ' ')}`;
};

/** Opens `root` as a new process would, repairs it, and lists every way it falls short of the contract. */
async function checkRecovered(root: string, scenario: Scenario): Promise<string[]> {
  const problems: string[] = [];
  const allowed: Version[] = scenario.op === 'delete' ? ['old', 'miss'] : scenario.old ? ['old', 'new'] : ['new', 'miss'];
  const versions: [StepVersion, StepKind | undefined][] = [['old', scenario.old], ['new', scenario.next]];
  const cache = new CacheManager({ root });
  try {
    const repair = await cache.validate({ repair: true });
    const repairDid = Object.entries(repair.categories).flatMap(([c, r]) => [
      ...r.problems.map((p) => `${c}: ${p.problem} ${p.file ?? ''}${p.detail ? ` (${p.detail})` : ''}`),
      ...r.actions.filter((a) => a !== 'rebuilt index.json').map((a) => `${c}: ${a}`),
    ]);
    const again = await cache.validate();
    const left = Object.entries(again.categories).filter(([, r]) => r.problems.length > 0)
      .map(([c, r]) => `${c}: ${r.problems.map((p) => `${p.problem} ${p.file ?? ''}`).join(', ')}`);
    if (!again.ok || left.length > 0) problems.push(`validate() after repair is not clean (ok ${again.ok}): ${left.join('; ')}`);
    try {
      await checkIndexAtRest(root);
    } catch (error) {
      const text = (error as Error).message;
      const at = text.indexOf('"differences"');
      problems.push(`index.json after validate(): ${(at >= 0 ? text.slice(at) : text).replace(/\s+/g, ' ')}`);
    }

    let version: Version | undefined;
    try {
      const value = await cache.load(CATEGORY, KEY);
      for (const [v, kind] of versions) if (kind && isDeepStrictEqual(value, stepValue(kind, v))) version = v;
      if (version === undefined) problems.push(`load returned a value that is neither the old nor the new: ${describeValue(value)}`);
    } catch (error) {
      if (error instanceof CacheMissError) version = 'miss';
      else problems.push(`load threw ${describeError(error)}`);
    }
    if (version !== undefined && !allowed.includes(version)) problems.push(`load gave ${version === 'miss' ? 'a miss' : `the ${version} value`}; expected ${allowed.join(' or ')}`);

    if (version !== undefined) {
      try {
        const metadata = await cache.loadMetadata(CATEGORY, KEY);
        const kind = versions.find(([v]) => v === version)?.[1];
        if (version === 'miss') problems.push(`loadMetadata gave ${JSON.stringify(metadata)} for a key that load misses`);
        else if (!isDeepStrictEqual(metadata, stepMetadata(kind!, version))) {
          problems.push(`loadMetadata gave ${JSON.stringify(metadata)} with the ${version} value; expected ${JSON.stringify(stepMetadata(kind!, version))}`);
        }
      } catch (error) {
        if (!(error instanceof CacheMissError && version === 'miss')) problems.push(`loadMetadata (${version} value loaded) threw ${describeError(error)}`);
      }
    }
    try {
      if (!isDeepStrictEqual(await cache.load(CATEGORY, BYSTANDER), BYSTANDER_VALUE)) problems.push('the bystander entry changed');
    } catch (error) {
      problems.push(`the bystander entry: load threw ${describeError(error)}`);
    }
    if (problems.length > 0 && repairDid.length > 0) problems.push(`(repair found: ${repairDid.join('; ')})`);
  } finally {
    await cache.close();
  }
  const temps = await tempFiles(root);
  if (temps.length > 0) problems.push(`temporary files remain: ${temps.map((t) => t.slice(root.length + 1)).join(', ')}`);
  return problems;
}

function describeValue(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as Float64Array).length}) [${Array.from((value as Float64Array).subarray(0, 3)).join(', ')}, ...]`;
  return JSON.stringify(value)?.slice(0, 120) ?? String(value);
}

// ---------- the scenarios ----------

/** Every way the scenario falls short, for each kill point; never rejects. */
async function runScenario(scenario: Scenario): Promise<string[]> {
  try {
    // The steps of a whole operation, as this version of the cache takes them.
    const full = await runChild(await prepare(scenario), scenario, 'inf');
    const steps = full.lines.filter((line) => line.startsWith('step ')).map((line) => line.split(' ')[2]);
    if (full.code !== 0 || full.signal !== null || full.lines.at(-1) !== `steps ${steps.length}` || steps.length === 0) {
      return [`the counting run failed (code ${full.code}, signal ${full.signal}): ${full.lines.join(' | ')} ${full.stderr}`];
    }
    const outcomes = await Promise.all(steps.map(async (_name, i) => {
      const n = i + 1;
      const root = await prepare(scenario);
      const run = await runChild(root, scenario, n);
      const taken = run.lines.filter((line) => line.startsWith('step ')).map((line) => line.split(' ')[2]);
      // Named by the steps this run took (the same as the counting run's, unless the sequence varies).
      const where = `killed after step ${n}/${steps.length} (${taken[n - 1] ?? '?'}; steps: ${steps.join(', ')})`;
      const problems: string[] = [];
      if (run.signal !== 'SIGKILL') {
        problems.push(`the child was not killed (code ${run.code}, signal ${run.signal}; ${taken.length} steps this time): ${run.stderr}`);
      }
      // Whatever happened, what the child left must be sound once repaired.
      try {
        problems.push(...await checkRecovered(root, scenario));
      } catch (error) {
        problems.push(`opening or repairing the root threw ${describeError(error)}`);
      }
      return problems.map((problem) => `${where}: ${problem}`);
    }));
    return outcomes.flat();
  } catch (error) {
    return [`the scenario threw ${describeError(error)}`];
  }
}

// All scenarios start together, so that the children of one fill the gaps of another.
let started: Map<string, Promise<string[]>> | undefined;
const outcome = (scenario: Scenario) => {
  started ??= new Map(SCENARIOS.map((s) => [s.name, runScenario(s)]));
  return started.get(scenario.name)!;
};

// Cache only: one pass, not one per WASM build.
describe.runIf(FIRST_BUILD_PASS)('a writer killed after each step of an operation', () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_, scenario) => {
    expect(await outcome(scenario)).toEqual([]);
  }, 120_000);
});
