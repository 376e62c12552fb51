// A write refused for lack of storage quota, told in the cache's terms: what failed, that nothing earlier
// was touched (every write goes to a temporary file first), and what the caller can do.

import { CacheError } from '../cache/errors.js';

function nameOf(error: unknown): string | undefined {
  return (error as { name?: string } | null)?.name;
}

/** True for the DOMException browsers throw when an origin's storage quota is exhausted. */
function isQuotaError(error: unknown): boolean {
  return nameOf(error) === 'QuotaExceededError';
}

/**
 * Whether a failed write of `bytes` was refused by the quota. Chromium does not always say so: a large
 * write that crosses the quota may fail as "AbortError: Failed to write data to data pipe" (the browser
 * closes the pipe the data was streaming through), so an AbortError counts when the storage estimate
 * leaves too little room for the write.
 */
export async function refusedByQuota(error: unknown, bytes: number): Promise<boolean> {
  if (isQuotaError(error)) return true;
  if (nameOf(error) !== 'AbortError' || typeof globalThis.navigator?.storage?.estimate !== 'function') return false;
  try {
    const { usage = 0, quota = Infinity } = await navigator.storage.estimate();
    return quota - usage < bytes;
  } catch {
    return false;
  }
}

/**
 * The cache's error for a write refused by the quota (code 'EQUOTA'), with the browser's error as `cause`.
 * @param path - the file that was being written, for the message.
 * @param bytes - how much was being written.
 */
export function quotaError(path: string, bytes: number, cause: unknown): CacheError {
  const said = isQuotaError(cause) ? '' : ` (the browser reported ${nameOf(cause)}: ${(cause as Error).message})`;
  return new CacheError('EQUOTA',
    `QuotaExceededError: the browser's storage quota for this origin is used up; writing ${bytes} bytes to ${path} failed${said}. `
    + 'The write was abandoned and its temporary file removed: earlier cache entries are intact. '
    + 'Free space (cache.delete, cache.clearCategory) or ask the browser to grant more (new CacheManager({ persist: true }); '
    + 'navigator.storage.estimate() tells how much is used).',
    { path }, { cause });
}
