// Exclusive, named locks for the cache in browsers. Web Locks (navigator.locks) are shared by every tab and
// worker of an origin and released by the browser when the holder's tab or worker goes away, so a lock
// never outlives its holder and there is nothing on disk to go stale. Where the API is missing, or for the
// in-memory storage, an in-page queue serializes the callers of one page.

import { LockTimeoutError } from '../cache/errors.js';

/** Gives a held lock back. */
export type Release = () => Promise<void>;

interface PageLock { waiters: Array<() => void> }
const pageLocks = new Map<string, PageLock>();

/** Whether this context has Web Locks (secure contexts of current browsers, in pages and workers). */
function hasWebLocks(): boolean {
  return typeof globalThis.navigator?.locks?.request === 'function';
}

/**
 * Takes the named lock, waiting at most `timeoutMs` for its holder.
 * @param name - the lock's name; one name, one lock, across the origin (Web Locks) or the page.
 * @param timeoutMs - how long to wait; 0 takes it only if it is free now.
 * @param scope - 'origin' for Web Locks when available, 'page' for the in-page queue.
 * @returns its release.
 * @throws {LockTimeoutError} when another holder kept it longer than `timeoutMs`.
 */
export function acquireLock(name: string, timeoutMs: number, scope: 'origin' | 'page'): Promise<Release> {
  return scope === 'origin' && hasWebLocks() ? webLock(name, timeoutMs) : pageLock(name, timeoutMs);
}

function webLock(name: string, timeoutMs: number): Promise<Release> {
  const started = Date.now();
  return new Promise<Release>((resolve, reject) => {
    let giveBack!: () => void;
    const held = new Promise<void>((done) => { giveBack = done; });
    const controller = new AbortController();
    // A signal cannot be combined with ifAvailable: 0 ms asks "free now?" instead of racing a timer.
    const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(), timeoutMs) : undefined;
    const options: LockOptions = timeoutMs > 0 ? { mode: 'exclusive', signal: controller.signal } : { mode: 'exclusive', ifAvailable: true };
    const request = navigator.locks.request(name, options, async (lock) => {
      clearTimeout(timer);
      if (lock === null) {
        reject(new LockTimeoutError(name, Date.now() - started));
        return;
      }
      // Settles once the browser has let go of the lock, so that the next taker finds it free.
      resolve(async () => {
        giveBack();
        await request;
      });
      await held; // the browser holds the lock until this callback's promise settles
    });
    request.catch((error: unknown) => {
      clearTimeout(timer);
      reject((error as { name?: string })?.name === 'AbortError' ? new LockTimeoutError(name, Date.now() - started) : error);
    });
  });
}

function pageLock(name: string, timeoutMs: number): Promise<Release> {
  let lock = pageLocks.get(name);
  const release = (): Release => {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const next = lock!.waiters.shift();
      if (next) next(); // handed straight to the next waiter
      else pageLocks.delete(name);
    };
  };
  if (!lock) {
    lock = { waiters: [] };
    pageLocks.set(name, lock);
    return Promise.resolve(release());
  }
  const started = Date.now();
  return new Promise<Release>((resolve, reject) => {
    const grant = () => {
      clearTimeout(timer);
      resolve(release());
    };
    const timer = setTimeout(() => {
      const at = lock!.waiters.indexOf(grant);
      if (at >= 0) lock!.waiters.splice(at, 1);
      reject(new LockTimeoutError(name, Date.now() - started));
    }, timeoutMs);
    lock!.waiters.push(grant);
  });
}
