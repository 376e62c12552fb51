// The byte budget's eviction order (src/budget/eviction-policy.ts): hand-made cases for each policy, GDSF's
// ageing, pinned entries, deterministic ties, the clock persisted, and thousands of random operations
// checked against a naive O(n) reference written from the policies' definitions.
import { describe, expect, it } from 'vitest';
import {
  defaultFallbackCost, EvictionQueue, FALLBACK_BYTES_PER_MS, FALLBACK_FIXED_MS,
  type EvictionCandidate, type EvictionPolicyName, type EvictionResult,
} from '../src/budget/eviction-policy.js';
import { FIRST_BUILD_PASS, mulberry32 } from './fixtures/util.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** An entry in category 'c' with defaults for what a case does not care about. */
function entry(key: string, fields: Partial<EvictionCandidate> = {}): EvictionCandidate {
  return { category: 'c', key, sizeBytes: KiB, accessCount: 0, lastAccessedMs: 0, createdMs: 0, computeMs: 10, ...fields };
}

const keys = (result: EvictionResult) => result.victims.map((v) => v.key);

/** The whole eviction order, by evicting everything. */
function order(queue: EvictionQueue): string[] {
  return keys(queue.evictUntil(queue.totalBytes + 1));
}

describe.runIf(FIRST_BUILD_PASS)('EvictionQueue, by hand', () => {
  it('gdsf evicts a large cheap entry before a small expensive one, and the less used of two alike', () => {
    const queue = new EvictionQueue();
    expect(queue.policy).toBe('gdsf');
    queue.insert(entry('small-expensive', { sizeBytes: KiB, computeMs: 50 }));
    queue.insert(entry('large-cheap', { sizeBytes: 4 * MiB, computeMs: 2 }));
    // The large one is newer and was used: per byte it still saves far less.
    queue.insert(entry('large-cheap', { sizeBytes: 4 * MiB, computeMs: 2, accessCount: 3, lastAccessedMs: 100, createdMs: 100 }));
    const first = queue.evictUntil(1);
    expect(keys(first)).toEqual(['large-cheap']);
    expect(first).toMatchObject({ freedBytes: 4 * MiB, met: true, shortBytes: 0 });
    // Its priority was 0 + 4 × 2 ms / 4 MiB: the clock is now there.
    expect(queue.clock).toBe((4 * 2) / (4 * MiB));
    expect(queue.size).toBe(1);
    expect(queue.totalBytes).toBe(KiB);

    const alike = new EvictionQueue();
    alike.insert(entry('used', { accessCount: 2 }));
    alike.insert(entry('unused', { lastAccessedMs: 50 }));
    expect(order(alike)).toEqual(['unused', 'used']);
  });

  it('lru evicts the least recently used first; a hit makes an entry the most recent', () => {
    const queue = new EvictionQueue({ policy: 'lru' });
    queue.insert(entry('a', { lastAccessedMs: 10, computeMs: 1000, accessCount: 50 }));
    queue.insert(entry('b', { lastAccessedMs: 20 }));
    queue.insert(entry('c', { lastAccessedMs: 30 }));
    expect(queue.hit('c', 'a', 40)).toBe(true);
    expect(queue.hit('c', 'missing', 40)).toBe(false);
    expect(queue.get('c', 'a')).toMatchObject({ accessCount: 51, lastAccessedMs: 40, priority: 40 });
    expect(order(queue)).toEqual(['b', 'c', 'a']);
    // A clock means nothing to lru.
    expect(queue.clock).toBe(0);
  });

  it('lfu evicts the least used first, ties least recent first', () => {
    const queue = new EvictionQueue({ policy: 'lfu' });
    queue.insert(entry('often', { accessCount: 9, lastAccessedMs: 1 }));
    queue.insert(entry('twice-recent', { accessCount: 2, lastAccessedMs: 30 }));
    queue.insert(entry('twice-old', { accessCount: 2, lastAccessedMs: 20 }));
    queue.insert(entry('never', { accessCount: 0, lastAccessedMs: 40, sizeBytes: 10 * MiB, computeMs: 5000 }));
    expect(order(queue)).toEqual(['never', 'twice-old', 'twice-recent', 'often']);
  });

  it('gdsf ages: once the clock has risen, an old popular entry goes before a fresh one', () => {
    const queue = new EvictionQueue();
    // Popular: 10 uses × 10 ms / 1000 B = 0.1 ms per byte; both were last used at clock 0.
    queue.insert(entry('old-popular', { sizeBytes: 1000, computeMs: 10, accessCount: 9 }));
    queue.insert(entry('kept-popular', { sizeBytes: 1000, computeMs: 10, accessCount: 9 }));
    // Entries worth 0.03 each come and go, each raising the clock to its priority.
    for (let i = 0; i < 3; i++) {
      queue.insert(entry(`passing-${i}`, { sizeBytes: 1000, computeMs: 30, lastAccessedMs: 10 + i }));
      expect(keys(queue.evictUntil(1))).toEqual([`passing-${i}`]);
      expect(queue.clock).toBeCloseTo(0.03 * (i + 1), 12);
      // One of the two popular entries is used again meanwhile: its priority is set afresh at the clock.
      if (i === 1) queue.hit('c', 'kept-popular', 20);
    }
    expect(queue.get('c', 'kept-popular')).toMatchObject({ accessCount: 10, lastAccessedMs: 20 });
    expect(queue.get('c', 'kept-popular')!.priority).toBeCloseTo(0.06 + 0.11, 12);
    // A fresh entry worth a third of what old-popular was (one use of 30 ms) now ranks above it: 0.09 + 0.03.
    queue.insert(entry('fresh', { sizeBytes: 1000, computeMs: 30, lastAccessedMs: 100 }));
    expect(queue.get('c', 'fresh')!.priority).toBeCloseTo(0.12, 12);
    expect(keys(queue.evictUntil(3000))).toEqual(['old-popular', 'fresh', 'kept-popular']);
    expect(queue.clock).toBeCloseTo(0.17, 12);
  });

  it('never evicts a pinned entry; when only pinned ones are left the result says the bytes cannot be freed', () => {
    for (const policy of ['gdsf', 'lru', 'lfu'] as const) {
      const queue = new EvictionQueue({ policy });
      queue.insert(entry('pinned-cheap', { sizeBytes: 4 * MiB, computeMs: 0, pinned: true }));
      queue.insert(entry('free', { sizeBytes: MiB, lastAccessedMs: 5, accessCount: 3 }));
      queue.insert(entry('later-pinned', { sizeBytes: MiB, computeMs: 0 }));
      expect(queue.pin('c', 'later-pinned')).toBe(true);
      expect(queue.pin('c', 'missing')).toBe(false);
      expect(queue.pinnedBytes).toBe(5 * MiB);
      expect(queue.totalBytes).toBe(6 * MiB);
      const result = queue.fitWithin(2 * MiB);
      expect(result).toMatchObject({ freedBytes: MiB, met: false, shortBytes: 3 * MiB });
      expect(keys(result)).toEqual(['free']);
      // Nothing but pinned entries: nothing to choose.
      expect(queue.evictUntil(1)).toEqual({ victims: [], freedBytes: 0, met: false, shortBytes: 1 });
      expect(queue.size).toBe(2);
      expect(queue.unpin('c', 'later-pinned')).toBe(true);
      expect(queue.pinnedBytes).toBe(4 * MiB);
      expect(queue.fitWithin(4 * MiB)).toMatchObject({ freedBytes: MiB, met: true });
      expect(queue.remove('c', 'pinned-cheap')).toBe(true);
      expect(queue.pinnedBytes).toBe(0);
      expect(queue.totalBytes).toBe(0);
    }
  });

  it('breaks ties the same way whatever the insertion order: least recent, oldest, then category and key', () => {
    const alike: EvictionCandidate[] = [
      entry('b'), entry('a'), { ...entry('a'), category: 'b' }, entry('z', { createdMs: -1 }), entry('y', { lastAccessedMs: -1, createdMs: 5 }),
    ];
    const expected = ['y', 'z', 'a', 'a', 'b'];
    const random = mulberry32(7);
    for (const policy of ['gdsf', 'lru', 'lfu'] as const) {
      for (let round = 0; round < 10; round++) {
        const shuffled = [...alike].sort(() => random() - 0.5);
        const queue = new EvictionQueue({ policy });
        for (const e of shuffled) queue.insert(e);
        const victims = queue.evictUntil(queue.totalBytes).victims;
        expect(victims.map((v) => v.key)).toEqual(expected);
        expect(victims.map((v) => v.category)).toEqual(['c', 'c', 'b', 'c', 'c']);
      }
    }
  });

  it('costs an entry without compute_ms by the fallback: a size-aware LFU among saved-by-hand entries', () => {
    expect(defaultFallbackCost(0)).toBe(FALLBACK_FIXED_MS);
    expect(defaultFallbackCost(8 * MiB)).toBeCloseTo(FALLBACK_FIXED_MS + (8 * MiB) / FALLBACK_BYTES_PER_MS, 12);
    const queue = new EvictionQueue();
    queue.insert(entry('big', { computeMs: undefined, sizeBytes: 8 * MiB, accessCount: 1 }));
    queue.insert(entry('small-rare', { computeMs: undefined, sizeBytes: 4 * KiB }));
    queue.insert(entry('small-often', { computeMs: undefined, sizeBytes: 4 * KiB, accessCount: 5 }));
    expect(queue.get('c', 'big')!.priority).toBeCloseTo((2 * defaultFallbackCost(8 * MiB)) / (8 * MiB), 15);
    expect(order(queue)).toEqual(['big', 'small-rare', 'small-often']);

    const asked: number[] = [];
    const measured = new EvictionQueue({ fallbackCost: (bytes) => (asked.push(bytes), 3) });
    measured.insert(entry('hand', { computeMs: undefined, sizeBytes: 300 }));
    measured.insert(entry('memo', { computeMs: 2, sizeBytes: 300 }));
    expect(asked).toEqual([300]);
    expect(measured.get('c', 'hand')!.priority).toBe(3 / 300);
    expect(order(measured)).toEqual(['memo', 'hand']);
    expect(() => new EvictionQueue({ fallbackCost: () => NaN }).insert(entry('x', { computeMs: undefined })))
      .toThrow(new RangeError('EvictionQueue.insert: expected fallbackCost(1024) to return a finite number >= 0, got NaN'));
  });

  it('chooses without evicting on a dry run, and leaves the clock alone', () => {
    const queue = new EvictionQueue();
    for (let i = 0; i < 20; i++) queue.insert(entry(`k${i}`, { computeMs: (i * 7) % 11, sizeBytes: 100 + i }));
    expect(queue.evictUntil(0)).toEqual({ victims: [], freedBytes: 0, met: true, shortBytes: 0 });
    expect(queue.fitWithin(queue.totalBytes).victims).toEqual([]);
    const dry = queue.evictUntil(500, { dryRun: true });
    expect(queue.size).toBe(20);
    expect(queue.clock).toBe(0);
    const real = queue.evictUntil(500);
    expect(real).toEqual(dry);
    expect(queue.size).toBe(20 - real.victims.length);
    expect(queue.clock).toBe(real.victims.at(-1)!.priority);
  });

  it('persists its clock as a number: a queue restored from it evicts as the original goes on to', () => {
    const original = new EvictionQueue();
    const random = mulberry32(11);
    for (let i = 0; i < 200; i++) {
      original.insert(entry(`k${i}`, { sizeBytes: 1 + Math.floor(random() * 10_000), computeMs: random() * 100, lastAccessedMs: i }));
      if (i % 3 === 0) original.evictUntil(5000);
      if (i % 5 === 0) original.hit('c', `k${Math.floor(random() * i)}`, i);
    }
    expect(original.clock).toBeGreaterThan(0);
    // What the cache would keep: the clock in a file, each entry's numbers (and its clock at access) in the index.
    const persisted = JSON.stringify({ clock: original.clock, entries: [...original.entries()] });
    const { clock, entries } = JSON.parse(persisted) as { clock: number; entries: (EvictionCandidate & { priority?: number })[] };
    const restored = new EvictionQueue({ clock });
    for (const { priority: _, ...e } of entries) restored.insert(e);
    expect(restored.clock).toBe(original.clock);
    for (const q of [original, restored]) q.insert(entry('new', { sizeBytes: 777, computeMs: 3, lastAccessedMs: 1000 }));
    expect(restored.evictUntil(restored.totalBytes)).toEqual(original.evictUntil(original.totalBytes));
    expect(restored.clock).toBe(original.clock);

    const merged = new EvictionQueue({ clock: 2 });
    merged.advanceClock(1);
    expect(merged.clock).toBe(2);
    merged.advanceClock(3.5);
    expect(merged.clock).toBe(3.5);
    expect(new EvictionQueue({ policy: 'lru', clock: 5 }).clock).toBe(0);
  });

  it('checks its arguments: TypeError for the wrong kind, RangeError for a wrong value, saying what came', () => {
    const queue = new EvictionQueue();
    expect(() => new EvictionQueue({ policy: 'arc' as EvictionPolicyName }))
      .toThrow(new RangeError('EvictionQueue: expected policy to be one of "gdsf", "lru", "lfu", got "arc"'));
    expect(() => new EvictionQueue({ clock: -1 })).toThrow(new RangeError('EvictionQueue: expected clock to be a finite number >= 0, got -1'));
    expect(() => new EvictionQueue({ budget: 1 } as never)).toThrow(TypeError);
    expect(() => new EvictionQueue({ fallbackCost: 3 } as never)).toThrow(new TypeError('EvictionQueue: expected fallbackCost to be a function, got 3'));
    expect(() => queue.insert(entry('k', { sizeBytes: -1 }))).toThrow(new RangeError('EvictionQueue.insert: expected entry.sizeBytes to be an integer >= 0, got -1'));
    expect(() => queue.insert(entry('k', { sizeBytes: '1' as never }))).toThrow(new TypeError('EvictionQueue.insert: expected entry.sizeBytes to be an integer, got "1"'));
    expect(() => queue.insert(entry('k', { accessCount: 1.5 }))).toThrow(RangeError);
    expect(() => queue.insert(entry('k', { computeMs: Infinity }))).toThrow(new RangeError('EvictionQueue.insert: expected entry.computeMs to be a finite number, got Infinity'));
    expect(() => queue.insert(entry('k', { computeMs: -2 }))).toThrow(new RangeError('EvictionQueue.insert: expected entry.computeMs to be a finite number >= 0, got -2'));
    expect(() => queue.insert(entry('k', { pinned: 1 as never }))).toThrow(new TypeError('EvictionQueue.insert: expected entry.pinned to be a boolean, got 1'));
    expect(() => queue.insert(entry('k', { computeMS: 3 } as never))).toThrow(TypeError);
    expect(() => queue.insert(entry('', {}))).toThrow(new RangeError('EvictionQueue.insert: expected entry.key to be a non-empty string, got ""'));
    expect(() => queue.insert(null as never)).toThrow(new TypeError('EvictionQueue.insert: expected entry to be an object, got null'));
    expect(() => queue.hit('c', 'k', NaN)).toThrow(new RangeError('EvictionQueue.hit: expected atMs to be a finite number, got NaN'));
    expect(() => queue.hit(3 as never, 'k')).toThrow(new TypeError('EvictionQueue.hit: expected category to be a string, got 3'));
    expect(() => queue.evictUntil(NaN)).toThrow(new RangeError('EvictionQueue.evictUntil: expected bytesToFree to be a finite number, got NaN'));
    expect(() => queue.fitWithin(-5)).toThrow(new RangeError('EvictionQueue.fitWithin: expected budgetBytes to be a finite number >= 0, got -5'));
    expect(() => queue.advanceClock(Infinity)).toThrow(RangeError);
    // A rejected entry leaves nothing behind.
    expect(queue.size).toBe(0);
  });
});

