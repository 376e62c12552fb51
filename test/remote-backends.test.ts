// The two remote backends against real servers on loopback: RedisBackend on Debian's redis-server, and
// HttpCasBackend on nginx's WebDAV folder, plus a scripted node:http server for the answers nginx does not
// give (500, 507, silence, Basic credentials). Failures must be coded RemoteErrors that never show a secret.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError, type RemoteBackend } from '../src/remote/backend.js';
import { HttpCasBackend } from '../src/remote/http-cas.js';
import { redactUrl } from '../src/remote/redact.js';
import { RedisBackend } from '../src/remote/redis.js';
import { startNginxDav, startRedis, type NginxDavServer, type RedisServer } from '../scripts/local-servers.js';
import { FIRST_BUILD_PASS, sleep } from './fixtures/util.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const IDLE_FIXTURE = fileURLToPath(new URL('./fixtures/redis-idle.ts', import.meta.url));

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** A missing manifest reads as undefined; a second put replaces the first. */
async function expectManifestsReplaced(backend: RemoteBackend): Promise<void> {
  const digest = digestOf('manifest');
  expect(await backend.getManifest(digest)).toBeUndefined();
  await backend.putManifest(digest, new TextEncoder().encode('{"v":1}'));
  await backend.putManifest(digest, new TextEncoder().encode('{"v":2}'));
  expect(new TextDecoder().decode(await backend.getManifest(digest))).toBe('{"v":2}');
}
/** Deterministic bytes that are not all alike (a truncated or shifted copy would not compare equal). */
function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) out[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  return out;
}

/** A loopback port nobody listens on (fetch refuses port 1 and other well-known ones outright). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The RemoteError an operation rejects with (fails the test if it resolves or throws anything else). */
async function failure(operation: Promise<unknown>): Promise<RemoteError> {
  const error = await operation.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(RemoteError);
  return error as RemoteError;
}

/** Asserts that no text an error carries (message, url, cause, its JSON and inspection) shows a secret. */
function expectNoSecret(error: RemoteError, ...secrets: string[]): void {
  const texts = [error.message, error.url, String(error.stack), String((error as { cause?: unknown }).cause), JSON.stringify(error)];
  for (const secret of secrets) for (const text of texts) expect(text).not.toContain(secret);
}

/** Retries `operation` (bounded) until it succeeds: after a restart the client reconnects in the background. */
async function eventually<T>(operation: () => Promise<T>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (Date.now() > deadline || attempt > 200) throw error;
      await sleep(100);
    }
  }
}

const opened: RemoteBackend[] = [];
function track<T extends RemoteBackend>(backend: T): T {
  opened.push(backend);
  return backend;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((backend) => backend.close()));
});

describe.skipIf(!FIRST_BUILD_PASS)('redactUrl', () => {
  it('replaces passwords and keeps what says which account and which server', () => {
    expect(redactUrl('redis://cache:s3cret@10.0.0.5:6379/2')).toBe('redis://cache:***@10.0.0.5:6379/2');
    expect(redactUrl('redis://:s3cret@localhost:6379')).toBe('redis://:***@localhost:6379');
    expect(redactUrl('rediss://u:p%40ss@h:6380/0')).toBe('rediss://u:***@h:6380/0');
    // A lone Redis user is the legacy password form.
    expect(redactUrl('redis://s3cret@localhost')).toBe('redis://***@localhost');
    expect(redactUrl('http://ci:tok3n@cache.example/ns')).toBe('http://ci:***@cache.example/ns');
    expect(redactUrl('https://ci@cache.example/ns')).toBe('https://***@cache.example/ns'); // a lone user may be a token
    expect(redactUrl('https://cache.example/ns?token=tok3n&x=1')).toBe('https://cache.example/ns?token=***&x=1');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('nonsense//u:s3cret@host')).not.toContain('s3cret');
  });
});

