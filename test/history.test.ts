// fractionalHistory against its definition: for every cell, currentWeight * u^m + history() after pushing
// u^0..u^(m-1) is element m of glDerivative ('gl') or caputoL1 ('l1') along the cell's history; 'fast' within
// its tolerance over 10,000 steps; orders of convergence on a closed-form solution; flat memory; bad input.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CacheManager, cachedKernels, caputoL1, fractionalHistory, glDerivative, init, type FractionalHistory } from '../src/node.js';
import { mulberry32 } from './fixtures/util.js';

type Scheme = 'gl' | 'l1';

function randomStates(steps: number, cells: number, seed: number): Float64Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: steps }, () => Float64Array.from({ length: cells }, () => 2 * rand() - 1));
}

/** Element m of the scheme's operator along each cell's history u^0..u^m. */
function reference(scheme: Scheme, states: Float64Array[], m: number, alpha: number, dt: number): Float64Array {
  const cells = states[0].length;
  const out = new Float64Array(cells);
  for (let c = 0; c < cells; c++) {
    const f = Float64Array.from({ length: m + 1 }, (_, j) => states[j][c]);
    out[c] = (scheme === 'gl' ? glDerivative(f, alpha, dt) : caputoL1(f, alpha, dt))[m];
  }
  return out;
}

/** currentWeight * u^m + history(), the history having seen u^0..u^(m-1). */
function derivative(h: FractionalHistory, next: Float64Array): Float64Array {
  const mem = h.history();
  return mem.map((v, c) => h.currentWeight * next[c] + v);
}

const cases: [Scheme, number][] = [
  ['gl', 0.1], ['gl', 0.5], ['gl', 0.9], ['gl', 1.3], ['gl', 1.9], ['l1', 0.1], ['l1', 0.5], ['l1', 0.9],
];

describe('fractionalHistory, direct', () => {
  it.each(cases)('%s, alpha %s: equals the operator on every cell at every step (1e-12 of the largest term)', (scheme, alpha) => {
    const dt = 1e-2;
    const states = randomStates(70, 7, Math.round(alpha * 100));
    const h = fractionalHistory({ scheme, alpha, dt, cells: 7 });
    const scale = dt ** -alpha;
    for (let m = 0; m < states.length; m++) {
      const got = derivative(h, states[m]);
      const want = reference(scheme, states, m, alpha, dt);
      for (let c = 0; c < 7; c++) expect(Math.abs(got[c] - want[c])).toBeLessThanOrEqual(1e-12 * scale * 2);
      h.push(states[m]);
    }
    expect(h.steps).toBe(70);
    h.dispose();
  });

  it('grows past its first capacities, on a field with an odd number of cells and one of a single cell', () => {
    for (const cells of [1, 1025]) {
      const states = randomStates(40, cells, cells);
      const h = fractionalHistory({ scheme: 'gl', alpha: 0.7, dt: 0.01, cells });
      for (const u of states) h.push(u);
      const next = randomStates(1, cells, 99)[0];
      const want = reference('gl', [...states, next], 40, 0.7, 0.01);
      const got = derivative(h, next);
      for (let c = 0; c < cells; c += 97) expect(got[c]).toBeCloseTo(want[c], 9);
      h.dispose();
    }
  });
});

describe('fractionalHistory, fast', () => {
  it.each(cases)('%s, alpha %s: equals the operator within the tolerance', (scheme, alpha) => {
    const dt = 1e-2;
    const states = randomStates(120, 5, 7 + Math.round(alpha * 10));
    const h = fractionalHistory({ scheme, alpha, dt, cells: 5, method: 'fast', window: 8, horizon: 1000 });
    const scale = dt ** -alpha;
    for (let m = 0; m < states.length; m++) {
      const got = derivative(h, states[m]);
      const want = reference(scheme, states, m, alpha, dt);
      for (let c = 0; c < 5; c++) expect(Math.abs(got[c] - want[c])).toBeLessThanOrEqual(1e-10 * scale);
      h.push(states[m]);
    }
    h.dispose();
  });

  it.each([['gl', 0.5], ['gl', 1.5], ['l1', 0.5]] as [Scheme, number][])(
    '%s, alpha %s: within 1e-10 of the direct sum at every one of 10,000 steps, with flat memory', (scheme, alpha) => {
      const dt = 1e-3;
      const cells = 3;
      const direct = fractionalHistory({ scheme, alpha, dt, cells });
      const fast = fractionalHistory({ scheme, alpha, dt, cells, method: 'fast', horizon: 10_000 });
      const rand = mulberry32(5);
      const scale = dt ** -alpha;
      let worst = 0;
      let bytesAt100 = 0;
      for (let m = 0; m < 10_000; m++) {
        const u = Float64Array.from({ length: cells }, (_, c) => Math.sin(m * 1e-3 * (c + 1)) + 0.1 * (rand() - 0.5));
        if (m % 7 === 0 || m > 9_990) {
          const a = derivative(direct, u);
          const b = derivative(fast, u);
          for (let c = 0; c < cells; c++) worst = Math.max(worst, Math.abs(a[c] - b[c]) / scale);
        }
        direct.push(u);
        fast.push(u);
        if (m === 100) bytesAt100 = fast.bytes;
      }
      expect(worst).toBeLessThanOrEqual(1e-10);
      expect(fast.bytes).toBe(bytesAt100);
      expect(direct.bytes).toBeGreaterThan(10_000 * cells * 8);
      direct.dispose();
      fast.dispose();
    });
});

