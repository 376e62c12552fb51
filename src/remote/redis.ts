// The Redis backend (Node only): blobs, manifests and leases as plain keys on one server, through ioredis,
// which is loaded on the first operation so that importing the library opens and loads nothing.

import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import { RemoteError, type BackendOptions, type RemoteBackend, type RemoteLeases, type RemoteUsage } from './backend.js';
import { decodeUserinfo, redactUrl, scrubSecrets } from './redact.js';

/** Redis refuses bulk strings over proto-max-bulk-len (512 MiB); the margin leaves room for the command around it. */
export const REDIS_MAX_BLOB_BYTES = 512 * 1024 * 1024 - 64 * 1024;
// Blobs up to this size are sent with SET NX at once; larger ones are asked about first.
const SEND_WITHOUT_ASKING = 64 * 1024;

// Blob transfers get this many bytes per millisecond on top of the base timeout (20 MB/s): a slow but
// working link finishes, a stalled one still fails in bounded time.
const BYTES_PER_MS = 20_000;
// Keys per SCAN step and STRLEN pipeline: big enough to be few round trips, small enough for one timeout.
const BATCH = 1000;
const HEX64 = /^[0-9a-f]{64}$/;

// Compare-then-act has to be atomic: between a GET and a PEXPIRE the lease may expire and be taken by another.
const RENEW_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

type Code = 'EREMOTE' | 'ETIMEDOUT' | 'EREMOTEAUTH' | 'EREMOTEFULL';

interface Target {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
}

/** Host, port, database and credentials of a `redis://[user:pass@]host:port/db` or `rediss://` URL. */
function parseRedisUrl(url: string, redacted: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`RedisBackend: expected a redis:// or rediss:// URL, got ${redacted}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RangeError(`RedisBackend: expected a redis:// or rediss:// URL, got ${redacted}`);
  }
  const path = parsed.pathname.replace(/^\/+|\/+$/g, '');
  const db = path === '' ? 0 : Number(path);
  if (!/^\d*$/.test(path) || !Number.isSafeInteger(db)) {
    throw new RangeError(`RedisBackend: expected a database number as the URL's path, got /${path} in ${redacted}`);
  }
  const user = decodeUserinfo(parsed.username);
  const pass = decodeUserinfo(parsed.password);
  const target: Target = {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    tls: parsed.protocol === 'rediss:',
  };
  // AUTH always needs a password: a lone user is the legacy `redis://password@host` form.
  if (pass) return { ...target, ...(user ? { username: user } : {}), password: pass };
  if (user) return { ...target, password: user };
  return target;
}

/** A glob pattern matching `text` literally (SCAN MATCH treats * ? [ ] \ as special). */
const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/** A Buffer over the same memory (ioredis sends Buffers as bytes, other views as their String()). */
const asBuffer = (bytes: Uint8Array) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

function checkHex(what: string, value: string): void {
  if (typeof value !== 'string' || !HEX64.test(value)) {
    throw new TypeError(`RedisBackend: expected ${what} as 64 lowercase hex digits, got ${JSON.stringify(value)}`);
  }
}

function checkTtl(ttlMs: number): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`RedisBackend: expected a lease time in ms > 0, got ${ttlMs}`);
  }
  return Math.max(1, Math.ceil(ttlMs));
}

/**
 * A remote store on one Redis server (or anything speaking its protocol: Valkey, KeyDB, Dragonfly): blobs
 * under `${prefix}cas:<sha256>`, manifests under `${prefix}ac:<digest>`, leases under `${prefix}lease:<name>`.
 * Nothing happens at construction; the first operation loads ioredis and connects. A lost connection is
 * re-established in the background (every 250 ms to 2 s), and operations meanwhile fail at once with
 * 'EREMOTE' rather than wait. The socket keeps a process alive only while operations are in flight.
 * @example
 * const backend = new RedisBackend({ url: 'redis://cache:secret@10.0.0.5:6379/0', timeoutMs: 2000, prefix: 'sim:' });
 * await backend.putManifest(digest, bytes);
 * await backend.close();
 */
export class RedisBackend implements RemoteBackend {
  readonly kind = 'redis' as const;
  readonly url: string;
  readonly maxBlobBytes = REDIS_MAX_BLOB_BYTES;
  readonly leases: RemoteLeases;

  private readonly target: Target;
  private readonly timeoutMs: number;
  private readonly prefix: string;
  private readonly secrets: string[];
  private redis?: RedisClient;
  private creating?: Promise<RedisClient>;
  private connecting?: Promise<void>;
  private lastError?: Error;
  // Set by a refused AUTH: reconnecting in the background would only repeat the refusal every second.
  private authRefused = false;
  private inFlight = 0;
  // What syncRef() last did to which socket.
  private applied?: { stream: object; ref: boolean };
  private closed = false;

