// planHistory: its sums of exponentials against the convolution weights recomputed here at every lag, and
// against mpmath (test/vectors/history-plan.json, from test/vectors/generate-history-plan.py); how many
// nodes it needs; its argument checks; and the plan as a cache record.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEY_PATTERN } from '../src/cache/keys.js';
import { packPlan, planHistory, planKey, unpackPlan, type HistoryPlan, type HistoryPlanOptions } from '../src/kernels/history-plan.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/history-plan.json', import.meta.url), 'utf8')) as {
  cases: { scheme: 'gl' | 'l1'; alpha: number; k: number[]; c: string[] }[];
};

// c_0..c_n, written independently of the plan's code. GL by the plain recurrence w_k = w_{k-1} (1 - (alpha+1)/k):
// its rounding grows like sqrt(k) ulps (1e-14 relative at k = 1e5), against GL weights that sum to at most 1,
// far below the tolerances here. L1 as k^beta expm1(beta log1p(1/k)) with beta = 1 - alpha kept as two
// doubles: rounding 1 - alpha to one double changes every weight by ~2e-16 log(k) relative when alpha < 1/2,
// coherently, ~1e-11 summed to k = 1e5 at alpha = 0.1, which tolerance 1e-10 cannot absorb.
function weights(scheme: 'gl' | 'l1', alpha: number, n: number): Float64Array {
  const c = new Float64Array(n + 1);
  c[0] = 1;
  if (scheme === 'gl') {
    for (let k = 1; k <= n; k++) c[k] = c[k - 1] * (1 - (alpha + 1) / k);
    return c;
  }
  const beta = 1 - alpha;
  const betaLo = (1 - beta) - alpha;
  for (let k = 1; k <= n; k++) {
    const l = Math.log1p(1 / k), power = k ** beta, growth = Math.expm1(beta * l);
    c[k] = power * growth + betaLo * power * (Math.log(k) * growth + l * (growth + 1));
  }
  return c;
}

// ĉ_k = Σ_i θ_i λ_i^k for k = from..n (index k), with λ^k by Math.pow of the stored doubles, blocked:
// λ^(k0+m) = λ^k0 λ^m, each power within an ulp.
function approximation(plan: HistoryPlan, from: number, n: number): Float64Array {
  const out = new Float64Array(n + 1);
  const block = 32;
  const table = new Float64Array(block);
  plan.lambdas.forEach((lambda, i) => {
    for (let m = 0; m < block; m++) table[m] = lambda ** m;
    for (let k0 = from; k0 <= n; k0 += block) {
      const start = plan.thetas[i] * lambda ** k0;
      if (start === 0) break;
      for (let m = 0; m < block && k0 + m <= n; m++) out[k0 + m] += start * table[m];
    }
  });
  return out;
}

const relative = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.abs(b));

const MATRIX = [
  ...[0.1, 0.3, 0.5, 0.9, 1.0, 1.3, 1.9].map((alpha) => ['gl', alpha] as const),
  ...[0.1, 0.5, 0.9].map((alpha) => ['l1', alpha] as const),
];

describe('planHistory against the weights at every lag', () => {
  it.each(MATRIX)('%s, alpha = %s: Σ|c_k - ĉ_k| <= tolerance / 4 for windows 2, 16, 64, horizons 1e3, 1e5, tolerances 1e-6, 1e-10', (scheme, alpha) => {
    const c = weights(scheme, alpha, 100_000);
    for (const window of [2, 16, 64]) {
      for (const horizon of [1000, 100_000]) {
        for (const tolerance of [1e-6, 1e-10]) {
          const what = `${scheme} alpha ${alpha} window ${window} horizon ${horizon} tolerance ${tolerance}`;
          const plan = planHistory({ scheme, alpha, window, horizon, tolerance });
          const approx = approximation(plan, window + 1, horizon);
          let sum = 0, max = 0;
          for (let k = window + 1; k <= horizon; k++) {
            const e = Math.abs(c[k] - approx[k]);
            sum += e;
            max = Math.max(max, e);
          }
          expect(sum, what).toBeLessThanOrEqual(tolerance / 4);
          // The plan measured the same thing with its own code: equal but for rounding.
          if (sum > 0 || plan.errorSum > 0) {
            expect(plan.errorSum / sum, what).toBeGreaterThan(0.5);
            expect(plan.errorSum / sum, what).toBeLessThan(2);
            expect(plan.errorMax / max, what).toBeGreaterThan(0.5);
            expect(plan.errorMax / max, what).toBeLessThan(2);
          }
          expect(plan.lambdas.length, what).toBeLessThanOrEqual(100);
          for (let k = 1; k <= window; k++) expect(relative(plan.windowWeights[k - 1], c[k]), `${what}, c_${k}`).toBeLessThan(1e-14);
        }
      }
    }
  });

  it('describes its nodes: lambda in (0, 1], thetas of one sign, lambda^(W+1) to a few ulps', () => {
    for (const [scheme, alpha] of MATRIX) {
      if (scheme === 'gl' && alpha === 1) continue;
      const window = 16;
      const plan = planHistory({ scheme, alpha, window, horizon: 100_000, tolerance: 1e-10 });
      const sign = Math.sign(plan.thetas[0]);
      plan.lambdas.forEach((lambda, i) => {
        expect(lambda > 0 && lambda <= 1).toBe(true);
        expect(Math.sign(plan.thetas[i])).toBe(sign);
        expect(relative(plan.lambdasPastWindow[i], lambda ** (window + 1))).toBeLessThan(1e-14);
      });
      expect(plan.lambdas).toContain(1); // the collapsed nodes far below 1 / horizon
    }
  });
});