/**
 * The semi-discrete fractional diffusion D^alpha u = kappa L u + f on (0, 1) with Dirichlet ends, L the 3-point
 * Laplacian, whose exact solution is u = t^2 sin(pi x) when f uses L's own eigenvalue: only the time
 * discretisation errs. Implicit steps: (currentWeight - kappa L) u^m = f^m - history.
 */
function solve(scheme: Scheme, method: 'direct' | 'fast', alpha: number, steps: number): number {
  const cells = 15;
  const dx = 1 / (cells + 1);
  const kappa = 0.5;
  const dt = 1 / steps;
  const mode = Float64Array.from({ length: cells }, (_, j) => Math.sin(Math.PI * (j + 1) * dx));
  const eigen = -(4 / dx ** 2) * Math.sin((Math.PI * dx) / 2) ** 2;
  const gamma3 = 2; // Gamma(3)
  const caputoT2 = (t: number) => (gamma3 / gammaFn(3 - alpha)) * t ** (2 - alpha);
  const h = fractionalHistory({ scheme, alpha, dt, cells, ...(method === 'fast' ? { method, horizon: steps + 1, tolerance: 1e-12 } : {}) });
  let u: Float64Array = new Float64Array(cells);
  h.push(u);
  for (let m = 1; m <= steps; m++) {
    const t = m * dt;
    const mem = h.history();
    const rhs = mode.map((s, j) => (caputoT2(t) - kappa * eigen * t * t) * s - mem[j]);
    u = thomas(h.currentWeight + (2 * kappa) / dx ** 2, -kappa / dx ** 2, rhs);
    h.push(u);
  }
  h.dispose();
  return Math.max(...u.map((v, j) => Math.abs(v - mode[j])));
}

// Solves the symmetric tridiagonal system (diagonal d, off-diagonal e) by the Thomas algorithm.
function thomas(d: number, e: number, rhs: Float64Array): Float64Array {
  const n = rhs.length;
  const c = new Float64Array(n);
  const x = Float64Array.from(rhs);
  let denom = d;
  x[0] /= denom;
  for (let i = 1; i < n; i++) {
    c[i - 1] = e / denom;
    denom = d - e * c[i - 1];
    x[i] = (x[i] - e * x[i - 1]) / denom;
  }
  for (let i = n - 2; i >= 0; i--) x[i] -= c[i] * x[i + 1];
  return x;
}

// Lanczos gamma for the test's own closed form (independent of the library's).
function gammaFn(z: number): number {
  const g = 7;
  const p = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.PI / (Math.sin(Math.PI * z) * gammaFn(1 - z));
  z -= 1;
  let x = p[0];
  for (let i = 1; i < g + 2; i++) x += p[i] / (z + i);
  const t = z + g + 0.5;
  return Math.sqrt(2 * Math.PI) * t ** (z + 0.5) * Math.exp(-t) * x;
}

describe('fractionalHistory converges at the scheme\'s order on a closed-form solution', () => {
  it.each([
    ['gl', 'direct', 0.5, 1], ['gl', 'fast', 0.5, 1], ['gl', 'direct', 0.8, 1],
    ['l1', 'direct', 0.3, 1.7], ['l1', 'fast', 0.3, 1.7], ['l1', 'direct', 0.7, 1.3], ['l1', 'fast', 0.7, 1.3],
  ] as [Scheme, 'direct' | 'fast', number, number][])('%s %s, alpha %s: order %s', (scheme, method, alpha, order) => {
    const errors = [100, 200, 400, 800].map((n) => solve(scheme, method, alpha, n));
    const orders = errors.slice(1).map((e, i) => Math.log2(errors[i] / e));
    expect(orders.at(-1)!).toBeGreaterThan(order - 0.1);
    expect(orders.at(-1)!).toBeLessThan(order + 0.15);
  });
});