// ---- The reference: every operation a scan over all entries, written from the definitions. ----

interface RefEntry {
  category: string; key: string; sizeBytes: number; accessCount: number; lastAccessedMs: number; createdMs: number;
  computeMs: number | undefined; pinned: boolean; base: number;
}

class NaiveQueue {
  clock = 0;
  entries: RefEntry[] = [];

  constructor(readonly policy: EvictionPolicyName, readonly fallback: (bytes: number) => number) {}

  priority(e: RefEntry): number {
    if (this.policy === 'lru') return e.lastAccessedMs;
    if (this.policy === 'lfu') return e.accessCount;
    const cost = e.computeMs ?? this.fallback(e.sizeBytes);
    return e.base + ((e.accessCount + 1) * cost) / Math.max(1, e.sizeBytes);
  }

  find(category: string, key: string): RefEntry | undefined {
    return this.entries.find((e) => e.category === category && e.key === key);
  }

  insert(c: EvictionCandidate): void {
    this.remove(c.category, c.key);
    this.entries.push({ ...c, computeMs: c.computeMs, pinned: c.pinned === true, base: c.clockAtAccess ?? this.clock });
  }

  hit(category: string, key: string, at: number, count: number): boolean {
    const e = this.find(category, key);
    if (!e) return false;
    e.accessCount += count;
    e.lastAccessedMs = Math.max(e.lastAccessedMs, at);
    e.base = this.clock;
    return true;
  }

