// The long run of the cache's model-based test (test/cache-model.test.ts runs it briefly with fixed seeds):
// fresh seeds until the time is up, for each scenario in turn; every failure is printed with its seed, its
// fast-check path and the shrunk command sequence in words (or, for a crash, the kill and the keys' history),
// and the run exits with code 1 if there was any.
//
//   npx tsx scripts/fuzz-cache.ts [--minutes 10] [--scenario model|faults|crash|all] [--skip check,...]
//   npx tsx scripts/fuzz-cache.ts --scenario model --seed S --path P [--replay-path R]   # replay a failure
//   npx tsx scripts/fuzz-cache.ts --scenario crash --seed S --kill rename:3:after          # replay a crash round
//
// Options:
//   --minutes N        how long to run (default 10)
//   --scenario X       model, faults, crash, or all (default, in turn)
//   --seed S           replay one seed (with --path, --replay-path for model and faults; --kill for crash)
//   --runs N           fast-check runs per seed (default 100)
//   --max-commands N   commands per run at most (default 60)
//   --ops N            operations per crash plan (default 40)
//   --crash-rounds N   crash rounds (fresh seed and kill each) per turn of the crash scenario (default 5)
//   --skip a,b         named checks to leave out, to look past a known failure (--list-checks)
//   --keys a,b         the keys commands use (default: every key of the scenario)
//   --drop-keys a,b    leave these keys out (e.g. index, to look past its failure)
//   --targets a,b      the file calls faults go to (default all: writeTemp, writeAtomic, append, rename,
//                      remove, makeDir, anyWrite, any)
//   --keep             keep the root of a failed crash round
//   --stop             stop at the first failure
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import {
  ALL_KEYS, CHECKS, FAULT_KEYS, FAULT_TARGETS, counters, describeCrashOutcome, describeFailure, formatKill, parseKill,
  randomKill, runCrashRound, scenarioProperty, type FaultTarget, type KillPlan,
} from '../test/fixtures/cache-model.js';
import { mulberry32 } from '../test/fixtures/util.js';
import { killAll } from '../test/fixtures/worker-process.js';

type Scenario = 'model' | 'faults' | 'crash';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    scenario: { type: 'string', default: 'all' },
    seed: { type: 'string' },
    path: { type: 'string' },
    'replay-path': { type: 'string' },
    kill: { type: 'string' },
    runs: { type: 'string', default: '100' },
    'max-commands': { type: 'string', default: '60' },
    ops: { type: 'string', default: '40' },
    'crash-rounds': { type: 'string', default: '5' },
    skip: { type: 'string', default: '' },
    keys: { type: 'string' },
    'drop-keys': { type: 'string', default: '' },
    targets: { type: 'string' },
    keep: { type: 'boolean', default: false },
    stop: { type: 'boolean', default: false },
    'list-checks': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  const text = (await import('node:fs')).readFileSync(new URL(import.meta.url), 'utf8');
  console.log(text.split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}
if (args['list-checks']) {
  for (const [name, what] of Object.entries(CHECKS)) console.log(`${name.padEnd(24)} ${what}`);
  process.exit(0);
}

const scenarios: Scenario[] = args.scenario === 'all' ? ['model', 'faults', 'crash'] : [args.scenario as Scenario];
for (const s of scenarios) if (!['model', 'faults', 'crash'].includes(s)) throw new RangeError(`--scenario: expected model, faults, crash or all, got ${s}`);
const skip = args.skip.split(',').filter(Boolean);
for (const name of skip) if (!(name in CHECKS)) throw new RangeError(`--skip: unknown check ${name} (see --list-checks)`);
const dropKeys = args['drop-keys'].split(',').filter(Boolean);
const keysOf = (scenario: 'model' | 'faults') =>
  (args.keys?.split(',').filter(Boolean) ?? (scenario === 'model' ? ALL_KEYS : FAULT_KEYS)).filter((k) => !dropKeys.includes(k));
const targets = args.targets?.split(',').filter(Boolean) as FaultTarget[] | undefined;
for (const t of targets ?? []) if (!FAULT_TARGETS.includes(t)) throw new RangeError(`--targets: unknown target ${t}`);
const runs = Number(args.runs);
const maxCommands = Number(args['max-commands']);
const ops = Number(args.ops);
const crashRounds = Number(args['crash-rounds']);
const deadline = Date.now() + Number(args.minutes) * 60_000;
const children = new Set<ChildProcess>();
process.on('exit', () => killAll(children));

