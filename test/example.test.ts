// The example simulation (npm start) on a small grid and a temporary cache root: the warm run loads the
// simulation from disk and gets the identical result. Its time stepping through fractionalHistory gives what
// the old TypeScript loop over the whole history gave (bench/diffusion-reference.ts), with either method.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fractionalKernel, laplacian } from '../src/node.js';
import { planHistory } from '../src/kernels/history-plan.js';
import { historyPlanOptions, setup, simulate, simulateWithStats, type DiffusionParams } from '../examples/diffusion-model.js';
import { simulateReference } from '../bench/diffusion-reference.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function runExample(root: string, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'examples/fractional-diffusion.ts', ...args],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, DASE_CACHE_DIR: root } });
}

it('examples/fractional-diffusion.ts runs cold then warm and the warm run loads the simulation', () => {
  const root = mkdtempSync(join(tmpdir(), 'dase-example-'));
  try {
    const run = runExample(root, ['--grid', '12', '--steps', '40']);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toContain("12x12 grid, 40 steps of 0.001, history 'fast'");
    const simulation = lines.find((l) => l.startsWith('simulation'))!;
    expect(simulation).toMatch(/state_profiles\/fractional-diffusion_0\.5_12_40_0\.001_fast +computed, stored .* loaded \(disk\)/);
    expect(lines.find((l) => l.startsWith('fractional kernel'))).toContain('fractional_kernels/kernel_0.5_0.001_41');
    expect(lines.find((l) => l.startsWith('Laplacian'))).toContain('stencils/laplacian_2d_12_12_dirichlet_h0.07692307692307693');
    expect(lines.find((l) => l.startsWith('history plan'))).toContain('fractional_kernels/history_plan_gl_0.5_w32_h40_tol1e-12');
    expect(run.stdout).toMatch(/end to end \(the job\) .* \d+\.\dx/);
    expect(run.stdout).toContain('(warm run: identical)');
    expect(run.stdout).toContain(`cache: ${root}`);
    expect(readdirSync(join(root, 'state_profiles'))).toContain('fractional-diffusion_0.5_12_40_0.001_fast.npz');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

it('--method direct has no history plan and a key of its own; --long reports the memory the history held', () => {
  const root = mkdtempSync(join(tmpdir(), 'dase-example-'));
  try {
    const direct = runExample(root, ['--grid', '8', '--steps', '30', '--method', 'direct']);
    expect(direct.status, direct.stderr).toBe(0);
    expect(direct.stdout).toContain('state_profiles/fractional-diffusion_0.5_8_30_0.001_direct');
    expect(direct.stdout).not.toContain('history plan');
    const long = runExample(root, ['--long', '--steps', '500', '--grid', '8']);
    expect(long.status, long.stderr).toBe(0);
    expect(long.stdout).toMatch(/500 steps in \d+\.\d\d s: \d+ µs a step/);
    // A window of 32 states, p exponential sums and the last state, 8 x 8 doubles each.
    expect(long.stdout).toMatch(/history held: [\d.]+ kB of WebAssembly memory \(a window of 32 states and \d+ sums of exponentials\)/);
    const bad = runExample(root, ['--method', 'exact']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--method expects fast or direct, got exact');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

describe('the simulation through fractionalHistory', () => {
  // 300 steps: lags past the window of 32 go through the sums of exponentials.
  const params: DiffusionParams = { alpha: 0.6, grid: 16, steps: 300, dt: 1e-3 };
  const { h, kappa } = setup(params);
  const kernel = fractionalKernel(params.alpha, params.dt, params.steps + 1);
  const lap = laplacian([params.grid, params.grid], { spacing: h });
  const reference = simulateReference(params.grid, params.steps, kappa, kernel, lap);

  /** max |a - b| over max |b|. */
  const relative = (a: Float64Array, b: Float64Array) => {
    let diff = 0, top = 0;
    for (let i = 0; i < b.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      top = Math.max(top, Math.abs(b[i]));
    }
    return diff / top;
  };

  it.each(['direct', 'fast'] as const)("with method '%s', equals the old loop over the whole history to 1e-9 relative", (method) => {
    const plan = method === 'fast' ? planHistory(historyPlanOptions(params)) : undefined;
    const result = simulate({ ...params, method }, { kernel, lap, plan });
    expect(Array.from(result.frames)).toEqual(Array.from(reference.frames));
    expect(result.snapshots.shape).toEqual(reference.snapshots.shape);
    expect(relative(result.snapshots.data, reference.snapshots.data)).toBeLessThan(1e-9);
    expect(relative(result.centre, reference.centre)).toBeLessThan(1e-9);
  });

  it("holds flat memory with 'fast', every state with 'direct'", () => {
    const cells = params.grid ** 2;
    const fast = simulateWithStats(params, { kernel, lap });
    const direct = simulateWithStats({ ...params, method: 'direct' }, { kernel, lap });
    expect(direct.historyBytes).toBeGreaterThanOrEqual(params.steps * cells * 8);
    expect(fast.historyBytes).toBeLessThan(200 * cells * 8);
    const longer = simulateWithStats({ ...params, steps: 1000 }, { kernel: fractionalKernel(params.alpha, params.dt, 1001), lap });
    // A longer horizon needs a few more exponentials, not more states.
    expect(longer.historyBytes).toBeLessThan(fast.historyBytes * 1.3);
  });

  it('refuses a kernel shorter than the run', () => {
    expect(() => simulate(params, { kernel: kernel.subarray(0, 100), lap })).toThrow(/the kernel has 100 weights, 301 are needed/);
  });
});