describe('planHistory against mpmath', () => {
  it.each(vectors.cases.map((c) => [c.scheme, c.alpha, c] as const))('%s, alpha = %s: window weights within 1e-15 relative up to W = 4096', (scheme, alpha, c) => {
    const plan = planHistory({ scheme, alpha, window: 4096, horizon: 4097, tolerance: 1e-6 });
    c.k.forEach((k, i) => {
      if (k > 4096) return;
      const exact = Number(c.c[i]);
      if (exact === 0) expect(plan.windowWeights[k - 1]).toBe(0);
      else expect(relative(plan.windowWeights[k - 1], exact), `c_${k}`).toBeLessThan(1e-15);
    });
  });

  // The lags between the verification's samples (past 2^17) are where its gap bound could be wrong.
  it.each(vectors.cases.map((c) => [c.scheme, c.alpha, c] as const))('%s, alpha = %s: |c_k - ĉ_k| at horizon 1e8 within twice the errorMax the plan measured', (scheme, alpha, c) => {
    // The L1 weights sum to ~1e8^(1-alpha): ask for what float64 can verify.
    const tolerance = scheme === 'gl' ? 1e-10 : Math.max(1e-10, 1e-14 * 1e8 ** (1 - alpha));
    const window = 32;
    const plan = planHistory({ scheme, alpha, window, horizon: 1e8, tolerance });
    expect(plan.errorSum).toBeLessThanOrEqual(tolerance / 4);
    c.k.forEach((k, i) => {
      if (k <= window) return;
      let approx = 0;
      plan.lambdas.forEach((lambda, j) => { approx += plan.thetas[j] * lambda ** k; });
      const exact = Number(c.c[i]);
      expect(Math.abs(approx - exact), `k = ${k}`).toBeLessThanOrEqual(2 * plan.errorMax + 4 * 2 ** -53 * Math.abs(exact));
    });
  });
});

describe('planHistory node counts', () => {
  it('grow like log(horizon / tolerance): at most 100 at 1e-10, less than 3x from horizon 1e3 to 1e6', () => {
    for (const [scheme, alpha] of [['gl', 0.5], ['gl', 1.5], ['gl', 0.1], ['l1', 0.5], ['l1', 0.9]] as const) {
      const p = (horizon: number) => planHistory({ scheme, alpha, window: 32, horizon, tolerance: 1e-10 }).lambdas.length;
      const [short, long] = [p(1000), p(1_000_000)];
      expect(long, `${scheme} ${alpha}`).toBeLessThanOrEqual(100);
      expect(long / short, `${scheme} ${alpha}`).toBeLessThan(3);
    }
  });

  it('has no nodes for GL at alpha = 1, whose weights vanish past k = 1', () => {
    const plan = planHistory({ scheme: 'gl', alpha: 1, window: 8, horizon: 1e6, tolerance: 1e-10 });
    expect(plan.lambdas.length).toBe(0);
    expect(plan.thetas.length).toBe(0);
    expect(plan.lambdasPastWindow.length).toBe(0);
    expect(plan.windowWeights).toEqual(new Float64Array([-1, 0, 0, 0, 0, 0, 0, 0]));
    expect([plan.errorSum, plan.errorMax]).toEqual([0, 0]);
  });
});

