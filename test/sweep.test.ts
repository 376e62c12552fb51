// The parameter sweep (examples/sweep.ts) on 2 worker processes, a BullMQ queue and a Redis remote started for
// it: every job finishes with the model's own result, each shared key is computed by one worker only, and a
// second round on cleared local caches computes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fractionalKernel, laplacian } from '../src/node.js';
import { setup, simulate } from '../examples/diffusion-model.js';
import { runSweep, type SweepReport } from '../examples/sweep.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';

const ALPHAS = [0.4, 0.8];
const GRIDS = [8, 12];
const STEPS = [20, 40];
const DT = 1e-3;
const JOBS = ALPHAS.length * GRIDS.length * STEPS.length;

describe.skipIf(!FIRST_BUILD_PASS)('the parameter sweep over BullMQ workers', () => {
  let root: string;
  let report: SweepReport;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'dase-sweep-'));
    report = await runSweep({ workers: 2, alphas: ALPHAS, grids: GRIDS, steps: STEPS, dt: DT, repeat: 2, root, quiet: true, traces: true, timeoutMs: 30_000 });
  }, 30_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finishes every job of both rounds, on the workers it started', () => {
    expect(report.startedRedis).toBe(true);
    expect(report.rows).toHaveLength(2 * JOBS);
    for (const round of [1, 2]) {
      const rows = report.rows.filter((r) => r.round === round);
      expect(rows.map((r) => r.index).sort((a, b) => a - b)).toEqual([...Array(JOBS).keys()]);
    }
    for (const row of report.rows) {
      expect(row.worker).toMatch(/^worker-[01]$/);
      expect(row.calls.map((c) => c.label)).toEqual(['fractional kernel', 'Laplacian (CSR)', 'history plan', 'simulation', 'D^alpha of the centre trace']);
    }
    expect(report.jobs).toBe(2 * JOBS);
    expect(report.calls).toBe(2 * JOBS * 5);
  });

  it('gives the centre trace a direct call of the model gives (its history plan made on the spot)', () => {
    for (const row of report.rows) {
      const { alpha, grid, steps, dt } = row.params;
      const { h } = setup(row.params);
      const direct = simulate(row.params, { kernel: fractionalKernel(alpha, dt, steps + 1), lap: laplacian([grid, grid], { spacing: h }) });
      expect(row.centre, `alpha ${alpha} grid ${grid} steps ${steps}, round ${row.round}`).toEqual(Array.from(direct.centre));
    }
  });

  it('computes each key once across the workers in the first round: the others download it or find it in memory', () => {
    const first = report.rows.filter((r) => r.round === 1);
    const computed = new Map<string, number>();
    const used = new Map<string, number>();
    for (const call of first.flatMap((r) => r.calls)) {
      used.set(call.key, (used.get(call.key) ?? 0) + 1);
      if (call.source === 'computed') computed.set(call.key, (computed.get(call.key) ?? 0) + 1);
    }
    // Every key was computed exactly once, shared ones included (a kernel and a history plan per alpha and steps,
    // a Laplacian per grid).
    expect([...used.keys()].filter((key) => computed.get(key) !== 1)).toEqual([]);
    const shared = [...used].filter(([, n]) => n > 1).map(([key]) => key);
    expect(shared.filter((k) => k.startsWith('fractional_kernels/kernel_'))).toHaveLength(ALPHAS.length * STEPS.length);
    expect(shared.filter((k) => k.startsWith('fractional_kernels/history_plan_'))).toHaveLength(ALPHAS.length * STEPS.length);
    expect(shared.filter((k) => k.startsWith('stencils/'))).toHaveLength(GRIDS.length);
    // Both workers took jobs (both wait on the queue before the first job is queued), so keys did cross between them.
    expect(new Set(first.map((r) => r.worker)).size).toBe(2);
    expect(report.rounds[0].saved.remote).toBeGreaterThan(0);
    // Nothing was on the workers' cleared local disks.
    expect(report.rounds[0].saved.disk).toBe(0);
    expect(report.rounds[0].computed).toBe(used.size);
  });

  it('computes nothing in the second round: fresh workers on cleared caches download everything from the remote', () => {
    const second = report.rows.filter((r) => r.round === 2);
    const sources = second.flatMap((r) => r.calls.map((c) => c.source));
    expect(sources.filter((s) => s === 'computed')).toEqual([]);
    expect(sources.filter((s) => s === 'disk')).toEqual([]);
    // Each worker downloads a key the first time it needs it; whole simulations among them.
    expect(second.every((r) => r.calls.find((c) => c.label === 'simulation')!.source === 'remote')).toBe(true);
    expect(report.rounds[1]).toMatchObject({ computed: 0, jobs: JOBS });
    expect(report.rounds[1].saved.remote).toBeGreaterThanOrEqual(JOBS * 2);
    expect(report.computed).toBe(report.rounds[0].computed);
    // The workers' remote counts: every computed result was published, every download verified.
    const remote = Object.values(report.perWorker).map((w) => w.remote!);
    expect(remote.reduce((n, r) => n + r.uploads, 0)).toBe(report.computed);
    expect(remote.every((r) => r.errors === 0 && r.timeouts === 0 && r.rejected === 0)).toBe(true);
  });
});
