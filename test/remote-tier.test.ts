// The remote tier on real servers started here on loopback (Debian's redis-server, nginx's WebDAV folder):
// local miss -> remote -> verified local copy; content addressing; tampered and evicted blobs; a remote that
// is down, killed and restarted, refusing credentials, or read-only; single flight across 8 processes.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheManager, memoize } from '../src/node.js';
import { expectIndexAtRest } from './fixtures/index-at-rest.js';
import { startNginxDav, startRedis } from '../scripts/local-servers.js';
import { FIRST_BUILD_PASS, mulberry32, nodeSha256Hex, sleep } from './fixtures/util.js';
import { bundledFixture, killAll, startWorker, type Worker } from './fixtures/worker-process.js';

const WORKER = fileURLToPath(new URL('./fixtures/remote-memo-worker.ts', import.meta.url));
const NO_CLOSE = fileURLToPath(new URL('./fixtures/remote-no-close.ts', import.meta.url));

interface Server { url: string; stop(): Promise<void>; kill(): void; restart(): Promise<void> }

/** What a test needs to look at and damage what a server holds, per backend. */
interface Store {
  /** The blobs on the server: name -> bytes. */
  blobs(): Promise<Map<string, Uint8Array>>;
  manifests(): Promise<number>;
  setBlob(name: string, bytes: Uint8Array): Promise<void>;
  deleteBlob(name: string): Promise<void>;
}

