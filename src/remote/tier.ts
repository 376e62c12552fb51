// The remote tier under a CacheManager: asks the remote on a local miss (every blob hashed before use),
// publishes saves in the background, and leases keys for single flight across machines. A remote that is
// down, slow, full or refusing never fails a call: its failures are counted apart from misses, the remote is
// skipped for a while, and one warning says so.

import { RemoteError, type RemoteBackend, type RemoteUsage } from './backend.js';
import { Breaker } from './breaker.js';
import { encodeManifest, manifestDigest, parseManifest, type Manifest } from './manifest.js';
import type { ResolvedRemoteOptions } from './options.js';
import { UploadQueue } from './uploads.js';

/** What getStats().remote reports: counts since this CacheManager was made. */
export interface RemoteStats {
  /** The remote's URL, credentials redacted. */
  url: string;
  /** What the remote is: a Redis server, or an HTTP cache. */
  kind: 'redis' | 'http';
  /** Whether the remote is consumed but never published to (the `readOnly` option). */
  readOnly: boolean;
  /** Whether the last exchange with the remote succeeded (null before the first). */
  reachable: boolean | null;
  /** Whether the remote is being skipped now (after failures; for good after refused credentials). */
  skipping: boolean;
  /** Local misses the remote answered with a verified entry. */
  hits: number;
  /** Local misses the remote did not have (no manifest, or its blob evicted). */
  misses: number;
  /** Entries published (blob and manifest). */
  uploads: number;
  /** Bytes of blobs uploaded. */
  bytesUploaded: number;
  /** Bytes of blobs downloaded. */
  bytesDownloaded: number;
  /** Failed exchanges (server errors, refused connections, refused credentials, a full server). */
  errors: number;
  /** Exchanges that got no answer in time. */
  timeouts: number;
  /** Downloads refused because the blob did not hash to its name (or could not be decoded): never served. */
  rejected: number;
  /** Operations not attempted because the remote was being skipped. */
  skipped: number;
  /** Uploads not made: the queue was full, or the file is larger than maxBytes. */
  notUploaded: number;
  /**
   * Single-flight leases taken; calls that waited for another machine's; and calls that computed on their own
   * because the machine they waited for finished without a result to share (too large, or not worth storing).
   */
  leases: {
    /** Single-flight leases taken. */
    acquired: number;
    /** Calls that waited for another machine's result. */
    waited: number;
    /** Calls that computed on their own after the machine they waited for finished without a result to share. */
    independent: number;
  };
  /** The last failure, credentials redacted. */
  lastError?: string;
}

/** A verified download: the blob's bytes and the manifest that names them. */
export interface RemoteEntry {
  manifest: Manifest;
  bytes: Uint8Array;
}

/** What a publish hands over: the file to store as the blob, and what the manifest says about it. */
export interface Publication {
  bytes: Uint8Array;
  ext: string;
  value: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  created_at: string;
}

export interface SingleFlight<T> {
  /** What another machine produced while this one waited. */
  hit?: T;
  /** Held lease's release (after this key's uploads); undefined when no lease was taken. */
  release?: () => Promise<void>;
  waited: boolean;
}

