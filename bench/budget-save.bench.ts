// What keeping a budget costs a save: a save into a full root, which evicts one entry to fit (under the
// root's eviction lock, every category's view refreshed, the queue built, a delete), against the same save
// into a root with no budget, interleaved in one process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheManager } from '../src/node.js';
import { compareAsync, type ComparisonResult } from './_harness.js';

const ENTRY = 64 * 1024; // bytes of each saved array
const FULL = 64; // entries the budget holds

export async function benchBudgetSave(): Promise<ComparisonResult[]> {
  const base = mkdtempSync(join(tmpdir(), 'dase-budget-save-'));
  try {
    const bounded = new CacheManager({ root: join(base, 'bounded'), maxBytes: FULL * (ENTRY + 512) });
    const unbounded = new CacheManager({ root: join(base, 'unbounded') });
    const value = new Float64Array(ENTRY / 8).fill(1);
    for (let i = 0; i < FULL; i++) await bounded.save('state_profiles', `fill_${i}`, value, { metadata: { compute_ms: 1 + (i % 7) } });
    let n = 0;
    const save = (cache: CacheManager) => cache.save('state_profiles', `s_${n++}`, value, { metadata: { compute_ms: 3 } });
    const result = await compareAsync({
      name: `save of a 64 KiB array into a full root (evicting one of ${FULL} entries) vs into a root with no budget`,
      subject: { name: 'with a budget: evicts to fit', run: () => save(bounded) },
      baselines: [{ name: 'no budget', run: () => save(unbounded) }],
      rounds: 7,
      sliceMs: 80,
    });
    const { budget } = await bounded.getStats();
    console.log(`the budgeted root: ${budget.totalBytes} bytes of ${budget.maxBytes}, ${budget.evicted} evicted, errors ${budget.errors}`);
    await bounded.close();
    await unbounded.close();
    return [result];
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