  remove(category: string, key: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => !(e.category === category && e.key === key));
    return this.entries.length < before;
  }

  setPinned(category: string, key: string, pinned: boolean): boolean {
    const e = this.find(category, key);
    if (e) e.pinned = pinned;
    return e !== undefined;
  }

  // The lowest of (priority, last access, creation, category, key), found by a scan.
  evictUntil(bytes: number, dryRun: boolean) {
    const clock = this.clock;
    const chosen: RefEntry[] = [];
    let freed = 0;
    while (freed < bytes) {
      let best: RefEntry | undefined;
      let bestKey: (number | string)[] = [];
      for (const e of this.entries) {
        if (e.pinned || chosen.includes(e)) continue;
        const k = [this.priority(e), e.lastAccessedMs, e.createdMs, e.category, e.key];
        if (best === undefined || lexLess(k, bestKey)) { best = e; bestKey = k; }
      }
      if (!best) break;
      if (this.policy === 'gdsf') this.clock = Math.max(this.clock, bestKey[0] as number);
      chosen.push(best);
      freed += best.sizeBytes;
    }
    if (dryRun) this.clock = clock;
    else this.entries = this.entries.filter((e) => !chosen.includes(e));
    return { victims: chosen.map((e) => [e.category, e.key]), freed, met: freed >= bytes };
  }

  get totalBytes(): number {
    return this.entries.reduce((n, e) => n + e.sizeBytes, 0);
  }
}

