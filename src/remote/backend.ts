// The small interface every remote store implements (Redis, HTTP content-addressed storage; S3 would be one
// more file): blobs under their SHA-256, small manifests under a digest of (prefix, category, key), and, where
// the store can coordinate, leases for single flight. Failures are RemoteErrors, never misses.

import { CacheError } from '../cache/errors.js';

/**
 * Why a remote operation failed. `code` is 'EREMOTE' (the server refused or broke the exchange, a 5xx, a
 * closed connection), 'ETIMEDOUT' (no answer in time), 'EREMOTEAUTH' (wrong credentials or not allowed), or
 * 'EREMOTEFULL' (the server is out of space or memory).
 * @example
 * try {
 *   await pullFromRemote(cache);
 * } catch (error) {
 *   if (!(error instanceof RemoteError)) throw error;
 *   console.warn(`${error.url}: ${error.code}${error.status ? ` (HTTP ${error.status})` : ''}`);
 * }
 */
export class RemoteError extends CacheError {
  /** The remote's URL, credentials redacted. */
  readonly url: string;
  /** The HTTP status, for HTTP remotes. */
  readonly status?: number;

  /**
   * Made by the remote backends; callers catch it.
   * @param code - 'EREMOTE', 'ETIMEDOUT', 'EREMOTEAUTH' or 'EREMOTEFULL'.
   * @param message - what happened, for people (credentials redacted).
   * @param url - the remote's URL, credentials redacted.
   * @param options - `cause`: the error behind this one; `status`: the HTTP status.
   */
  constructor(code: 'EREMOTE' | 'ETIMEDOUT' | 'EREMOTEAUTH' | 'EREMOTEFULL', message: string, url: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, {}, options);
    this.name = 'RemoteError';
    this.url = url;
    this.status = options?.status;
  }
}

/** What a listing or a status look finds on the server. */
export interface RemoteUsage {
  /** Manifests (entries) under this prefix, when the server can count them. */
  entries?: number;
  /** Blobs, when the server can count them. */
  blobs?: number;
  /** Bytes of blobs, when the server can sum them. */
  bytes?: number;
}

/** Leases for single flight across machines: a name held by one token at a time, for a time. */
export interface RemoteLeases {
  /** Takes the lease if nobody holds it. @returns whether this token now holds it. */
  acquire(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease if this token still holds it. @returns whether it does. */
  renew(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if this token holds it (a lease taken over by another is left alone). */
  release(name: string, token: string): Promise<void>;
  /** Notes, for ttlMs, that the last holder finished without a result to share (waiters should not queue up for one). */
  markEmpty(name: string, ttlMs: number): Promise<void>;
  /** Whether the last holder finished without a result (within the note's time). */
  wasEmpty(name: string): Promise<boolean>;
}

export interface RemoteBackend {
  readonly kind: 'redis' | 'http';
  /** The URL with credentials redacted: the only form that appears in messages and statistics. */
  readonly url: string;
  /** The largest blob the store takes (Redis: its 512 MB value limit); larger ones stay local. */
  readonly maxBlobBytes: number;
  /** Leases, where the store can coordinate (Redis); undefined where it cannot (HTTP). */
  readonly leases?: RemoteLeases;
  /** The blob stored under this SHA-256 (hex), or undefined when the store does not have it (never stored, evicted). */
  getBlob(sha256: string, size: number): Promise<Uint8Array | undefined>;
  /** Whether the store has this blob. */
  hasBlob(sha256: string): Promise<boolean>;
  /** Stores a blob under its SHA-256 (the caller has hashed it); storing one that exists is harmless. */
  putBlob(sha256: string, bytes: Uint8Array): Promise<void>;
  /** The manifest stored under this digest (hex), or undefined. */
  getManifest(digest: string): Promise<Uint8Array | undefined>;
  /** Stores (or replaces) the manifest under this digest. */
  putManifest(digest: string, bytes: Uint8Array): Promise<void>;
  /** The digests of every manifest, or undefined when the store cannot list (a plain HTTP cache). */
  listManifests(): Promise<string[] | undefined>;
  /** Counts of what the store holds, as far as it can tell. */
  usage(): Promise<RemoteUsage>;
  /** A cheap round trip, for `remote status`'s latency. */
  ping(): Promise<void>;
  /** Closes connections; pending operations end first. */
  close(): Promise<void>;
}

/** How a backend is opened (see options.ts for where these come from). */
export interface BackendOptions {
  /** The full URL, credentials included; backends redact it themselves for messages. */
  url: string;
  /** Per-operation timeout (ms); connecting gets the same. Blob transfers get more in proportion to size. */
  timeoutMs: number;
  /** Namespace of keys on a shared server (Redis key prefix; HTTP: part of the manifest digests only). */
  prefix: string;
  /** HTTP bearer token. */
  token?: string;
}