describe.skipIf(!FIRST_BUILD_PASS)('RedisBackend', () => {
  let server: RedisServer;
  let admin: Redis;
  const open = (prefix = 'dase:', timeoutMs = 3000) => track(new RedisBackend({ url: server.url, timeoutMs, prefix }));

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url, { lazyConnect: true });
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('does nothing at construction: no connection before the first operation', async () => {
    const clients = async () => (await admin.client('LIST') as string).trim().split('\n').length;
    const before = await clients();
    const backend = open();
    await sleep(50);
    expect(await clients()).toBe(before);
    await backend.ping();
    expect(await clients()).toBe(before + 1);
    expect(backend).toMatchObject({ kind: 'redis', url: server.url, maxBlobBytes: 512 * 1024 * 1024 - 64 * 1024 });
  });

  it('round-trips blobs (8 MB and empty ones too) and answers undefined for a missing one', async () => {
    const backend = open();
    for (const bytes of [bytesOf(1000, 1), bytesOf(8 * 1024 * 1024, 2), new Uint8Array(0)]) {
      const key = sha(bytes);
      expect(await backend.hasBlob(key)).toBe(false);
      await backend.putBlob(key, bytes);
      expect(await backend.hasBlob(key)).toBe(true);
      const back = await backend.getBlob(key, bytes.length);
      expect(back).toBeInstanceOf(Uint8Array);
      expect(back!.length).toBe(bytes.length);
      expect(Buffer.compare(back!, bytes)).toBe(0);
    }
    expect(await backend.getBlob(digestOf('never stored'), 10)).toBeUndefined();
    // A view into a larger buffer sends its own bytes only.
    const whole = bytesOf(100, 3);
    const view = whole.subarray(10, 20);
    await backend.putBlob(sha(view), view);
    expect([...(await backend.getBlob(sha(view), 10))!]).toEqual([...view]);
  });

  it('stores a blob once: putBlob again is harmless and keeps the first bytes (SET NX)', async () => {
    const backend = open();
    const bytes = bytesOf(64, 4);
    const key = sha(bytes);
    await backend.putBlob(key, bytes);
    await backend.putBlob(key, bytes);
    await backend.putBlob(key, bytesOf(64, 5)); // a liar's bytes under the same name do not replace them
    expect(Buffer.compare((await backend.getBlob(key, 64))!, bytes)).toBe(0);
  });

  it('round-trips manifests, which a put replaces', async () => {
    const backend = open();
    await expectManifestsReplaced(backend);
  });

  it('lists manifests and counts usage under its own prefix; two prefixes on one server do not mix', async () => {
    const a = open('team-a:');
    const b = open('team-b:');
    // A prefix with glob characters must be matched literally by SCAN.
    const star = open('t*[1]?:');
    const digests = Array.from({ length: 1500 }, (_, i) => digestOf(`entry ${i}`));
    await Promise.all(digests.map((digest) => a.putManifest(digest, new Uint8Array([1]))));
    const blobs = [bytesOf(10, 6), bytesOf(2000, 7), new Uint8Array(0)];
    for (const blob of blobs) await a.putBlob(sha(blob), blob);
    await b.putManifest(digestOf('b only'), new Uint8Array([2]));
    await star.putManifest(digestOf('star'), new Uint8Array([3]));

    expect((await a.listManifests()).sort()).toEqual([...digests].sort());
    expect(await b.listManifests()).toEqual([digestOf('b only')]);
    expect(await star.listManifests()).toEqual([digestOf('star')]);
    expect(await a.usage()).toEqual({ entries: 1500, blobs: 3, bytes: 2010 });
    expect(await b.usage()).toEqual({ entries: 1, blobs: 0, bytes: 0 });
    expect(await b.getManifest(digests[0])).toBeUndefined();
    expect(await b.hasBlob(sha(blobs[0]))).toBe(false);
    expect(await admin.exists(`team-a:ac:${digests[0]}`, `team-a:cas:${sha(blobs[1])}`)).toBe(2);
  });

  it('leases: one holder at a time; renew and release by the holder only; an expired lease can be taken', async () => {
    const { leases } = open();
    expect(await leases.acquire('job', 'token-1', 10_000)).toBe(true);
    expect(await leases.acquire('job', 'token-2', 10_000)).toBe(false);
    expect(await leases.renew('job', 'token-1', 10_000)).toBe(true);
    expect(await leases.renew('job', 'token-2', 10_000)).toBe(false);
    await leases.release('job', 'token-2'); // not its lease: nothing happens
    expect(await leases.acquire('job', 'token-3', 10_000)).toBe(false);
    expect(await admin.get('dase:lease:job')).toBe('token-1');
    await leases.release('job', 'token-1');
    expect(await leases.acquire('job', 'token-3', 150)).toBe(true);
    // token-3 does not renew: after its 150 ms another takes the lease, and token-3 can no longer renew it.
    await eventually(async () => { if (!(await leases.acquire('job', 'token-4', 10_000))) throw new Error('still held'); }, 3000);
    expect(await leases.renew('job', 'token-3', 10_000)).toBe(false);
    await leases.release('job', 'token-3');
    expect(await admin.get('dase:lease:job')).toBe('token-4');
  });

  it('refuses malformed hex and bad lease times before any round trip', async () => {
    const backend = open();
    await expect(backend.getBlob('../etc/passwd', 1)).rejects.toThrow(TypeError);
    await expect(backend.putManifest('AB'.repeat(32), new Uint8Array(1))).rejects.toThrow(TypeError);
    await expect(backend.leases.acquire('x', 't', 0)).rejects.toThrow(RangeError);
    expect(() => new RedisBackend({ url: 'http://127.0.0.1:1', timeoutMs: 100, prefix: '' })).toThrow(RangeError);
  });

  it('close() lets pending operations finish; later operations fail with EREMOTE', async () => {
    const backend = new RedisBackend({ url: server.url, timeoutMs: 3000, prefix: 'close:' });
    const digest = digestOf('closing');
    const pending = backend.putManifest(digest, new Uint8Array([7]));
    await backend.ping();
    await Promise.all([pending, backend.close()]);
    await backend.close();
    expect(await admin.exists(`close:ac:${digest}`)).toBe(1);
    expect((await failure(backend.ping())).code).toBe('EREMOTE');
    // Never used: closing opens nothing.
    await new RedisBackend({ url: 'redis://127.0.0.1:1', timeoutMs: 100, prefix: '' }).close();
  });

  it('an idle backend keeps no process alive (a child that never calls close() exits by itself)', async () => {
    const run = (url: string, mode: string) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', IDLE_FIXTURE, url, mode], { cwd: REPO, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: child.exitCode ?? (error ? -1 : 0), stdout, stderr }));
    });
    const [up, down] = await Promise.all([run(server.url, 'up'), run('redis://127.0.0.1:1', 'down')]);
    // Killed by execFile's timeout, a child would have a null or signal exit and no output.
    expect(up).toMatchObject({ code: 0, stdout: '3\n' });
    expect(down).toMatchObject({ code: 0, stdout: 'EREMOTE\n' });
    expect(up.stderr + down.stderr).not.toMatch(/ioredis/);
  });
});

