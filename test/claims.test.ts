// A key's claim (a transient lock: its token exists only while held) is held by one process at a time,
// however many take it at once. Several waiters that find no token each try to make one; the one that
// makes a second token just after another took the first must give way.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_BUILD_PASS } from './fixtures/util.js';
import { bundledFixture, killAll, startWorker } from './fixtures/worker-process.js';

const WORKER = fileURLToPath(new URL('./fixtures/claim-worker.ts', import.meta.url));
const children = new Set<ChildProcess>();
afterEach(() => killAll(children));

// Cache only: one pass, not one per WASM build.
describe.runIf(FIRST_BUILD_PASS)('claims across processes', () => {
  it('6 processes taking one claim 150 times each: never two holders at once, nothing left behind', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dase-claims-'));
    try {
      mkdirSync(join(root, 'state_profiles'));
      const workers = Array.from({ length: 6 }, () => startWorker(bundledFixture(WORKER), [root, 150], children));
      const overlaps = await Promise.all(workers.map(async (w) => Number(await w.waitForLine((l) => /^\d+$/.test(l), 'its overlap count'))));
      expect(overlaps).toEqual([0, 0, 0, 0, 0, 0]);
      expect(readdirSync(join(root, 'state_profiles', '.locks'))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