  /**
   * @param options the URL (`redis://[user:pass@]host:port/db`, `rediss://` for TLS), the per-operation
   * timeout and the key prefix.
   * @throws {RangeError} when the URL is not a redis:// or rediss:// URL.
   */
  constructor(options: BackendOptions) {
    this.url = redactUrl(options.url);
    this.target = parseRedisUrl(options.url, this.url);
    this.timeoutMs = options.timeoutMs;
    this.prefix = options.prefix;
    this.secrets = [this.target.password, options.url.match(/^[^:]+:\/\/[^:@/]*:([^@/]*)@/)?.[1]].filter((s): s is string => !!s);
    this.leases = {
      acquire: async (name, token, ttlMs) => {
        const ttl = checkTtl(ttlMs);
        return this.run('lease acquire', 0, async (c) => (await c.set(this.key('lease:', name), token, 'PX', ttl, 'NX')) === 'OK');
      },
      renew: async (name, token, ttlMs) => {
        const ttl = checkTtl(ttlMs);
        return this.run('lease renew', 0, async (c) => Number(await c.eval(RENEW_SCRIPT, 1, this.key('lease:', name), token, ttl)) === 1);
      },
      release: async (name, token) => this.run('lease release', 0, async (c) => { await c.eval(RELEASE_SCRIPT, 1, this.key('lease:', name), token); }),
      markEmpty: async (name, ttlMs) => {
        const ttl = checkTtl(ttlMs);
        return this.run('lease note', 0, async (c) => { await c.set(this.key('lease:', `${name}:empty`), '1', 'PX', ttl); });
      },
      wasEmpty: async (name) => this.run('lease note', 0, async (c) => (await c.exists(this.key('lease:', `${name}:empty`))) === 1),
    };
  }

  /** The blob under this SHA-256, or undefined. @throws {RemoteError} when the server fails or does not answer. */
  async getBlob(sha256: string, size: number): Promise<Uint8Array | undefined> {
    checkHex('a SHA-256', sha256);
    return this.run('blob download', size, async (c) => (await c.getBuffer(this.key('cas:', sha256))) ?? undefined);
  }

  /** Whether the server has this blob. @throws {RemoteError} */
  async hasBlob(sha256: string): Promise<boolean> {
    checkHex('a SHA-256', sha256);
    return this.run('blob lookup', 0, async (c) => (await c.exists(this.key('cas:', sha256))) === 1);
  }

  /**
   * Stores a blob unless the server has it (SET NX: a blob never changes).
   * @throws {RangeError} when the blob is larger than maxBlobBytes. @throws {RemoteError}
   */
  async putBlob(sha256: string, bytes: Uint8Array): Promise<void> {
    checkHex('a SHA-256', sha256);
    if (bytes.byteLength > this.maxBlobBytes) {
      throw new RangeError(`RedisBackend: a blob of ${bytes.byteLength} bytes exceeds Redis's limit of ${this.maxBlobBytes}`);
    }
    return this.run('blob upload', bytes.byteLength, async (c) => {
      // A blob never changes: one the server has is not sent again (a round trip is cheaper than the bytes).
      if (bytes.byteLength > SEND_WITHOUT_ASKING && await c.exists(this.key('cas:', sha256))) return;
      await c.set(this.key('cas:', sha256), asBuffer(bytes), 'NX');
    });
  }

  /** The manifest under this digest, or undefined. @throws {RemoteError} */
  async getManifest(digest: string): Promise<Uint8Array | undefined> {
    checkHex('a manifest digest', digest);
    return this.run('manifest download', 0, async (c) => (await c.getBuffer(this.key('ac:', digest))) ?? undefined);
  }

  /** Stores or replaces the manifest under this digest. @throws {RemoteError} */
  async putManifest(digest: string, bytes: Uint8Array): Promise<void> {
    checkHex('a manifest digest', digest);
    return this.run('manifest upload', bytes.byteLength, async (c) => { await c.set(this.key('ac:', digest), asBuffer(bytes)); });
  }

  /** The digests of every manifest under the prefix (SCAN: each step has its own timeout). @throws {RemoteError} */
  async listManifests(): Promise<string[]> {
    const start = this.key('ac:', '').length;
    return [...await this.scan('ac:')].map((key) => key.slice(start));
  }

