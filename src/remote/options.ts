// The `remote` option of CacheManager: a URL, or an object with the URL and how to use it. Checked once,
// before anything connects; the backend is chosen by the URL's scheme.

import { describe, knownKeys, optionsObject } from '../_args.js';

/** A remote cache shared by many machines (CacheManager's `remote` option, when a URL is not enough). */
export interface RemoteOptions {
  /** `redis://[user:password@]host:port/db`, `rediss://` (TLS), `http(s)://host/path` (Bazel-style /cas/, /ac/). */
  url: string;
  /** Consume but never publish (CI pull requests): nothing is written to the remote. Default false. */
  readOnly?: boolean;
  /** Per-operation timeout (ms); default 2000. Blob transfers get more in proportion to their size. */
  timeoutMs?: number;
  /** Namespace on a shared server, so that projects do not see each other's entries; default 'dase-cache:'. */
  prefix?: string;
  /** Files larger than this stay local (bytes); default 256 MiB. */
  maxBytes?: number;
  /** HTTP bearer token (HTTP remotes; Redis takes its credentials in the URL). */
  token?: string;
  /**
   * How long a single-flight lease lives without renewal (ms), i.e. how soon a dead holder is taken over;
   * default 30000. Renewal runs on the event loop: a computation that blocks it for longer (a long synchronous
   * WASM call) may lose its lease, and another machine may compute the key too.
   */
  leaseMs?: number;
}

export type RemoteScheme = 'redis' | 'http';

export interface ResolvedRemoteOptions extends Required<Omit<RemoteOptions, 'token'>> {
  scheme: RemoteScheme;
  token?: string;
}

export const DEFAULT_REMOTE_TIMEOUT_MS = 2000;
export const DEFAULT_REMOTE_MAX_BYTES = 256 * 2 ** 20;
export const DEFAULT_REMOTE_PREFIX = 'dase-cache:';
export const DEFAULT_LEASE_MS = 30_000;

function schemeOf(url: string): RemoteScheme | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') return 'redis';
  if (scheme === 'http' || scheme === 'https') return 'http';
  return undefined;
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`CacheManager: expected remote.${name} to be a positive number, got ${describe(value)}`);
  }
  return value;
}

/**
 * The remote option made whole, or undefined when there is none (absent, '' or false).
 * @throws {TypeError|RangeError} for a malformed option or a URL of an unknown scheme.
 */
export function resolveRemoteOptions(option: unknown): ResolvedRemoteOptions | undefined {
  if (option === undefined || option === false || option === '') return undefined;
  const opts = typeof option === 'string' ? { url: option } : optionsObject('CacheManager remote', option);
  knownKeys('CacheManager remote', opts, ['url', 'readOnly', 'timeoutMs', 'prefix', 'maxBytes', 'token', 'leaseMs']);
  const { url } = opts;
  if (typeof url !== 'string' || url === '') {
    throw new TypeError(`CacheManager: expected remote to be a URL (redis://, rediss://, http://, https://) or { url, ... }, got ${describe(option)}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`CacheManager: remote URL is not a URL (expected redis://host:6379/0 or https://host/path)`);
  }
  const scheme = schemeOf(url);
  if (!scheme) {
    throw new RangeError(`CacheManager: unknown remote scheme ${describe(parsed.protocol)} (known: redis:, rediss:, http:, https:)`);
  }
  if (opts.readOnly !== undefined && typeof opts.readOnly !== 'boolean') {
    throw new TypeError(`CacheManager: expected remote.readOnly to be a boolean, got ${describe(opts.readOnly)}`);
  }
  for (const name of ['prefix', 'token'] as const) {
    if (opts[name] !== undefined && typeof opts[name] !== 'string') {
      throw new TypeError(`CacheManager: expected remote.${name} to be a string, got ${describe(opts[name])}`);
    }
  }
  return {
    url, scheme,
    readOnly: opts.readOnly === true,
    timeoutMs: positive('timeoutMs', opts.timeoutMs, DEFAULT_REMOTE_TIMEOUT_MS),
    prefix: (opts.prefix as string | undefined) ?? DEFAULT_REMOTE_PREFIX,
    maxBytes: positive('maxBytes', opts.maxBytes, DEFAULT_REMOTE_MAX_BYTES),
    leaseMs: positive('leaseMs', opts.leaseMs, DEFAULT_LEASE_MS),
    ...(opts.token !== undefined ? { token: opts.token as string } : {}),
  };
}