function lexLess(a: (number | string)[], b: (number | string)[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

describe.runIf(FIRST_BUILD_PASS)('EvictionQueue against a naive O(n) reference', () => {
  for (const policy of ['gdsf', 'lru', 'lfu'] as const) {
    it(`${policy}: the same victims, clock and totals over 5000 random operations (3 seeds)`, () => {
      for (const seed of [1, 2, 3]) {
        const random = mulberry32(seed * 1000 + policy.length);
        const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
        const fallback = (bytes: number) => 0.5 + bytes / 2000;
        const queue = new EvictionQueue({ policy, fallbackCost: fallback });
        const naive = new NaiveQueue(policy, fallback);
        // Few categories, keys and distinct values, so that replacements, misses and ties are frequent.
        const categories = ['a', 'b', 'c'];
        const names = Array.from({ length: 40 }, (_, i) => `k${i}`);
        let now = 0;
        let evictions = 0;
        for (let op = 0; op < 5000; op++) {
          const category = pick(categories);
          const key = pick(names);
          const roll = random();
          if (roll < 0.35) {
            const c: EvictionCandidate = {
              category, key, sizeBytes: pick([0, 1, 512, 1024, 4096, 100_000]), accessCount: pick([0, 0, 1, 3]),
              lastAccessedMs: now, createdMs: pick([0, now]), computeMs: pick([undefined, 0, 1, 5, 20, 250]), pinned: random() < 0.05,
            };
            if (random() < 0.1) c.clockAtAccess = naive.clock * random();
            queue.insert(c);
            naive.insert(c);
          } else if (roll < 0.65) {
            const at = now - pick([0, 5]);
            const count = pick([1, 1, 2]);
            expect(queue.hit(category, key, at, count)).toBe(naive.hit(category, key, at, count));
          } else if (roll < 0.72) {
            expect(queue.remove(category, key)).toBe(naive.remove(category, key));
          } else if (roll < 0.77) {
            const pinned = random() < 0.5;
            expect(pinned ? queue.pin(category, key) : queue.unpin(category, key)).toBe(naive.setPinned(category, key, pinned));
          } else if (roll < 0.78) {
            const to = naive.clock + random();
            queue.advanceClock(to);
            if (policy === 'gdsf') naive.clock = to;
          } else {
            const bytes = pick([0, 1, 2000, 10_000, 150_000]);
            const dryRun = random() < 0.2;
            const ours = queue.evictUntil(bytes, { dryRun });
            const theirs = naive.evictUntil(bytes, dryRun);
            expect(ours.victims.map((v) => [v.category, v.key])).toEqual(theirs.victims);
            expect([ours.freedBytes, ours.met]).toEqual([theirs.freed, theirs.met]);
            evictions += ours.victims.length;
          }
          expect(queue.clock).toBe(naive.clock);
          expect(queue.totalBytes).toBe(naive.totalBytes);
          expect(queue.size).toBe(naive.entries.length);
          now += pick([0, 1, 1, 3]);
        }
        // The operations did evict, and at the end every priority agrees.
        expect(evictions).toBeGreaterThan(500);
        for (const e of naive.entries) expect(queue.get(e.category, e.key)!.priority).toBe(naive.priority(e));
      }
    });
  }
});
