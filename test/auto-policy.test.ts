// Policy 'auto''s decisions on their own, against a cost model whose predictions the test sets: when to
// look, load, recompute, store, and what each reason says.
import { describe, expect, it } from 'vitest';
import type { CostModel } from '../src/cost/cost-model.js';
import { STORE_MARGIN, knownCheap, loadOrRecompute, storeOrKeep, formatMs } from '../src/memo/auto-policy.js';
import { FIRST_BUILD_PASS } from './fixtures/util.js';

/** A model that predicts `fixedMs` + 1 ms per MB for any load. */
const model = (fixedMs: number) => ({ predictLoad: (bytes: number) => fixedMs + bytes / 1e6 }) as unknown as CostModel;

describe.runIf(FIRST_BUILD_PASS)("policy 'auto' decisions", () => {
  it('does not look in the cache for a result known to compute faster than any entry could load', () => {
    expect(knownCheap(undefined, model(1))).toBeUndefined();
    expect(knownCheap([0.5, 1000, 1], model(1))!.reason()).toBe(
      'recomputed without looking in the cache: computing it took 500 µs, a load of 1.0 KB takes about 1.00 ms');
    expect(knownCheap([2, 1000, 1], model(1))).toBeUndefined(); // an entry would load faster: worth a look
    // Its own measured load decides over the model's prediction.
    expect(knownCheap([2, 1000, 1, 3], model(1))!.reason()).toMatch(/its load was measured at 3\.00 ms$/);
    expect(knownCheap([-1, 1000, 1, 3], model(1))).toBeUndefined(); // to be measured again: look
  });

  it('loads an entry only when that is predicted to beat computing it, by the newest measured compute time', () => {
    expect(loadOrRecompute(10, 1e6, undefined, model(1))).toMatchObject({ go: true });
    expect(loadOrRecompute(10, 1e6, undefined, model(1)).reason()).toBe('loaded: computing it takes 10.0 ms, a load of 1.0 MB takes about 2.00 ms');
    expect(loadOrRecompute(1.5, 1e6, undefined, model(1))).toMatchObject({ go: false });
    // A later measurement (this process's or an earlier one's) overrides what the entry recorded when stored.
    expect(loadOrRecompute(10, 1e6, [1, 1e6, 5], model(1))).toMatchObject({ go: false });
    expect(loadOrRecompute(0.1, 1e6, [50, 1e6, 5], model(1))).toMatchObject({ go: true });
    expect(loadOrRecompute(10, 1e6, [50, 1e6, 5, 60], model(1))).toMatchObject({ go: false }); // its load was measured slower
  });

  it('computes once an entry that does not say what it cost, or whose compute time is to be measured again', () => {
    for (const missing of [undefined, 'fast', -1, Number.NaN]) {
      const verdict = loadOrRecompute(missing, 1000, undefined, model(0.01));
      expect(verdict.go).toBe(false);
      expect(verdict.reason()).toBe('recomputed: the entry does not say what computing it costs (now measured)');
    }
    const again = loadOrRecompute(4, 1000, [-1, 1000, 5, 3], model(0.01));
    expect(again.go).toBe(false);
    expect(again.reason()).toBe('recomputed to measure it again: its load took 3.00 ms, not well below the 4.00 ms the entry says computing it took when it was stored');
  });

  it(`stores a result only when computing it took ${STORE_MARGIN}x its predicted load`, () => {
    expect(storeOrKeep(4.1, 1e6, model(1))).toMatchObject({ go: true });
    expect(storeOrKeep(4.1, 1e6, model(1)).reason()).toBe('stored: computing it took 4.10 ms, a load of 1.0 MB would take about 2.00 ms');
    expect(storeOrKeep(3.9, 1e6, model(1))).toMatchObject({ go: false });
    expect(storeOrKeep(3.9, 1e6, model(1)).reason()).toMatch(/^kept in memory only: /);
  });

  it('writes times readably', () => {
    expect([0.0001, 0.0123, 0.5, 1, 9.999, 12.34, 123.4, 4567].map(formatMs)).toEqual(
      ['1 µs', '12 µs', '500 µs', '1.00 ms', '10.00 ms', '12.3 ms', '123 ms', '4567 ms']);
  });
});