describe('planHistory arguments', () => {
  const good: HistoryPlanOptions = { scheme: 'gl', alpha: 0.5, window: 16, horizon: 1000, tolerance: 1e-8 };
  const bad = (change: Record<string, unknown>) => () => planHistory({ ...good, ...change } as unknown as HistoryPlanOptions);

  it('rejects bad values with messages that say what was expected', () => {
    expect(bad({ scheme: 'caputo' })).toThrow(new RangeError('planHistory: expected scheme to be one of "gl", "l1", got "caputo"'));
    expect(bad({ scheme: 1 })).toThrow(TypeError);
    expect(bad({ alpha: 2 })).toThrow(new RangeError("planHistory: expected alpha in (0, 2) for scheme 'gl', got 2"));
    expect(bad({ alpha: 0 })).toThrow(RangeError);
    expect(bad({ scheme: 'l1', alpha: 1 })).toThrow(new RangeError("planHistory: expected alpha in (0, 1) for scheme 'l1', got 1"));
    expect(bad({ alpha: NaN })).toThrow(/expected alpha to be a finite number, got NaN/);
    expect(bad({ alpha: '0.5' })).toThrow(TypeError);
    expect(bad({ window: 1 })).toThrow(new RangeError('planHistory: expected window to be an integer in [2, 4096], got 1'));
    expect(bad({ window: 4097, horizon: 5000 })).toThrow(RangeError);
    expect(bad({ window: 2.5 })).toThrow(RangeError);
    expect(bad({ horizon: 16 })).toThrow(new RangeError('planHistory: expected horizon to be an integer in [17, 100000000], got 16'));
    expect(bad({ horizon: 1e8 + 1 })).toThrow(RangeError);
    expect(bad({ tolerance: 1e-15 })).toThrow(new RangeError('planHistory: expected tolerance in [1e-14, 0.01], got 1e-15'));
    expect(bad({ tolerance: 0.1 })).toThrow(RangeError);
    expect(bad({ tolerance: Infinity })).toThrow(RangeError);
    expect(bad({ tolerence: 1e-8 })).toThrow(/unknown option "tolerence"/);
    expect(() => planHistory(undefined as unknown as HistoryPlanOptions)).toThrow(TypeError);
    expect(() => planHistory(null as unknown as HistoryPlanOptions)).toThrow(TypeError);
    expect(() => planKey({ ...good, window: 0 })).toThrow(RangeError);
    expect(planHistory(good).lambdas.length).toBeGreaterThan(0); // still usable
  });

  it('refuses an L1 tolerance below what float64 rounding of the weights allows', () => {
    // The L1 weights at alpha = 0.1 sum to 2.5e5 up to lag 1e6; each carries ~1e-16 relative rounding.
    expect(() => planHistory({ scheme: 'l1', alpha: 0.1, window: 2, horizon: 1e6, tolerance: 1e-10 }))
      .toThrow(/planHistory: expected tolerance >= 4\.5e-10 for scheme 'l1', alpha = 0\.1, window = 2, horizon = 1000000 .*got 1e-10/);
    expect(planHistory({ scheme: 'l1', alpha: 0.1, window: 2, horizon: 1e6, tolerance: 1e-9 }).errorSum).toBeLessThanOrEqual(2.5e-10);
  });
});

describe('the plan as a cache record', () => {
  const options: HistoryPlanOptions = { scheme: 'l1', alpha: 0.5, window: 32, horizon: 100_000, tolerance: 1e-10 };

  it('packs into Float64Arrays and back', () => {
    const plan = planHistory(options);
    const record = packPlan(plan);
    expect(Object.keys(record).sort()).toEqual(['lambdas', 'lambdasPastWindow', 'params', 'thetas', 'windowWeights']);
    for (const value of Object.values(record)) expect(value).toBeInstanceOf(Float64Array);
    expect(Array.from(record.params)).toEqual([1, 0.5, 32, 100_000, 1e-10, plan.errorSum, plan.errorMax]);
    expect(unpackPlan(record)).toEqual(plan);
    // As a cache would hand it back: fresh copies of the bytes.
    const copied = Object.fromEntries(Object.entries(record).map(([key, value]) => [key, new Float64Array(value)]));
    expect(unpackPlan(copied)).toEqual(plan);
    const gl = planHistory({ ...options, scheme: 'gl' });
    expect(unpackPlan(packPlan(gl))).toEqual(gl);
  });

  it('refuses a record that is not a plan', () => {
    const record = packPlan(planHistory({ ...options, horizon: 1000 }));
    expect(() => unpackPlan({ ...record, params: new Float64Array(6) })).toThrow(/expected record\.params to have length 7, got length 6/);
    expect(() => unpackPlan({ ...record, params: Float64Array.of(2, 0.5, 32, 1000, 1e-10, 0, 0) })).toThrow(RangeError);
    expect(() => unpackPlan({ ...record, thetas: record.thetas.subarray(1) })).toThrow(RangeError);
    expect(() => unpackPlan({ ...record, windowWeights: new Float64Array(3) })).toThrow(/expected windowWeights to have length 32/);
    const { lambdas: _, ...missing } = record;
    expect(() => unpackPlan(missing)).toThrow(TypeError);
    expect(() => unpackPlan(null as unknown as Record<string, Float64Array>)).toThrow(TypeError);
  });

  it('has a readable key that the cache accepts', () => {
    expect(planKey({ scheme: 'gl', alpha: 0.5, window: 32, horizon: 100_000, tolerance: 1e-10 })).toBe('history_plan_gl_0.5_w32_h100000_tol1e-10');
    expect(planKey({ scheme: 'l1', alpha: 0.25, window: 64, horizon: 1e6, tolerance: 1e-8 })).toBe('history_plan_l1_0.25_w64_h1000000_tol1e-08');
    expect(planKey(options)).toMatch(KEY_PATTERN);
  });
});
