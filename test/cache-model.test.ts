// A model-based random test of the cache (fast-check's fc.commands): random sequences of every operation,
// on every value kind and on keys that look like the cache's own files, compared step by step with an
// in-memory model; the same with writes failing (ENOSPC, EIO, EDQUOT) at the file layer; and writers killed
// with SIGKILL at random moments, after which every key must hold its acknowledged value (or, for the one
// in flight, the old or the new one). The commands, model and checks are in fixtures/cache-model.ts; the
// long run with fresh seeds is scripts/fuzz-cache.ts.
//
// Fixed seeds and short runs here (each under ~5 s). A failure prints the shrunk command sequence in words,
// with the command that replays it (`npx tsx scripts/fuzz-cache.ts --scenario <name> --seed <s> --path <p> ...`).
import type { ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  counters, describeCrashOutcome, randomKill, runCrashRound, scenarioProperty, scenarioReporter, type CrashOutcome,
} from './fixtures/cache-model.js';
import { mulberry32 } from './fixtures/util.js';
import { killAll } from './fixtures/worker-process.js';

// Each project (simd, scalar) runs this file: a seed of its own for each, so the two runs add coverage.
const PROJECT_SEED = process.env.DASE_WASM_BUILD === 'scalar' ? 1000 : 0;
const MAX_COMMANDS = 40;

const children = new Set<ChildProcess>();
afterEach(() => killAll(children));

describe('cache model', () => {
  it('random operations on every value kind and edge key agree with the model; validate and close leave index.json true to the files', async () => {
    const started = Date.now();
    const before = { ...counters };
    await fc.assert(scenarioProperty('model', { maxCommands: MAX_COMMANDS }), {
      seed: 20_261_124 + PROJECT_SEED, numRuns: 100, plugins: [fc.interruptAfterTimeLimit(12_000)], asyncReporter: scenarioReporter('model', MAX_COMMANDS),
    });
    console.log(`cache model: ${counters.runs - before.runs} runs, ${counters.commands - before.commands} commands, ${Date.now() - started} ms`);
  }, 60_000);

  it('failed writes (ENOSPC, EIO, EDQUOT) change nothing and leave no temporary file; a failing close loses no acknowledged save', async () => {
    const started = Date.now();
    const before = { ...counters };
    await fc.assert(scenarioProperty('faults', { maxCommands: MAX_COMMANDS }), {
      seed: 31_415 + PROJECT_SEED, numRuns: 100, plugins: [fc.interruptAfterTimeLimit(12_000)], asyncReporter: scenarioReporter('faults', MAX_COMMANDS),
    });
    console.log(`cache model with faults: ${counters.runs - before.runs} runs, ${counters.commands - before.commands} commands, `
      + `${counters.faultsFired - before.faultsFired} faults fired, ${counters.failedSaves - before.failedSaves} failed saves, ${Date.now() - started} ms`);
  }, 60_000);

  it('writers killed with SIGKILL: after repair every key holds its acknowledged value, or the old or new one if in flight; index.json is true to the files', async () => {
    const started = Date.now();
    const ROUNDS = 10;
    const OPS = 30;
    const random = mulberry32(7 + PROJECT_SEED);
    const outcomes: CrashOutcome[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const seed = 100 + PROJECT_SEED + round;
      outcomes.push(await runCrashRound({ seed, ops: OPS, kill: randomKill(random, OPS) }, children));
    }
    const failures = outcomes.filter((o) => o.problems.length > 0).map(describeCrashOutcome);
    console.log(`cache model crashes: ${ROUNDS} rounds, ${outcomes.filter((o) => o.killed).length} killed mid-plan, `
      + `${outcomes.filter((o) => o.inFlight !== undefined).length} with an operation in flight, ${Date.now() - started} ms`);
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 60_000);
});
