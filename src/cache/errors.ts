// The cache's errors: one class per failure a caller handles differently, each with a string `code`
// (as Node's fs errors) and the context it is about.

export interface CacheErrorContext {
  category?: string;
  key?: string;
  path?: string;
}

/** Base of the cache's own errors. */
export class CacheError extends Error {
  readonly code: string;
  readonly category?: string;
  readonly key?: string;
  readonly path?: string;

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

/** No entry under this key (code 'ENOENT'). */
export class CacheMissError extends CacheError {
  constructor(category: string, key: string, path?: string) {
    super('ENOENT', `Cache miss: no entry ${JSON.stringify(key)} in category ${JSON.stringify(category)}`, { category, key, path });
    this.name = 'CacheMissError';
  }
}

/** A stored file does not match the checksum its index recorded (code 'EINTEGRITY'); its data is never returned. */
export class IntegrityError extends CacheError {
  readonly expected: string;
  readonly found: string;

  constructor(category: string, key: string, path: string, expected: string, found: string) {
    super('EINTEGRITY', `Integrity check failed for ${category}/${key} (${path}): expected ${expected}, found ${found}; `
      + 'the file is damaged or was changed behind the cache (run validate({ repair: true }))', { category, key, path });
    this.name = 'IntegrityError';
    this.expected = expected;
    this.found = found;
  }
}

/** Another process held a category's lock for longer than the wait allowed (code 'ELOCKED'). */
export class LockTimeoutError extends CacheError {
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