let dir: string;
const managers: CacheManager[] = [];
const children = new Set<ChildProcess>();

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'dase-remote-')); });
afterEach(async () => {
  killAll(children);
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function machine(name: string, remote: unknown): CacheManager {
  const cache = new CacheManager({ root: join(dir, name), remote: remote as string });
  managers.push(cache);
  return cache;
}

const field = (n: number, seed: number) => {
  const rand = mulberry32(seed);
  return Float64Array.from({ length: n }, () => rand());
};

function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function redisStore(url: string): Store & { client: Redis } {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // the tests stop and restart the server under it
  const keys = async (pattern: string) => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found;
  };
  return {
    client,
    async blobs() {
      const map = new Map<string, Uint8Array>();
      for (const k of await keys('*cas:*')) map.set(k, (await client.getBuffer(k))!);
      return map;
    },
    manifests: async () => (await keys('*ac:*')).length,
    setBlob: async (name, bytes) => { await client.set(name, Buffer.from(bytes)); },
    deleteBlob: async (name) => { await client.del(name); },
  };
}

function davStore(root: string): Store {
  return {
    async blobs() {
      return new Map(filesUnder(root).filter((f) => f.includes('/cas/')).map((f) => [f, new Uint8Array(readFileSync(f))]));
    },
    manifests: async () => filesUnder(root).filter((f) => f.includes('/ac/')).length,
    setBlob: async (name, bytes) => writeFileSync(name, bytes),
    deleteBlob: async (name) => rmSync(name),
  };
}

const backends = [
  {
    name: 'redis',
    start: async () => {
      const server = await startRedis();
      return { server: server as Server, url: server.url, store: redisStore(server.url) };
    },
  },
  {
    name: 'http',
    start: async () => {
      const server = await startNginxDav();
      return { server: server as Server, url: `${server.url}/sim-team`, store: davStore(server.root) };
    },
  },
];

describe.skipIf(!FIRST_BUILD_PASS).each(backends)('remote tier on $name', ({ name, start }) => {
  let server: Server;
  let url: string;
  let store: Store;

  beforeAll(async () => { ({ server, url, store } = await start()); });
  afterAll(async () => {
    (store as { client?: Redis }).client?.disconnect();
    await server?.stop();
  });

  it('a local miss is answered by the remote, verified, and kept locally with its metadata', async () => {
    const a = machine('a', url);
    const value = field(50_000, 1);
    await a.save('fractional_kernels', `shared_${name}`, value, { metadata: { alpha: 0.5 } });
    await a.close();

    const b = machine('b', url);
    expect(await b.load('fractional_kernels', `shared_${name}`)).toEqual(value);
    expect(await b.loadMetadata('fractional_kernels', `shared_${name}`)).toEqual({ alpha: 0.5 });
    expect((await b.getStats()).remote).toMatchObject({ hits: 1, rejected: 0, errors: 0, reachable: true });
    await b.close();
    // The local copy is a whole entry of b's cache, there without the remote.
    const offline = machine('b', false);
    expect(await offline.load('fractional_kernels', `shared_${name}`)).toEqual(value);
    await offline.close();
    expectIndexAtRest(join(dir, 'b'));
  });

  it('blobs are content-addressed: one blob for one result, and saving a key again never changes a blob', async () => {
    const before = (await store.blobs()).size;
    const value = field(3000, 2);
    const a = machine('a', url);
    const b = machine('b', url);
    await a.save('stencils', `same_${name}_1`, value, { metadata: { compute_ms: 12.5, host: 'a' } });
    await b.save('stencils', `same_${name}_2`, value, { metadata: { compute_ms: 9.1, host: 'b' } });
    await a.settleBackground();
    await b.settleBackground();
    expect((await store.blobs()).size).toBe(before + 1);
    await a.save('stencils', `same_${name}_1`, field(3000, 3));
    await a.settleBackground();
    const blobs = await store.blobs();
    expect(blobs.size).toBe(before + 2);
    for (const [blobName, bytes] of blobs) expect(blobName.endsWith(nodeSha256Hex(bytes))).toBe(true);
    const c = machine('c', url);
    expect(await c.load('stencils', `same_${name}_1`)).toEqual(field(3000, 3));
    expect(await c.load('stencils', `same_${name}_2`)).toEqual(value);
    expect(await c.loadMetadata('stencils', `same_${name}_2`)).toEqual({ compute_ms: 9.1, host: 'b' });
  });

  it('a blob changed on the server is refused, recomputed and reported, never served', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const compute = (seed: number) => field(2000, seed);
    const a = machine('a', url);
    const fa = memoize(async (seed: number) => { await sleep(30); return compute(seed); }, { cache: a, category: 'state_profiles', name: `tamper-${name}`, policy: 'always' });
    const before = new Set((await store.blobs()).keys());
    await fa(7);
    await a.close();
    const blobs = await store.blobs();
    const target = [...blobs.keys()].find((k) => !before.has(k))!;
    const forged = new Uint8Array(blobs.get(target)!);
    forged[forged.length - 1] ^= 1;
    await store.setBlob(target, forged);

    const b = machine('b', url);
    let computed = 0;
    const fb = memoize(async (seed: number) => { computed++; return compute(seed); }, { cache: b, category: 'state_profiles', name: `tamper-${name}`, policy: 'always' });
    const call = await fb.withInfo(7);
    expect(call.source).toBe('computed');
    expect(call.value).toEqual(compute(7));
    expect(computed).toBe(1);
    expect((await b.getStats()).remote).toMatchObject({ rejected: 1, hits: 0 });
    expect(warn.mock.calls.filter(([m]) => String(m).includes('refused'))).toHaveLength(1);
  });

  it('what is published is the value as it was saved, even when the caller changes it right after', async () => {
    const a = machine('a', url);
    const value = field(2000, 31);
    const saving = a.save('state_profiles', `reused_${name}`, value, { metadata: { step: 1 } });
    value.fill(7); // a stepping loop reusing its buffer
    await saving;
    await a.settleBackground();
    const b = machine('b', url);
    expect(await b.load('state_profiles', `reused_${name}`)).toEqual(field(2000, 31));
  });

  it('a key saved again and again while its uploads wait ends up naming its last save on the remote', async () => {
    const a = machine('a', url);
    for (let i = 0; i < 12; i++) await a.save('state_profiles', `overwritten_${name}`, field(20_000, 300 + i));
    await a.settleBackground();
    const stats = (await a.getStats()).remote!;
    expect(stats.uploads).toBeGreaterThan(0);
    expect(stats.uploads).toBeLessThanOrEqual(12);
    expect(stats.errors + stats.notUploaded).toBe(0);
    const b = machine('b', url);
    expect(await b.load('state_profiles', `overwritten_${name}`)).toEqual(field(20_000, 311));
  });

  it('a manifest whose blob was evicted is a miss, not an error', async () => {
    const a = machine('a', url);
    await a.save('surrogates', `evicted_${name}`, { weights: [1, 2, 3] });
    await a.close();
    const blobs = await store.blobs();
    for (const blobName of blobs.keys()) await store.deleteBlob(blobName);
    const b = machine('b', url);
    await expect(b.load('surrogates', `evicted_${name}`)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await b.getStats()).remote).toMatchObject({ misses: 1, errors: 0, rejected: 0 });
  });

  it('read-only: loads from the remote, never writes to it', async () => {
    const a = machine('a', url);
    await a.save('echo_templates', `published_${name}`, field(100, 4));
    await a.close();
    const manifests = await store.manifests();
    const blobs = (await store.blobs()).size;
    const ci = machine('ci', { url, readOnly: true });
    expect(await ci.load('echo_templates', `published_${name}`)).toEqual(field(100, 4));
    await ci.save('echo_templates', `private_${name}`, field(100, 5));
    await ci.close();
    expect(await store.manifests()).toBe(manifests);
    expect((await store.blobs()).size).toBe(blobs);
  });

  it('a file over maxBytes stays local', async () => {
    const a = machine('a', { url, maxBytes: 1000 });
    await a.save('echo_templates', `big_${name}`, field(1000, 6));
    await a.settleBackground();
    expect((await a.getStats()).remote).toMatchObject({ uploads: 0, notUploaded: 1 });
    const b = machine('b', url);
    expect(await b.exists('echo_templates', `big_${name}`)).toBe(false);
    await expect(b.load('echo_templates', `big_${name}`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('killed and restarted in the middle of a run: no call fails, nothing wrong loads, the tier resumes', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const c = machine('c', { url, timeoutMs: 500 });
    const f = memoize(async (k: number) => { await sleep(5); return field(500, 1000 + k); },
      { cache: c, category: 'state_profiles', name: `restart-${name}`, policy: 'always' });
    for (let k = 0; k < 30; k++) {
      if (k === 10) server.kill();
      if (k === 20) await server.restart();
      expect(await f(k)).toEqual(field(500, 1000 + k));
      // Every result, old or new, is right when asked again (from memory, disk or remote).
      expect(await f(k % 7)).toEqual(field(500, 1000 + (k % 7)));
    }
    const down = (await c.getStats()).remote!;
    expect(down.errors + down.timeouts).toBeGreaterThan(0);
    expect(warn.mock.calls.filter(([m]) => String(m).includes('local-only'))).toHaveLength(1);
    // The tier resumes once the breaker's cooldown has passed: a new save is published (bounded wait).
    const deadline = Date.now() + 40_000;
    let k = 100;
    while ((await c.getStats()).remote!.uploads <= down.uploads && Date.now() < deadline) {
      await c.save('state_profiles', `after_restart_${name}_${k++}`, field(10, k));
      await c.settleBackground();
      await sleep(250);
    }
    expect((await c.getStats()).remote!.uploads).toBeGreaterThan(down.uploads);
    const fresh = machine('fresh', url);
    expect(await fresh.load('state_profiles', `after_restart_${name}_${k - 1}`)).toEqual(field(10, k));
  }, 90_000);

  it('a script that returns without close() publishes its saves before it ends, and ends', async () => {
    const script = startWorker(bundledFixture(NO_CLOSE), [join(dir, 'script'), url, `no_close_${name}`], children);
    expect(await script.exited).toEqual({ code: 0, signal: null });
    const b = machine('b', url);
    expect(await b.load('stencils', `no_close_${name}`)).toEqual(Float64Array.from({ length: 50_000 }, (_, i) => i / 7));
    expectIndexAtRest(join(dir, 'script'));
  });

  it('a remote that is down: every call computes, one warning, failures counted apart from misses', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await server.stop();
    try {
      const c = machine('down', { url, timeoutMs: 300 });
      const f = memoize((k: number) => field(200, k), { cache: c, category: 'state_profiles', name: `down-${name}`, policy: 'always' });
      for (let k = 0; k < 20; k++) expect(await f(k)).toEqual(field(200, k));
      const stats = (await c.getStats()).remote!;
      expect(stats.reachable).toBe(false);
      expect(stats.errors + stats.timeouts).toBeGreaterThan(0);
      expect(stats.skipped).toBeGreaterThan(0);
      expect(stats.hits + stats.misses).toBe(0);
      expect(warn).toHaveBeenCalledTimes(1);
      await c.close(); // uploads that were skipped do not hold close up
    } finally {
      await server.restart();
    }
  });
});

describe.skipIf(!FIRST_BUILD_PASS)('remote credentials', () => {
  it('Redis: a wrong password is one clear warning, then local-only; nothing is written', async () => {
    const server = await startRedis({ password: 'right-secret' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const wrong = server.url.replace('redis://', 'redis://:wrong-secret@');
      const c = machine('c', wrong);
      await c.save('fractional_kernels', 'k1', field(10, 1));
      await c.save('fractional_kernels', 'k2', field(10, 2));
      await c.settleBackground();
      await expect(c.load('fractional_kernels', 'absent')).rejects.toMatchObject({ code: 'ENOENT' });
      const stats = (await c.getStats()).remote!;
      expect(stats).toMatchObject({ uploads: 0, skipping: true });
      expect(stats.url).not.toContain('wrong-secret');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/credentials/);
      expect(String(warn.mock.calls[0][0])).not.toContain('wrong-secret');
      const admin = new Redis(server.url.replace('redis://', 'redis://:right-secret@'));
      expect(await admin.dbsize()).toBe(0);
      admin.disconnect();
    } finally {
      await server.stop();
    }
  });

  it('HTTP: a wrong bearer token is refused; nothing is written; the right one works', async () => {
    const server = await startNginxDav({ token: 'right-token' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const c = machine('c', { url: server.url, token: 'wrong-token' });
      await c.save('fractional_kernels', 'k1', field(10, 1));
      await c.settleBackground();
      expect((await c.getStats()).remote).toMatchObject({ uploads: 0, skipping: true });
      expect(filesUnder(server.root)).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      const ok = machine('ok', { url: server.url, token: 'right-token' });
      await ok.save('fractional_kernels', 'k1', field(10, 1));
      await ok.settleBackground();
      expect((await ok.getStats()).remote).toMatchObject({ uploads: 1 });
      expect(filesUnder(server.root).length).toBe(2);
    } finally {
      await server.stop();
    }
  });
});

describe('remote option', () => {
  it('bad options are refused before anything connects; credentials never show', () => {
    expect(() => new CacheManager({ root: join(dir, 'x'), remote: 'ftp://host/cache' })).toThrow(RangeError);
    expect(() => new CacheManager({ root: join(dir, 'x'), remote: { url: 'redis://h:1/0', readOnly: 'yes' as never } })).toThrow(TypeError);
    expect(() => new CacheManager({ root: join(dir, 'x'), remote: { url: 'redis://h:1/0', timeoutMs: -1 } })).toThrow(RangeError);
    expect(() => new CacheManager({ root: join(dir, 'x'), remote: { url: 'redis://h:1/0', colour: 1 } as never })).toThrow(/colour/);
    // A token as the URL's lone user, and a bare '%' in a password, neither shown nor fatal.
    expect(machine('t', 'https://tok-5ecret-77@127.0.0.1:1/x').remote!.stats().url).not.toContain('5ecret');
    expect(machine('p', 'redis://user:p%zz@127.0.0.1:1/0').remote!.stats().url).toBe('redis://user:***@127.0.0.1:1/0');
  });

  it("Redis's 512 MB value limit: larger files stay local whatever maxBytes says; HTTP takes them", () => {
    const redis = machine('r', { url: 'redis://127.0.0.1:1/0', maxBytes: 2 ** 40 });
    const http = machine('h', { url: 'http://127.0.0.1:1/cache', maxBytes: 2 ** 40 });
    expect(redis.remote!.publishes(512 * 2 ** 20 - 2 ** 17)).toBe(true);
    expect(redis.remote!.publishes(512 * 2 ** 20)).toBe(false);
    expect(http.remote!.publishes(2 ** 33)).toBe(true);
    expect(machine('d', 'http://127.0.0.1:1/cache').remote!.publishes(256 * 2 ** 20 + 1)).toBe(false); // the default maxBytes
  });

  it('DASE_CACHE_REMOTE is used when the option is absent, and false turns it off', async () => {
    vi.stubEnv('DASE_CACHE_REMOTE', 'redis://user:hunter2@127.0.0.1:1/0');
    try {
      const fromEnv = machine('env', undefined);
      const stats = (await fromEnv.getStats()).remote!;
      expect(stats.url).toBe('redis://user:***@127.0.0.1:1/0');
      expect(stats.kind).toBe('redis');
      expect((await machine('off', false).getStats()).remote).toBeUndefined();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe.skipIf(!FIRST_BUILD_PASS)('many machines on one Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => { redis = await startRedis(); });
  afterAll(async () => { await redis?.stop(); });

  const worker = (root: string, marker: string, go: string, keys: number[], computeMs: number, policy = 'always'): Worker =>
    startWorker(bundledFixture(WORKER), [join(dir, root), redis.url, marker, go, keys.join(','), computeMs, policy], children);

  it('8 processes with 8 local roots computing overlapping keys: each key computed once, every value right', async () => {
    const marker = join(dir, 'computed-by');
    const go = join(dir, 'go');
    writeFileSync(marker, '');
    const rand = mulberry32(42);
    const workers = Array.from({ length: 8 }, (_, i) => {
      const keys = Array.from({ length: 8 }, (_, j) => (2 * i + j) % 16);
      for (let j = keys.length - 1; j > 0; j--) { const r = Math.floor(rand() * (j + 1)); [keys[j], keys[r]] = [keys[r], keys[j]]; }
      return worker(`m${i}`, marker, go, keys, 150, i % 2 === 0 ? 'always' : 'auto');
    });
    await Promise.all(workers.map((w) => w.waitForLine((l) => l === 'ready', "'ready'")));
    writeFileSync(go, '');
    await Promise.all(workers.map((w) => w.waitForLine((l) => l.startsWith('done'), "'done'")));
    const calls = workers.flatMap((w) => w.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { key: number; source: string; ok: boolean }));
    expect(calls).toHaveLength(64);
    expect(calls.every((c) => c.ok)).toBe(true);
    const computedKeys = readFileSync(marker, 'utf8').split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1])).sort((x, y) => x - y);
    expect(computedKeys).toEqual(Array.from({ length: 16 }, (_, k) => k));
    expect(calls.filter((c) => c.source === 'computed')).toHaveLength(16);
    expect(calls.filter((c) => c.source === 'remote')).toHaveLength(48);
    expect(await Promise.all(workers.map(async (w) => (await w.exited).code))).toEqual(Array(8).fill(0));
  }, 120_000);

  it('a machine killed while holding a key is taken over once its lease expires', async () => {
    const marker = join(dir, 'computed-by');
    const go = join(dir, 'go');
    writeFileSync(marker, '');
    writeFileSync(go, '');
    const doomed = worker('doomed', marker, go, [99], 60_000);
    await doomed.waitForLine((l) => l === 'ready', "'ready'");
    for (let i = 0; i < 400 && !readFileSync(marker, 'utf8').includes(' 99'); i++) await sleep(25);
    doomed.child.kill('SIGKILL');
    const next = worker('next', marker, go, [99], 50);
    const line = await next.waitForLine((l) => l.startsWith('{'), 'its call');
    expect(JSON.parse(line)).toMatchObject({ key: 99, source: 'computed', ok: true });
    expect(readFileSync(marker, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  }, 60_000);

  it('a holder that has no result to share lets the waiting machines compute side by side, not one after another', async () => {
    let started!: () => void;
    const holderComputing = new Promise<void>((resolve) => { started = resolve; });
    const computedBy: string[] = [];
    const fn = (who: string) => memoize(async (k: number) => {
      computedBy.push(who);
      if (who === 'a') started();
      await sleep(300);
      return field(2000, k); // 16 kB: over maxBytes, so never published
    }, { cache: machine(who, { url: redis.url, maxBytes: 1000 }), category: 'state_profiles', name: 'too-big', policy: 'always' });
    const [fa, fb, fc] = ['a', 'b', 'c'].map(fn);
    const first = fa(5);
    await holderComputing;
    const [b, c] = await Promise.all([fb.withInfo(5), fc.withInfo(5)]);
    await first;
    expect(computedBy.sort()).toEqual(['a', 'b', 'c']);
    expect([b.waited, c.waited]).toEqual([true, true]);
    const independent = (await Promise.all(managers.slice(-2).map((m) => m.getStats()))).map((st) => st.remote!.leases.independent);
    expect(independent).toEqual([1, 1]);
  });

  it('a Redis with maxmemory and an LRU policy: evicted entries are misses, never errors', async () => {
    const small = await startRedis({ maxmemory: '3mb', policy: 'allkeys-lru' });
    try {
      const a = machine('a', small.url);
      for (let i = 0; i < 24; i++) await a.save('stencils', `lru_${i}`, field(32_768, 500 + i)); // 256 KiB each
      await a.settleBackground();
      expect((await a.getStats()).remote!.errors).toBe(0);
      const b = machine('b', small.url);
      let found = 0;
      for (let i = 0; i < 24; i++) {
        try {
          expect(await b.load('stencils', `lru_${i}`)).toEqual(field(32_768, 500 + i));
          found++;
        } catch (error) {
          expect(error).toMatchObject({ code: 'ENOENT' });
        }
      }
      const stats = (await b.getStats()).remote!;
      expect(found).toBeGreaterThan(0);
      expect(found).toBeLessThan(24);
      expect(stats).toMatchObject({ errors: 0, rejected: 0, hits: found, misses: 24 - found });
    } finally {
      await small.stop();
    }
  });
});
