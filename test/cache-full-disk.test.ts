// A real full disk: a 2 MiB tmpfs mounted for the test (as root, as CI runs), filled by saves until the
// kernel refuses a write with ENOSPC. What was acknowledged stays loadable, nothing is left behind, and once
// space is freed the cache goes on.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheError, CacheManager } from '../src/node.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';

let mountPoint: string | undefined;
let skipReason: string | undefined;

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    skipReason = 'needs root to mount a tmpfs (CI runs as root)';
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dase-cache-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    mountPoint = dir;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    skipReason = `could not mount a tmpfs: ${(error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message}`;
  }
});

afterAll(() => {
  if (!mountPoint) return;
  execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
  rmSync(mountPoint, { recursive: true, force: true });
});

const temps = (root: string) => readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((p) => p.split('/').pop()!.startsWith('.tmp-'));

describe('a full disk', () => {
  it('refuses the save that does not fit with ENOSPC, keeps every acknowledged entry, and goes on once space is freed', async (context) => {
    if (!mountPoint) {
      console.warn(`skipped: ${skipReason}`);
      context.skip();
    }
    const root = join(mountPoint!, 'cache');
    const cache = new CacheManager({ root });
    const saved: number[] = [];
    let failure: unknown;
    for (let i = 0; i < 200 && failure === undefined; i++) {
      try {
        await cache.save('state_profiles', `profile_${i}`, new Float64Array(16_384).fill(i), { metadata: { i } }); // 128 KiB
        saved.push(i);
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toBeInstanceOf(CacheError);
    expect((failure as CacheError).code).toBe('ENOSPC');
    expect((failure as CacheError).message).toMatch(/no space left/);
    expect(saved.length).toBeGreaterThan(3);
    expect(temps(root)).toEqual([]);
    for (const i of saved) expect((await cache.load('state_profiles', `profile_${i}`) as Float64Array)[0]).toBe(i);

    // close() may not find room for index.json: it says so, and the journal keeps every save.
    const closing = await cache.close().then(() => undefined, (error) => error);
    if (closing !== undefined) expect((closing as CacheError).code).toBe('ENOSPC');
    expect(temps(root)).toEqual([]);

    const again = new CacheManager({ root });
    expect(await again.listKeys('state_profiles')).toHaveLength(saved.length);
    for (const i of saved.slice(0, 4)) expect(await again.delete('state_profiles', `profile_${i}`)).toBe(true);
    await again.save('state_profiles', 'after', new Float64Array([1, 2, 3]));
    expect(await again.load('state_profiles', 'after')).toEqual(new Float64Array([1, 2, 3]));
    await again.close();
    const checker = new CacheManager({ root });
    expect((await checker.validate()).ok).toBe(true);
    await checker.close();
    expectIndexAtRest(root);
  });
});