describe.skipIf(!FIRST_BUILD_PASS)('RedisBackend failures', () => {
  it('a wrong password of an ACL user is EREMOTEAUTH, with the credentials redacted', async () => {
    const server = await startRedis({ user: 'alice', password: 'right-secret-a' });
    try {
      const url = server.url.replace('redis://', 'redis://alice:wrong-secret-a@');
      const backend = track(new RedisBackend({ url, timeoutMs: 3000, prefix: '' }));
      expect(backend.url).toBe(server.url.replace('redis://', 'redis://alice:***@'));
      for (const operation of [() => backend.ping(), () => backend.getManifest(digestOf('x')), () => backend.leases.acquire('l', 't', 1000)]) {
        const error = await failure(operation());
        expect(error.code).toBe('EREMOTEAUTH');
        expect(error.message).toMatch(/^Redis refused the credentials for redis:\/\/alice:\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/);
        expectNoSecret(error, 'wrong-secret-a', 'right-secret-a');
      }
      const right = track(new RedisBackend({ url: server.url.replace('redis://', 'redis://alice:right-secret-a@'), timeoutMs: 3000, prefix: '' }));
      await right.putManifest(digestOf('ok'), new Uint8Array([1]));
      expect(await right.listManifests()).toEqual([digestOf('ok')]);
    } finally {
      await server.stop();
    }
  });

  it('requirepass: a wrong or a missing password is EREMOTEAUTH; the right one works', async () => {
    const server = await startRedis({ password: 'right-secret-b' });
    try {
      const wrong = track(new RedisBackend({ url: server.url.replace('redis://', 'redis://:wrong-secret-b@'), timeoutMs: 3000, prefix: '' }));
      const wrongError = await failure(wrong.putBlob(sha(new Uint8Array(3)), new Uint8Array(3)));
      expect(wrongError).toMatchObject({ code: 'EREMOTEAUTH', url: server.url.replace('redis://', 'redis://:***@') });
      expect(wrongError.message).toMatch(/WRONGPASS/);
      expectNoSecret(wrongError, 'wrong-secret-b', 'right-secret-b');
      // Refused again on the next operation (not a fast "not connected": a refused AUTH is not retried in the background).
      expect((await failure(wrong.ping())).code).toBe('EREMOTEAUTH');

      const none = track(new RedisBackend({ url: server.url, timeoutMs: 3000, prefix: '' }));
      const noneError = await failure(none.ping());
      expect(noneError.code).toBe('EREMOTEAUTH');
      expect(noneError.message).toMatch(/NOAUTH/);

      const right = track(new RedisBackend({ url: server.url.replace('redis://', 'redis://:right-secret-b@'), timeoutMs: 3000, prefix: '' }));
      await right.ping();
    } finally {
      await server.stop();
    }
  });

  it('a server out of memory (maxmemory, noeviction) is EREMOTEFULL', async () => {
    const server = await startRedis({ maxmemory: '2mb', policy: 'noeviction' });
    try {
      const backend = track(new RedisBackend({ url: server.url, timeoutMs: 3000, prefix: '' }));
      let error: RemoteError | undefined;
      for (let i = 0; i < 20 && !error; i++) {
        const bytes = bytesOf(512 * 1024, 100 + i);
        error = await backend.putBlob(sha(bytes), bytes).then(() => undefined, (e: RemoteError) => e);
      }
      expect(error).toBeInstanceOf(RemoteError);
      expect(error!.code).toBe('EREMOTEFULL');
      expect(error!.message).toMatch(/out of memory.*OOM command not allowed/);
      // Reads still work on a full server.
      await backend.ping();
    } finally {
      await server.stop();
    }
  });

  it('a stopped server fails operations with EREMOTE; after its restart they succeed again', async () => {
    const server = await startRedis();
    try {
      const backend = track(new RedisBackend({ url: server.url, timeoutMs: 3000, prefix: 'r:' }));
      await backend.putManifest(digestOf('before'), new Uint8Array([1]));
      await server.stop();
      for (const operation of [() => backend.ping(), () => backend.getManifest(digestOf('before')), () => backend.putBlob(sha(new Uint8Array(1)), new Uint8Array(1))]) {
        expect((await failure(operation())).code).toBe('EREMOTE');
      }
      server.kill();
      await server.restart();
      await eventually(() => backend.ping());
      // Nothing persisted (--save ''): the server starts empty, the backend works on it.
      expect(await backend.getManifest(digestOf('before'))).toBeUndefined();
      await backend.putManifest(digestOf('after'), new Uint8Array([2]));
      expect(await backend.listManifests()).toEqual([digestOf('after')]);

      // A crash (SIGKILL) with the connection up: the same.
      server.kill();
      const crash = await eventually(async () => {
        const error = await backend.ping().then(() => undefined, (e: unknown) => e);
        if (!error) throw new Error('still answering');
        return error as RemoteError;
      }, 3000);
      expect(crash).toBeInstanceOf(RemoteError);
      expect(crash.code).toBe('EREMOTE');
      await server.restart();
      await eventually(() => backend.ping());
    } finally {
      await server.stop();
    }
  });

  it('a server that never started is EREMOTE, whose message says why', async () => {
    const backend = track(new RedisBackend({ url: 'redis://:some-pass@127.0.0.1:1/3', timeoutMs: 3000, prefix: '' }));
    const error = await failure(backend.getBlob(digestOf('x'), 1));
    expect(error.code).toBe('EREMOTE');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.url).toBe('redis://:***@127.0.0.1:1/3');
    expectNoSecret(error, 'some-pass');
  });

  it('a server that does not answer (SIGSTOP) times out with ETIMEDOUT, and works again once it answers', async () => {
    const server = await startRedis();
    try {
      const backend = track(new RedisBackend({ url: server.url, timeoutMs: 300, prefix: '' }));
      await backend.ping();
      process.kill(server.pid, 'SIGSTOP');
      try {
        expect((await failure(backend.ping())).code).toBe('ETIMEDOUT');
        // 2 MB: 300 ms + 2e6 / 20 000 = 400 ms.
        expect((await failure(backend.getBlob(digestOf('x'), 2_000_000))).message).toMatch(/got no answer in 400 ms/);
        // Connecting to a frozen server: the kernel accepts the socket, nobody answers the handshake.
        const fresh = track(new RedisBackend({ url: server.url, timeoutMs: 300, prefix: '' }));
        expect((await failure(fresh.ping())).code).toBe('ETIMEDOUT');
      } finally {
        process.kill(server.pid, 'SIGCONT');
      }
      await eventually(() => backend.ping());
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(!FIRST_BUILD_PASS)('HttpCasBackend on nginx WebDAV', () => {
  let server: NginxDavServer;
  const open = (namespace = '/team', options: { token?: string; timeoutMs?: number } = {}) =>
    track(new HttpCasBackend({ url: `${server.url}${namespace}`, timeoutMs: options.timeoutMs ?? 3000, prefix: 'ignored:', ...(options.token ? { token: options.token } : {}) }));

  beforeAll(async () => { server = await startNginxDav(); });
  afterAll(async () => { await server?.stop(); });

  it('round-trips blobs (8 MB and empty ones too) in the Bazel layout, and answers undefined for a missing one', async () => {
    const backend = open();
    expect(backend).toMatchObject({ kind: 'http', url: `${server.url}/team`, maxBlobBytes: Number.MAX_SAFE_INTEGER });
    expect(backend.leases).toBeUndefined();
    for (const bytes of [bytesOf(1000, 1), bytesOf(8 * 1024 * 1024, 2), new Uint8Array(0)]) {
      const key = sha(bytes);
      expect(await backend.hasBlob(key)).toBe(false);
      expect(await backend.getBlob(key, bytes.length)).toBeUndefined();
      await backend.putBlob(key, bytes);
      expect(await backend.hasBlob(key)).toBe(true);
      const back = await backend.getBlob(key, bytes.length);
      expect(back).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(back!, bytes)).toBe(0);
      expect(Buffer.compare(readFileSync(`${server.root}/team/cas/${key}`), bytes)).toBe(0);
    }
  });

  it('stores a blob once (a HEAD finds it), and replaces manifests', async () => {
    const backend = open();
    const bytes = bytesOf(64, 4);
    await backend.putBlob(sha(bytes), bytes);
    await backend.putBlob(sha(bytes), bytesOf(64, 5));
    expect(Buffer.compare((await backend.getBlob(sha(bytes), 64))!, bytes)).toBe(0);
    await expectManifestsReplaced(backend);
  });

  it('lists manifests and counts usage from the JSON listings; the URL path is the namespace', async () => {
    const a = open('/ns-a');
    const b = open('/ns-b/');
    // Nothing under /ns-b yet: the server cannot tell "no folder" from "cannot list".
    expect(await b.listManifests()).toBeUndefined();
    expect(await b.usage()).toEqual({});
    const digests = Array.from({ length: 30 }, (_, i) => digestOf(`entry ${i}`));
    for (const digest of digests) await a.putManifest(digest, new Uint8Array([1, 2]));
    const blobs = [bytesOf(10, 6), bytesOf(2000, 7), new Uint8Array(0)];
    for (const blob of blobs) await a.putBlob(sha(blob), blob);
    await b.putManifest(digestOf('b only'), new Uint8Array([2]));
    expect((await a.listManifests())!.sort()).toEqual([...digests].sort());
    expect(await b.listManifests()).toEqual([digestOf('b only')]);
    expect(await a.usage()).toEqual({ entries: 30, blobs: 3, bytes: 2010 });
    // b's folder lists, and has no cas/ folder yet: it holds no blobs (a listing server's 404 is an empty folder).
    expect(await b.usage()).toEqual({ entries: 1, blobs: 0, bytes: 0 });
    expect(await b.getManifest(digests[0])).toBeUndefined();
    await a.ping();
    await b.ping();
  });

  it('a stopped server fails operations with EREMOTE; after its restart they succeed again', async () => {
    const backend = open('/restart');
    await backend.putManifest(digestOf('kept'), new Uint8Array([5]));
    await server.stop();
    for (const operation of [() => backend.ping(), () => backend.getManifest(digestOf('kept')), () => backend.hasBlob(digestOf('x'))]) {
      const error = await failure(operation());
      expect(error.code).toBe('EREMOTE');
      expect(error.message).toMatch(/ECONNREFUSED/);
    }
    await server.restart();
    expect([...(await eventually(async () => (await backend.getManifest(digestOf('kept')))!))]).toEqual([5]);
  });
});

describe.skipIf(!FIRST_BUILD_PASS)('HttpCasBackend credentials on nginx', () => {
  it('a required bearer token: none or a wrong one is EREMOTEAUTH (401), never shown; the right one works', async () => {
    const server = await startNginxDav({ token: 'right-token-c' });
    try {
      const none = track(new HttpCasBackend({ url: `${server.url}/ns`, timeoutMs: 3000, prefix: '' }));
      const wrong = track(new HttpCasBackend({ url: `${server.url}/ns`, timeoutMs: 3000, prefix: '', token: 'wrong-token-c' }));
      for (const backend of [none, wrong]) {
        for (const operation of [() => backend.getManifest(digestOf('x')), () => backend.putManifest(digestOf('x'), new Uint8Array(1)), () => backend.ping(), () => backend.listManifests()]) {
          const error = await failure(operation());
          expect(error).toMatchObject({ code: 'EREMOTEAUTH', status: 401 });
          expectNoSecret(error, 'wrong-token-c', 'right-token-c');
        }
      }
      expect((await failure(none.ping())).message).toMatch(/needs credentials/);
      expect((await failure(wrong.ping())).message).toMatch(/refused the credentials/);
      const right = track(new HttpCasBackend({ url: `${server.url}/ns`, timeoutMs: 3000, prefix: '', token: 'right-token-c' }));
      await right.putManifest(digestOf('x'), new Uint8Array([9]));
      expect(await right.listManifests()).toEqual([digestOf('x')]);
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(!FIRST_BUILD_PASS)('HttpCasBackend on a scripted server', () => {
  let http: Server;
  let base: string;
  let answer: (request: IncomingMessage, response: ServerResponse) => void;
  const seen: { method?: string; url?: string; authorization?: string }[] = [];

  beforeAll(async () => {
    http = createServer((request, response) => {
      seen.push({ method: request.method, url: request.url, authorization: request.headers.authorization });
      request.resume();
      request.on('end', () => answer(request, response));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  const reply = (status: number, body = '', type = 'text/plain') => (_: IncomingMessage, response: ServerResponse) => {
    response.writeHead(status, { 'content-type': type });
    response.end(body);
  };
  const open = (url = `${base}/ns`, timeoutMs = 2000) => track(new HttpCasBackend({ url, timeoutMs, prefix: '' }));

  it('a 5xx is EREMOTE, never a miss', async () => {
    answer = reply(500, 'boom');
    const backend = open();
    for (const operation of [() => backend.getBlob(digestOf('x'), 1), () => backend.getManifest(digestOf('x')), () => backend.hasBlob(digestOf('x')),
      () => backend.putManifest(digestOf('x'), new Uint8Array(1)), () => backend.listManifests(), () => backend.ping()]) {
      const error = await failure(operation());
      expect(error).toMatchObject({ code: 'EREMOTE', status: 500 });
    }
    answer = reply(503);
    expect(await failure(backend.getManifest(digestOf('x')))).toMatchObject({ code: 'EREMOTE', status: 503 });
  });

  it('413 and 507 are EREMOTEFULL; 403 is EREMOTEAUTH; another 4xx is EREMOTE', async () => {
    const backend = open();
    const bytes = new Uint8Array(10);
    answer = (request, response) => reply(request.method === 'HEAD' ? 404 : 507)(request, response);
    expect(await failure(backend.putBlob(sha(bytes), bytes))).toMatchObject({ code: 'EREMOTEFULL', status: 507 });
    answer = (request, response) => reply(request.method === 'HEAD' ? 404 : 413)(request, response);
    expect(await failure(backend.putBlob(sha(bytes), bytes))).toMatchObject({ code: 'EREMOTEFULL', status: 413 });
    answer = reply(403);
    expect(await failure(backend.getManifest(digestOf('x')))).toMatchObject({ code: 'EREMOTEAUTH', status: 403 });
    answer = reply(418);
    expect(await failure(backend.getManifest(digestOf('x')))).toMatchObject({ code: 'EREMOTE', status: 418 });
    // putBlob skips the upload when the HEAD finds the blob.
    seen.length = 0;
    answer = reply(200);
    await backend.putBlob(sha(bytes), bytes);
    expect(seen.map((request) => request.method)).toEqual(['HEAD']);
  });

  it('sends URL credentials as Basic authorization, never in the request URL or a message', async () => {
    const backend = open(base.replace('http://', 'http://ci%20user:p%C3%A4ss-word-d@') + '/deep/ns/?q=1#frag');
    expect(backend.url).toBe(base.replace('http://', 'http://ci%20user:***@') + '/deep/ns/?q=1#frag');
    seen.length = 0;
    answer = reply(404);
    expect(await backend.getManifest(digestOf('x'))).toBeUndefined();
    expect(seen[0]).toEqual({ method: 'GET', url: `/deep/ns/ac/${digestOf('x')}`, authorization: `Basic ${Buffer.from('ci user:päss-word-d').toString('base64')}` });
    answer = reply(401);
    const error = await failure(backend.getManifest(digestOf('x')));
    expect(error.code).toBe('EREMOTEAUTH');
    expectNoSecret(error, 'päss-word-d', 'p%C3%A4ss-word-d', Buffer.from('ci user:päss-word-d').toString('base64'));
    // A token wins over the URL's credentials.
    const withToken = track(new HttpCasBackend({ url: base.replace('http://', 'http://u:pw-e@'), timeoutMs: 2000, prefix: '', token: 'tok-e' }));
    seen.length = 0;
    answer = reply(200, 'x');
    await withToken.getManifest(digestOf('x'));
    expect(seen[0].authorization).toBe('Bearer tok-e');
  });

  it('lists only from a JSON array of 64-hex files; an HTML index, 404 or 405 means "cannot list"', async () => {
    const backend = open();
    const listing = [
      { name: digestOf('a'), type: 'file', size: 3 },
      { name: digestOf('b'), type: 'file', size: 4 },
      { name: 'not-a-digest', type: 'file', size: 100 },
      { name: digestOf('dir'), type: 'directory' },
    ];
    answer = reply(200, JSON.stringify(listing), 'application/json');
    expect(await backend.listManifests()).toEqual([digestOf('a'), digestOf('b')]);
    expect(await backend.usage()).toEqual({ entries: 2, blobs: 2, bytes: 7 });
    for (const status of [404, 405]) {
      answer = reply(status);
      expect(await backend.listManifests()).toBeUndefined();
      expect(await backend.usage()).toEqual({});
    }
    answer = reply(200, '<html><body>Index of /ac/</body></html>', 'text/html');
    expect(await backend.listManifests()).toBeUndefined();
    answer = reply(200, '{"not":"an array"}', 'application/json');
    expect(await backend.listManifests()).toBeUndefined();
    // ping: any answer but refused credentials and a 5xx counts as reachable.
    for (const status of [200, 404, 405]) {
      answer = reply(status);
      await backend.ping();
    }
  });

  it('a server that does not answer is ETIMEDOUT, bounded by the timeout plus time for the blob size', async () => {
    answer = () => undefined; // never answers
    const backend = open(`${base}/ns`, 200);
    const started = Date.now();
    const error = await failure(backend.getManifest(digestOf('x')));
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toMatch(/got no answer in 200 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    // 2 MB: 200 ms + 2e6 / 20 000 = 300 ms.
    expect((await failure(backend.getBlob(digestOf('x'), 2_000_000))).message).toMatch(/got no answer in 300 ms/);
    http.closeAllConnections();
  });

  it('a refused connection is EREMOTE; a non-HTTP URL is a RangeError', async () => {
    const backend = open(`http://u:pw-f@127.0.0.1:${await closedPort()}/ns`);
    const error = await failure(backend.getManifest(digestOf('x')));
    expect(error.code).toBe('EREMOTE');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expectNoSecret(error, 'pw-f');
    expect(() => new HttpCasBackend({ url: 'redis://127.0.0.1:1', timeoutMs: 100, prefix: '' })).toThrow(RangeError);
    await expect(backend.getBlob('nope', 1)).rejects.toThrow(TypeError);
  });
});