const POLL_FIRST_MS = 20;
// Manifests read at once while listing.
const LIST_WINDOW = 32;
const POLL_MAX_MS = 250;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class RemoteTier {
  readonly readOnly: boolean;
  private readonly breaker = new Breaker();
  private readonly uploads = new UploadQueue();
  private readonly counts: Omit<RemoteStats, 'url' | 'kind' | 'readOnly' | 'reachable' | 'skipping' | 'lastError' | 'leases'> = {
    hits: 0, misses: 0, uploads: 0, bytesUploaded: 0, bytesDownloaded: 0, errors: 0, timeouts: 0, rejected: 0, skipped: 0, notUploaded: 0,
  };
  private readonly leaseCounts = { acquired: 0, waited: 0, independent: 0 };
  // When each key was last published by this process (single flight tells waiters whether it published).
  private readonly publishedAt = new Map<string, number>();
  private reachable: boolean | null = null;
  private lastError: string | undefined;
  private readonly warned = new Set<string>();
  // Blobs that did not verify: not downloaded again by this process while a manifest still names them.
  private readonly refused = new Set<string>();

  constructor(
    readonly backend: RemoteBackend,
    private readonly options: ResolvedRemoteOptions,
    private readonly hashHex: (bytes: Uint8Array) => string,
    private readonly warn: (message: string) => void = (message) => console.warn(message),
  ) {
    this.readOnly = options.readOnly;
  }

  /** Whether this remote can coordinate single flight (Redis). */
  get coordinates(): boolean {
    return this.backend.leases !== undefined;
  }

  private digest(category: string, key: string): string {
    return manifestDigest(this.hashHex, this.options.prefix, category, key);
  }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.warn(`dase-cache: ${message}`);
  }

  /**
   * Runs one exchange with the remote through the breaker. @returns its result, or `skip` when the remote is
   * being skipped or the exchange failed (counted, and said once).
   */
  private async exchange<T>(run: () => Promise<T>): Promise<T | typeof SKIP> {
    if (!this.breaker.allow()) {
      this.counts.skipped++;
      return SKIP;
    }
    try {
      const result = await run();
      this.breaker.success();
      this.reachable = true;
      return result;
    } catch (error) {
      const failure = error instanceof RemoteError ? error
        : new RemoteError('EREMOTE', `remote ${this.backend.url}: ${(error as Error)?.message ?? error}`, this.backend.url, { cause: error });
      this.breaker.failure(failure);
      this.reachable = false;
      this.lastError = failure.message;
      if (failure.code === 'ETIMEDOUT') this.counts.timeouts++;
      else this.counts.errors++;
      if (failure.code === 'EREMOTEAUTH') {
        this.warnOnce('auth', `${failure.message}; working local-only from now on (fix the credentials of the remote ${this.backend.url})`);
      } else {
        this.warnOnce('down', `the remote ${this.backend.url} failed (${failure.message}); working local-only, retrying it later. `
          + 'Failures are counted in getStats().remote.');
      }
      return SKIP;
    }
  }

  /**
   * The key's entry from the remote, its blob verified against its SHA-256 and size; undefined for a miss
   * (no manifest, blob evicted, a blob that does not verify, or the remote failing).
   */
  async fetch(category: string, key: string, { countMiss = true } = {}): Promise<RemoteEntry | undefined> {
    const raw = await this.exchange(() => this.backend.getManifest(this.digest(category, key)));
    if (raw === SKIP) return undefined;
    const manifest = raw === undefined ? undefined : parseManifest(raw, { category, key });
    if (raw !== undefined && manifest === undefined) return this.reject(category, key, 'its manifest is malformed');
    if (!manifest || this.refused.has(manifest.blob.sha256)) {
      if (countMiss) this.counts.misses++;
      return undefined;
    }
    const bytes = await this.exchange(() => this.backend.getBlob(manifest.blob.sha256, manifest.blob.size));
    if (bytes === SKIP) return undefined;
    if (bytes === undefined) {
      if (countMiss) this.counts.misses++; // the manifest outlived its blob (an LRU eviction): a miss
      return undefined;
    }
    this.counts.bytesDownloaded += bytes.length;
    const found = this.hashHex(bytes);
    if (bytes.length !== manifest.blob.size || found !== manifest.blob.sha256) {
      this.refused.add(manifest.blob.sha256);
      return this.reject(category, key, `its blob hashes to ${found} (${bytes.length} bytes), not to its name ${manifest.blob.sha256} (${manifest.blob.size} bytes)`);
    }
    this.counts.hits++;
    return { manifest, bytes };
  }

  /** Counts and reports a download that must not be used. */
  reject(category: string, key: string, why: string): undefined {
    this.counts.rejected++;
    this.lastError = `${category}/${key} from ${this.backend.url}: ${why}`;
    this.warnOnce('rejected', `refused ${category}/${key} from the remote ${this.backend.url}: ${why}; computed or loaded locally instead. `
      + 'Refusals are counted in getStats().remote.rejected.');
    return undefined;
  }

  /** Whether a publish of this many bytes would be made (writable remote, under maxBytes). */
  publishes(size: number): boolean {
    return !this.readOnly && size <= Math.min(this.options.maxBytes, this.backend.maxBlobBytes);
  }

  /**
   * Publishes an entry in the background: the blob (skipped when the remote has it), then the manifest.
   * @returns a promise of whether it was published (false: read-only, too large, dropped, or failed).
   */
  publish(category: string, key: string, publication: Publication): Promise<boolean> {
    if (this.readOnly) return Promise.resolve(false);
    if (!this.publishes(publication.bytes.length)) {
      this.counts.notUploaded++;
      return Promise.resolve(false);
    }
    let published!: (ok: boolean) => void;
    const result = new Promise<boolean>((resolve) => { published = resolve; });
    const queued = this.uploads.add(`${category}/${key}`, publication.bytes.length, async () => {
      published(await this.upload(category, key, publication).catch(() => false));
    }, () => published(false));
    if (!queued) {
      this.counts.notUploaded++;
      published(false);
    }
    return result;
  }

  private async upload(category: string, key: string, p: Publication): Promise<boolean> {
    const sha256 = this.hashHex(p.bytes);
    const manifest: Manifest = {
      format: 'dase-cache-manifest/1', category, key, blob: { sha256, size: p.bytes.length, ext: p.ext },
      value: p.value, ...(p.metadata ? { metadata: p.metadata } : {}), created_at: p.created_at,
    };
    // The blob first: a manifest never names a blob that was not stored.
    const blob = await this.exchange(() => this.backend.putBlob(sha256, p.bytes));
    if (blob === SKIP) return false;
    const done = await this.exchange(() => this.backend.putManifest(this.digest(category, key), encodeManifest(manifest)));
    if (done === SKIP) return false;
    this.counts.uploads++;
    this.counts.bytesUploaded += p.bytes.length;
    this.publishedAt.set(`${category}/${key}`, Date.now());
    return true;
  }

  /** Resolves once this key's uploads queued so far are done. */
  uploadOf(category: string, key: string): Promise<void> {
    return this.uploads.uploadOf(`${category}/${key}`);
  }

  /** Whether a download of this blob was refused (it did not hash to its name) by this process. */
  isRefused(sha256: string): boolean {
    return this.refused.has(sha256);
  }

  /** Whether uploads are queued or running. */
  get busy(): boolean {
    return this.uploads.size > 0;
  }

  /** Resolves once every upload queued so far is done. */
  settled(): Promise<void> {
    return this.uploads.settled();
  }

  /**
   * Single flight across machines: takes the key's lease, or waits while another machine holds it, polling
   * `check` (which looks for its result) until it appears, the lease frees (then takes it), or `waitMs` passes.
   * A holder that dies stops renewing: its lease expires after leaseMs and is taken over. Without leases
   * (HTTP) or with the remote failing, returns at once with nothing held: the caller computes independently.
   */
  async singleFlight<T>(category: string, key: string, waitMs: number, check: () => Promise<T | undefined>): Promise<SingleFlight<T>> {
    const leases = this.backend.leases;
    if (!leases || this.readOnly) return { waited: false };
    const name = this.digest(category, key);
    const token = randomToken();
    const ttl = this.options.leaseMs;
    const deadline = Date.now() + waitMs;
    let waited = false;
    let poll = POLL_FIRST_MS;
    for (;;) {
      const taken = await this.exchange(() => leases.acquire(name, token, ttl));
      if (taken === SKIP) {
        // An acquire that timed out may still have taken the lease: give it back (only this token's).
        void leases.release(name, token).catch(() => undefined);
        return { waited };
      }
      if (taken) {
        const since = Date.now();
        this.leaseCounts.acquired++;
        const renewal = setInterval(() => { void this.exchange(() => leases.renew(name, token, ttl)); }, Math.max(50, ttl / 3));
        (renewal as { unref?: () => void }).unref?.();
        // The holder before may have published and released between the caller's look and this acquire.
        const hit = await check().catch(() => undefined);
        const release = async () => {
          clearInterval(renewal);
          // Waiters look for the result once the lease frees: it must be on the remote by then, or they are told
          // there is none (so that they compute side by side instead of taking the lease one after another).
          await this.uploadOf(category, key);
          if (!((this.publishedAt.get(`${category}/${key}`) ?? -1) >= since)) await this.exchange(() => leases.markEmpty(name, ttl));
          await this.exchange(() => leases.release(name, token));
        };
        if (hit !== undefined) {
          await release();
          return { hit, waited };
        }
        if (waited && await this.exchange(() => leases.wasEmpty(name)) === true) {
          clearInterval(renewal);
          await this.exchange(() => leases.release(name, token));
          this.leaseCounts.independent++;
          return { waited };
        }
        return { release, waited };
      }
      if (!waited) this.leaseCounts.waited++;
      waited = true;
      if (Date.now() >= deadline) return { waited };
      await sleep(Math.min(poll, Math.max(0, deadline - Date.now())));
      poll = Math.min(poll * 2, POLL_MAX_MS);
      const hit = await check();
      if (hit !== undefined) return { hit, waited };
    }
  }

  /** The counts so far. */
  stats(): RemoteStats {
    return {
      url: this.backend.url, kind: this.backend.kind, readOnly: this.readOnly, reachable: this.reachable,
      skipping: this.breaker.open, ...this.counts, leases: { ...this.leaseCounts },
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * A fresh look at the remote (for `dase-cache remote status`): whether it answers, its round-trip time, what
   * it holds. Goes to the remote even while it is being skipped.
   */
  async status(): Promise<{ reachable: boolean; latencyMs?: number; usage?: RemoteUsage; error?: string }> {
    const started = performance.now();
    try {
      await this.backend.ping();
    } catch (error) {
      return { reachable: false, error: (error as Error).message };
    }
    const latencyMs = performance.now() - started;
    try {
      return { reachable: true, latencyMs, usage: await this.backend.usage() };
    } catch (error) {
      // Reachable, but it would not say what it holds (an ACL user without SCAN, a listing that fails).
      return { reachable: true, latencyMs, error: (error as Error).message };
    }
  }

  /**
   * Every manifest on the remote under this prefix (for `dase-cache remote ls` and `pull`), or undefined when
   * the remote cannot list. @throws {RemoteError} when the remote fails.
   */
  async list(): Promise<Manifest[] | undefined> {
    const digests = await this.backend.listManifests();
    if (!digests) return undefined;
    const manifests: Manifest[] = [];
    for (let i = 0; i < digests.length; i += LIST_WINDOW) {
      await Promise.all(digests.slice(i, i + LIST_WINDOW).map(async (digest) => {
        const raw = await this.backend.getManifest(digest);
        if (!raw) return; // evicted meanwhile
        const m = parseManifest(raw);
        // Only manifests of this prefix: the digest must be the one this prefix gives their key.
        if (m && this.digest(m.category, m.key) === digest) manifests.push(m);
      }));
    }
    return manifests.sort((a, b) => a.category.localeCompare(b.category) || a.key.localeCompare(b.key));
  }

  /** Waits for the uploads, then closes the connections. */
  async close(): Promise<void> {
    await this.settled();
    await this.backend.close().catch(() => undefined);
  }
}

const SKIP: unique symbol = Symbol('skip');