  /** Manifests and blobs under the prefix, and the bytes of the blobs. @throws {RemoteError} */
  async usage(): Promise<RemoteUsage> {
    const entries = (await this.scan('ac:')).size;
    const blobs = [...await this.scan('cas:')];
    let bytes = 0;
    for (let i = 0; i < blobs.length; i += BATCH) {
      const keys = blobs.slice(i, i + BATCH);
      bytes += await this.run('usage', 0, async (c) => {
        const pipeline = c.pipeline();
        for (const key of keys) pipeline.strlen(key);
        let sum = 0;
        // A key evicted between SCAN and STRLEN counts 0; an error reply is a failure of the whole step.
        for (const [error, length] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          sum += Number(length);
        }
        return sum;
      });
    }
    return { entries, blobs: blobs.length, bytes };
  }

  /** One PING round trip. @throws {RemoteError} */
  async ping(): Promise<void> {
    return this.run('ping', 0, async (c) => { await c.ping(); });
  }

  /**
   * Ends the connection: QUIT, which the server answers after the commands already sent, bounded by the
   * timeout; then a plain disconnect. Later operations fail with 'EREMOTE'.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.redis ?? (await this.creating?.catch(() => undefined));
    if (!client) return;
    // Already ended (refused credentials end it): disconnect() would only start ioredis's 2 s timer.
    if (client.status === 'end') return;
    if (client.status === 'ready') {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([client.quit(), new Promise((_, reject) => { timer = setTimeout(reject, this.timeoutMs); })]);
        return;
      } catch {
        // No answer to QUIT: drop the socket.
      } finally {
        clearTimeout(timer);
      }
    }
    client.disconnect();
  }

  private key(kind: 'cas:' | 'ac:' | 'lease:', name: string): string {
    return `${this.prefix}${kind}${name}`;
  }

  /** The keys of one kind under the prefix (a set: SCAN may return a key twice). */
  private async scan(kind: 'cas:' | 'ac:'): Promise<Set<string>> {
    const pattern = `${globEscape(this.prefix)}${kind}*`;
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.run('listing', 0, (c) => c.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH));
      for (const key of batch) keys.add(key);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }

  /**
   * Runs one operation under its own timeout (the base one, plus time for `bytes`), with the socket ref'd
   * while it runs, and turns every failure into a RemoteError.
   */
  private async run<T>(what: string, bytes: number, op: (client: RedisClient) => Promise<T>): Promise<T> {
    const ms = Math.ceil(this.timeoutMs + bytes / BYTES_PER_MS);
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.inFlight += 1;
    this.syncRef();
    try {
      const work = this.ready().then(op);
      // A command that loses the race still settles later: its rejection must not become unhandled.
      work.catch(() => {});
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RemoteError('ETIMEDOUT', `Redis ${what} at ${this.url} got no answer in ${ms} ms`, this.url)), ms);
      });
      return await Promise.race([work, timeout]);
    } catch (error) {
      throw this.toRemoteError(what, error);
    } finally {
      clearTimeout(timer);
      this.inFlight -= 1;
      this.syncRef();
    }
  }

  /** The client, connected: a first connection (or one after an end) is awaited; a lost one fails at once. */
  private async ready(): Promise<RedisClient> {
    const client = await this.client();
    if (client.status === 'ready') return client;
    if (client.status === 'wait' || client.status === 'end') {
      this.lastError = undefined;
      this.authRefused = false;
      if (!this.connecting) {
        const attempt = client.connect().finally(() => { this.connecting = undefined; });
        attempt.catch(() => {}); // awaited below; a caller that timed out meanwhile must not leave it unhandled
        this.connecting = attempt;
      }
    }
    if (this.connecting && (client.status === 'connecting' || client.status === 'connect')) {
      try {
        await this.connecting;
      } catch (error) {
        // connect() rejects with a bare "Connection is closed."; the reason (refused, WRONGPASS) came as 'error'.
        throw this.lastError ?? error;
      }
      // Read again: the await changed it (TypeScript keeps the narrowing from before).
      if ((client.status as string) === 'ready') return client;
    }
    // Reconnecting in the background: failing now (offline queue off) lets the tier skip the remote.
    const reason = this.lastError ? scrubSecrets(this.lastError.message, this.secrets)
      : client.status === 'connecting' || client.status === 'connect' ? 'a reconnection is under way' : 'the connection was lost';
    throw new RemoteError('EREMOTE', `Redis at ${this.url} is not connected (${reason}); reconnecting in the background`, this.url);
  }

  private async client(): Promise<RedisClient> {
    if (this.closed) throw new RemoteError('EREMOTE', `The Redis backend for ${this.url} is closed`, this.url);
    if (this.redis) return this.redis;
    this.creating ??= this.create();
    return this.creating;
  }

  private async create(): Promise<RedisClient> {
    const { Redis } = await import('ioredis');
    const { host, port, db, tls, username, password } = this.target;
    const options: RedisOptions = {
      host, port, db,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      // Node's TLS verifies the host name (and sends SNI) from `host` itself.
      ...(tls ? { tls: {} } : {}),
      lazyConnect: true,
      // Fail at once while disconnected instead of queueing behind a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Commands cut off by a lost connection fail; the tier decides what to retry.
      autoResendUnfulfilledCommands: false,
      connectTimeout: this.timeoutMs,
      // INFO at connect is one more round trip, and a restricted ACL user may not be allowed it.
      enableReadyCheck: false,
      // Neither CLIENT SETINFO (Redis 7.2+) nor maintenance notifications serve a cache; fewer handshake commands.
      disableClientInfo: true,
      maintNotifications: 'disabled',
      retryStrategy: (times) => (this.authRefused || this.closed ? null : Math.min(2000, 250 * 2 ** Math.min(times - 1, 3)) + Math.floor(Math.random() * 50)),
    };
    const client = new Redis(options);
    // A listener, so that ioredis does not print "[ioredis] Unhandled error event" for every failed reconnect.
    client.on('error', (error: Error) => {
      this.lastError = error;
      if (/^(WRONGPASS|NOAUTH)\b/.test(error.message)) this.authRefused = true;
    });
    // A stale error must not explain a later disconnection.
    client.on('ready', () => { this.lastError = undefined; this.authRefused = false; });
    for (const event of ['connect', 'ready', 'close', 'end', 'reconnecting']) client.on(event, () => this.syncRef());
    // The socket of a new attempt is created after the 'connecting' event (in ioredis's next tick).
    client.on('connecting', () => setImmediate(() => this.syncRef()));
    this.redis = client;
    return client;
  }

  /**
   * An idle backend must not keep Node running: the socket is ref'd only while operations are in flight,
   * and the background reconnect timer never is.
   */
  private syncRef(): void {
    const client = this.redis;
    if (!client) return;
    const stream = client.stream as (object & { destroyed?: boolean; ref?: () => void; unref?: () => void }) | undefined;
    const ref = this.inFlight > 0;
    // Only on a change, and never on a dead socket: a socket without its handle (connecting, or destroyed)
    // queues each ref()/unref() as a 'connect' listener, which on a dead one would pile up for ever.
    if (stream && !stream.destroyed && (this.applied?.stream !== stream || this.applied.ref !== ref)) {
      if (ref) stream.ref?.();
      else stream.unref?.();
      this.applied = { stream, ref };
    }
    // A private field of ioredis: its pending reconnect. Missing in another version, then nothing is unref'd.
    (client as unknown as { reconnectTimeout?: { unref?: () => void } | null }).reconnectTimeout?.unref?.();
  }

  private toRemoteError(what: string, error: unknown): RemoteError {
    if (error instanceof RemoteError) return error;
    const raw = error instanceof Error ? error.message : String(error);
    const detail = scrubSecrets(raw, this.secrets);
    // A copy of the cause without ioredis's fields (command arguments: blob bytes, possibly credentials).
    const cause = new Error(detail);
    if (error instanceof Error) cause.name = error.name;
    let code: Code = 'EREMOTE';
    // ioredis's words for a connection lost under a command point at its own options; say what happened.
    const lost = (error as { name?: unknown })?.name === 'MaxRetriesPerRequestError' || /^(Connection is closed|Command aborted due to connection close)/.test(raw);
    let message = `Redis ${what} failed at ${this.url}: ${lost ? 'the connection was lost before the answer' : detail}`;
    if (/^(WRONGPASS|NOAUTH)\b/.test(raw)) {
      code = 'EREMOTEAUTH';
      message = `Redis refused the credentials for ${this.url}: ${detail}`;
    } else if (/^NOPERM\b/.test(raw)) {
      code = 'EREMOTEAUTH';
      message = `Redis at ${this.url} does not allow this user the ${what}: ${detail}`;
    } else if (/^OOM\b/.test(raw)) {
      code = 'EREMOTEFULL';
      message = `Redis at ${this.url} is out of memory (maxmemory reached, and its policy evicts nothing): ${detail}`;
    } else if ((error as { code?: unknown })?.code === 'ETIMEDOUT') {
      code = 'ETIMEDOUT';
      message = `Redis ${what} at ${this.url} timed out: ${detail}`;
    }
    return new RemoteError(code, message, this.url, { cause });
  }
}