const failures: string[] = [];
const byCheck = new Map<string, number>();
const bySignature = new Map<string, number>();
/** Prints a failure; after 3 of the same kind (check and message, numbers and quoted names aside), one line each. */
const note = (text: string) => {
  const check = /\[([a-z-]+)\]/.exec(text)?.[1] ?? 'other';
  byCheck.set(check, (byCheck.get(check) ?? 0) + 1);
  failures.push(text);
  const problem = text.split('\n').find((l) => /\[[a-z-]+\]/.test(l)) ?? text.split('\n')[0];
  const signature = problem.slice(problem.indexOf('[')).replace(/"[^"]*"/g, '"…"').replace(/\b[0-9a-f]{8,}\b|\d+/g, 'N').slice(0, 160);
  const seen = (bySignature.get(signature) ?? 0) + 1;
  bySignature.set(signature, seen);
  if (seen <= 3) console.log(`\n${'='.repeat(100)}\n${text}\n${'='.repeat(100)}\n`);
  else console.log(`(again, ${seen}th time: ${text.split('\n')[0]} — ${problem.slice(0, 160)})`);
};

/** One seed of a command scenario; the failure in words, or undefined. */
async function commandSeed(scenario: 'model' | 'faults', seed: number, replay?: { path?: string; replayPath?: string }): Promise<string | undefined> {
  const property = scenarioProperty(scenario, { skip, maxCommands, keys: keysOf(scenario), ...(targets ? { targets } : {}), ...(replay?.replayPath ? { replayPath: replay.replayPath } : {}) });
  const remaining = Math.max(1000, deadline - Date.now());
  const details = await fc.check(property, {
    seed, numRuns: replay?.path ? 1 : runs,
    ...(replay?.path ? { path: replay.path, endOnFailure: true } : {}),
    plugins: [fc.interruptAfterTimeLimit(remaining)],
  });
  if (!details.failed) return undefined;
  return describeFailure(details, scenario, ` --max-commands ${maxCommands}${skip.length ? ` --skip ${skip.join(',')}` : ''}`
    + `${args.keys ? ` --keys ${args.keys}` : ''}${dropKeys.length ? ` --drop-keys ${dropKeys.join(',')}` : ''}${targets ? ` --targets ${targets.join(',')}` : ''}`);
}

async function crashSeed(seed: number, kill: KillPlan): Promise<string | undefined> {
  const outcome = await runCrashRound({ seed, ops, kill }, children, { skip, keepRoot: args.keep });
  if (outcome.problems.length === 0) return undefined;
  return `${describeCrashOutcome(outcome)}\nreplay: npx tsx scripts/fuzz-cache.ts --scenario crash --seed ${seed} --ops ${ops} --kill ${formatKill(kill)}`
    + `${skip.length ? ` --skip ${skip.join(',')}` : ''}`;
}

const started = Date.now();
let seeds = 0;
if (args.seed !== undefined) {
  // Replay.
  const seed = Number(args.seed);
  for (const scenario of scenarios) {
    if (scenario === 'crash') {
      const random = mulberry32(seed);
      const kills = args.kill ? [parseKill(args.kill)] : Array.from({ length: 20 }, () => randomKill(random, ops));
      for (const kill of kills) {
        const failure = await crashSeed(seed, kill);
        if (failure) note(failure);
      }
    } else {
      const failure = await commandSeed(scenario, seed, { path: args.path, replayPath: args['replay-path'] });
      if (failure) note(failure);
    }
  }
} else {
  const random = mulberry32(Date.now() ^ process.pid);
  let lastReport = Date.now();
  outer: while (Date.now() < deadline) {
    for (const scenario of scenarios) {
      if (Date.now() >= deadline) break;
      for (let round = 0; round < (scenario === 'crash' ? crashRounds : 1) && Date.now() < deadline; round++) {
        const seed = Math.floor(random() * 2 ** 31);
        seeds++;
        const failure = scenario === 'crash' ? await crashSeed(seed, randomKill(random, ops)) : await commandSeed(scenario, seed);
        if (failure) {
          note(failure);
          if (args.stop) break outer;
        }
      }
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        console.log(`… ${Math.round((Date.now() - started) / 1000)} s: ${seeds} seeds, ${counters.runs} runs, ${counters.commands} commands, `
          + `${counters.faultsFired} faults, ${counters.crashRounds} crash rounds (${counters.kills} kills), ${failures.length} failures`);
      }
    }
  }
}

killAll(children);
console.log(`\nfuzz-cache: ${Math.round((Date.now() - started) / 1000)} s, ${seeds || 1} seeds, ${counters.runs} runs, ${counters.commands} commands, `
  + `${counters.faultsFired} faults fired (${counters.failedSaves} failed saves), ${counters.crashRounds} crash rounds (${counters.kills} kills); `
  + `${failures.length} failures${failures.length ? ` (${[...byCheck].map(([c, n]) => `${c}: ${n}`).join(', ')})` : ''}`);
if (bySignature.size > 0) {
  console.log('failures by kind:');
  for (const [signature, n] of [...bySignature].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${signature}`);
}
process.exit(failures.length > 0 ? 1 : 0);
