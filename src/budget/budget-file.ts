// What a root's budget remembers across processes (`<root>/.budget.json`): the GDSF clock and when it rose,
// the pinned entries, and what eviction removed. Read and written under the eviction lock only; a torn or
// garbage file reads as a fresh start (pins lost then: they are advice the next pin() restores).

export const BUDGET_FILE = '.budget.json';
const FORMAT = 'dase-cache budget 1';
// Enough rises of the clock to place any entry's last access; older ones are merged away.
const CLOCK_HISTORY = 256;

export interface BudgetState {
  /** gdsf's clock: the priority of the last entry evicted. */
  clock: number;
  /** [epoch ms, clock] each time the clock rose, oldest first: an entry last used at t ages from the clock of then. */
  history: [number, number][];
  /** `category/key` of the pinned entries. */
  pins: Set<string>;
  evicted: number;
  evictedBytes: number;
  /** Compute time the evicted entries had recorded (what recomputing them all would cost). */
  evictedComputeMs: number;
}

export function emptyBudgetState(): BudgetState {
  return { clock: 0, history: [], pins: new Set(), evicted: 0, evictedBytes: 0, evictedComputeMs: 0 };
}

const count = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);

export function parseBudgetFile(bytes: Uint8Array | undefined): BudgetState {
  const state = emptyBudgetState();
  if (!bytes) return state;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return state;
  }
  if (typeof json !== 'object' || json === null || json.format !== FORMAT) return state;
  state.clock = count(json.clock);
  if (Array.isArray(json.history)) {
    state.history = json.history.filter((h): h is [number, number] => Array.isArray(h) && h.length === 2 && h.every((x) => count(x) === x));
  }
  if (Array.isArray(json.pins)) for (const pin of json.pins) if (typeof pin === 'string') state.pins.add(pin);
  state.evicted = count(json.evicted);
  state.evictedBytes = count(json.evictedBytes);
  state.evictedComputeMs = count(json.evictedComputeMs);
  return state;
}

export function serializeBudgetState(state: BudgetState): Uint8Array {
  const { clock, history, pins, evicted, evictedBytes, evictedComputeMs } = state;
  return new TextEncoder().encode(`${JSON.stringify({
    format: FORMAT, clock, history: history.slice(-CLOCK_HISTORY), pins: [...pins].sort(), evicted, evictedBytes, evictedComputeMs,
  })}\n`);
}

/** The clock when an entry was last used at `atMs`: the value it had then (0 before any rise). */
export function clockAt(state: BudgetState, atMs: number): number {
  let clock = 0;
  for (const [at, value] of state.history) {
    if (at > atMs) break;
    clock = value;
  }
  return clock;
}
