// The cache's errors: one class per failure a caller handles differently, each with a string `code`
// (as Node's fs errors) and the context it is about.

/** What a {@link CacheError} is about; each field is copied onto the error. */
export interface CacheErrorContext {
  /** The category concerned. */
  category?: string;
  /** The key concerned. */
  key?: string;
  /** The file or folder concerned. */
  path?: string;
}

/**
 * Base of the cache's own errors: match on `code` (as on Node's fs errors), or on the subclass.
 * @example
 * try {
 *   await cache.save('stencils', key, a);
 * } catch (error) {
 *   if (!(error instanceof CacheError && error.code === 'ENOSPC')) throw error;
 *   console.warn(`not cached: ${error.message}`); // the disk is full; earlier entries are unchanged
 * }
 */
export class CacheError extends Error {
  /**
   * What failed, as a string: e.g. 'ENOENT', 'EINTEGRITY', 'ELOCKED', 'ECLOSED', 'EUNKNOWNCATEGORY', or the
   * file system's for a failed write ('ENOSPC', 'EIO', ...).
   */
  readonly code: string;
  /** The category concerned, when there is one. */
  readonly category?: string;
  /** The key concerned, when there is one. */
  readonly key?: string;
  /** The file or folder concerned, when there is one. */
  readonly path?: string;

  /**
   * Made by the cache; callers catch it.
   * @param code - the string `code`.
   * @param message - what happened, for people.
   * @param context - the category, key and path concerned.
   * @param options - `cause`: the error behind this one.
   */
  constructor(code: string, message: string, context: CacheErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    // Named explicitly: minifiers rename classes, and users match on error.name.
    this.name = 'CacheError';
    this.code = code;
    this.category = context.category;
    this.key = context.key;
    this.path = context.path;
  }
}

/**
 * No entry under this key (code 'ENOENT').
 * @example
 * const w = await cache.load('fractional_kernels', key).catch((error) => {
 *   if (error instanceof CacheMissError) return undefined; // not computed yet
 *   throw error;
 * });
 */
export class CacheMissError extends CacheError {
  /**
   * Made by the cache; callers catch it.
   * @param category - the category asked.
   * @param key - the key that has no entry.
   * @param path - the file that was expected, when the index named one.
   */
  constructor(category: string, key: string, path?: string) {
    super('ENOENT', `Cache miss: no entry ${JSON.stringify(key)} in category ${JSON.stringify(category)}`, { category, key, path });
    this.name = 'CacheMissError';
  }
}

/**
 * A stored file does not match the checksum its index recorded (code 'EINTEGRITY'); its data is never returned.
 * @example
 * try {
 *   await cache.load('stencils', key);
 * } catch (error) {
 *   if (!(error instanceof IntegrityError)) throw error;
 *   console.warn(`${error.path}: expected ${error.expected}, found ${error.found}`);
 *   await cache.validate({ repair: true }); // quarantines the damaged file
 * }
 */
export class IntegrityError extends CacheError {
  /** The checksum the index recorded ('sha256:<hex>'). */
  readonly expected: string;
  /** The checksum of the file's bytes as read. */
  readonly found: string;

  /**
   * Made by the cache; callers catch it.
   * @param category - the entry's category.
   * @param key - the entry's key.
   * @param path - the damaged file.
   * @param expected - the checksum the index recorded.
   * @param found - the checksum of the file's bytes.
   */
  constructor(category: string, key: string, path: string, expected: string, found: string) {
    super('EINTEGRITY', `Integrity check failed for ${category}/${key} (${path}): expected ${expected}, found ${found}; `
      + 'the file is damaged or was changed behind the cache (run validate({ repair: true }))', { category, key, path });
    this.name = 'IntegrityError';
    this.expected = expected;
    this.found = found;
  }
}

/**
 * Another process held a category's lock for longer than the wait allowed (code 'ELOCKED').
 * @example
 * try {
 *   await cache.save('stencils', key, a);
 * } catch (error) {
 *   if (!(error instanceof LockTimeoutError)) throw error;
 *   console.warn(`busy: ${error.path} is held by another process; not cached this time`);
 * }
 */
export class LockTimeoutError extends CacheError {
  /**
   * Made by the cache; callers catch it.
   * @param path - the lock that was held.
   * @param waitedMs - how long this process waited for it.
   */
  constructor(path: string, waitedMs: number) {
    super('ELOCKED', `Timed out after ${waitedMs} ms waiting for the cache lock ${path}, held by a live process`, { path });
    this.name = 'LockTimeoutError';
  }
}

// What a failed write's code means, for messages.
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EIO: 'an I/O error',
  EROFS: 'a read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
};

/**
 * A failed write as the cache reports it: a CacheError whose `code` is the file system's (`'ENOSPC'`,
 * `'EIO'`, ...), saying what was being done and that nothing earlier was changed; the original as `cause`.
 * Cache errors (a browser's 'EQUOTA', a lock timeout) pass through unchanged.
 */
export function writeFailure(doing: string, error: unknown, context: CacheErrorContext = {}): CacheError {
  if (error instanceof CacheError) return error;
  const code = typeof (error as { code?: unknown } | null)?.code === 'string' ? (error as { code: string }).code : 'EIO';
  const what = WRITE_FAILURES[code] ?? (error as Error)?.message ?? String(error);
  return new CacheError(code, `${doing} failed: ${what} (${code}); what it wrote was removed and earlier entries are unchanged`,
    context, { cause: error });
}
