// The backend for a remote URL, chosen by its scheme: http(s) everywhere (fetch), redis(s) where the platform
// provides a Redis client (Node; browsers cannot open TCP connections).

import type { BackendOptions, RemoteBackend } from './backend.js';
import { HttpCasBackend } from './http-cas.js';
import type { ResolvedRemoteOptions } from './options.js';

/** The backends a platform can open besides HTTP. */
export interface RemotePlatform {
  redis?: (options: BackendOptions) => RemoteBackend;
}

/**
 * Opens (lazily: nothing connects before the first operation) the backend of a resolved remote option.
 * @throws {RangeError} for a Redis URL on a platform without a Redis client.
 */
export function openRemote(options: ResolvedRemoteOptions, platform: RemotePlatform): RemoteBackend {
  const backendOptions: BackendOptions = { url: options.url, timeoutMs: options.timeoutMs, prefix: options.prefix, ...(options.token ? { token: options.token } : {}) };
  if (options.scheme === 'http') return new HttpCasBackend(backendOptions);
  if (!platform.redis) {
    throw new RangeError('CacheManager: a redis:// remote needs Node (browsers cannot open TCP connections); use an http(s):// remote here');
  }
  return platform.redis(backendOptions);
}