describe('fractionalHistory refuses bad input before any WASM runs', () => {
  const base = { scheme: 'gl' as const, alpha: 0.5, dt: 0.01, cells: 4 };
  it('options', () => {
    expect(() => fractionalHistory({ ...base, scheme: 'l2' as never })).toThrow(RangeError);
    expect(() => fractionalHistory({ ...base, alpha: 2 })).toThrow(/alpha in \(0, 2\)/);
    expect(() => fractionalHistory({ ...base, scheme: 'l1', alpha: 1 })).toThrow(/alpha in \(0, 1\)/);
    expect(() => fractionalHistory({ ...base, alpha: Number.NaN })).toThrow(RangeError);
    expect(() => fractionalHistory({ ...base, dt: 0 })).toThrow(RangeError);
    expect(() => fractionalHistory({ ...base, cells: 0 })).toThrow(RangeError);
    expect(() => fractionalHistory({ ...base, cells: 2.5 })).toThrow(RangeError);
    expect(() => fractionalHistory({ ...base, method: 'fast', tolerance: 0 })).toThrow(RangeError);
    expect(() => fractionalHistory({ ...base, method: 'fast', tolerance: 0.5 })).toThrow(RangeError);
    expect(() => fractionalHistory({ ...base, tolerance: 1e-8 })).toThrow(/for method 'fast'/);
    expect(() => fractionalHistory({ ...base, colour: 1 } as never)).toThrow(/colour/);
  });

  it('states, and use after dispose()', () => {
    const h = fractionalHistory(base);
    expect(() => h.push(new Float64Array(3))).toThrow(RangeError);
    expect(() => h.push([1, 2, 3, 4] as never)).toThrow(TypeError);
    expect(() => h.push(Float64Array.of(1, Number.NaN, 2, 3))).toThrow(/u\[1\] = NaN/);
    expect(() => h.push(Float64Array.of(1, 2, Number.POSITIVE_INFINITY, 3))).toThrow(RangeError);
    expect(() => h.history(new Float64Array(5))).toThrow(RangeError);
    h.push(new Float64Array(4));
    h.dispose();
    expect(() => h.push(new Float64Array(4))).toThrow(TypeError);
    expect(() => h.history()).toThrow(TypeError);
  });

  it('running out of WebAssembly memory is a RangeError that says how many bytes were asked for', () => {
    expect(() => fractionalHistory({ ...base, cells: 2 ** 24, method: 'fast', window: 4096, horizon: 10_000 }))
      .toThrow(/need \d+ bytes of WebAssembly memory/);
  });

  it('init() is refused while a history holds state in the kernels\' memory', async () => {
    const h = fractionalHistory(base);
    await expect(init()).rejects.toThrow(/dispose\(\) them before init\(\)/);
    h.dispose();
  });

  it('the fast plan refuses to go past its horizon', () => {
    const h = fractionalHistory({ ...base, method: 'fast', window: 4, horizon: 10 });
    for (let m = 0; m < 10; m++) h.push(new Float64Array(4));
    expect(() => h.push(new Float64Array(4))).toThrow(/covers 10 steps.*larger horizon/);
    h.dispose();
  });
});

describe('the fast plan through the cache', () => {
  it('is computed once, then loaded by the next run, and steps the same', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dase-history-plan-'));
    try {
      const options = { scheme: 'l1' as const, alpha: 0.4, window: 16, horizon: 5000, tolerance: 1e-9 };
      const first = new CacheManager({ root });
      const call = await cachedKernels(first, { policy: 'always' }).historyPlan.withInfo(options);
      expect(call.source).toBe('computed');
      expect(call.key).toBe('history_plan_l1_0.4_w16_h5000_tol1e-09');
      await first.close();
      const second = new CacheManager({ root });
      // 'always' loads every hit ('auto' would compute a plan this small again: it is faster than its load).
      const again = await cachedKernels(second, { policy: 'always' }).historyPlan.withInfo(options);
      expect(again.source).toBe('disk');
      expect(again.value).toEqual(call.value);
      const states = randomStates(50, 3, 11);
      const [a, b] = [call.value, again.value].map((plan) => {
        const h = fractionalHistory({ scheme: 'l1', alpha: 0.4, dt: 0.01, cells: 3, method: 'fast', plan });
        for (const u of states) h.push(u);
        const mem = h.history();
        h.dispose();
        return mem;
      });
      expect(b).toEqual(a);
      expect(() => fractionalHistory({ scheme: 'gl', alpha: 0.4, dt: 0.01, cells: 3, method: 'fast', plan: call.value })).toThrow(/the plan is for/);
      expect(() => fractionalHistory({ scheme: 'l1', alpha: 0.4, dt: 0.01, cells: 3, method: 'fast', plan: call.value, window: 8 }))
        .toThrow(/window comes from the plan/);
      // Written in the background ('auto'): the call's `stored` turns true once the write is done.
      const plans = cachedKernels(second).historyPlan;
      const other = await plans.withInfo({ ...options, horizon: 200_000 });
      expect(other).toMatchObject({ source: 'computed', stored: false, storing: true });
      await plans.settled();
      expect(other).toMatchObject({ stored: true, storing: false });
      await second.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
