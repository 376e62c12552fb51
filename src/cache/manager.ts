// CacheManager: entries in categories under one root, each file verified by the SHA-256 its index records,
// written atomically and safely shared between processes. Platform-neutral: the entry points give it
// their file system (Node's, or the browser's origin-private one).

import { describe, optionsObject, knownKeys } from '../_args.js';
import { resolveCategories, type CategorySpec } from './categories.js';
import { CategoryIndex, nowIso, roundMb, type IndexEntry, type IndexFile } from './category-index.js';
import { CacheError, CacheMissError, IntegrityError, LockTimeoutError } from './errors.js';
import type { Files } from './files.js';
import { checkKey } from './keys.js';
import { classifyValue, decodeValue, encodeValue, type Compression } from './values.js';
import type { Crc32 } from './formats/zip.js';
import { validateCategory, type CategoryReport } from './validate.js';

/** A category's index, as index.json holds it. */
export type CategoryStats = IndexFile;

export interface CacheStats {
  total_categories: number;
  total_size_mb: number;
  categories: Record<string, CategoryStats>;
}

export interface SaveOptions {
  /** Stored in the index entry and returned by loadMetadata. Plain JSON. */
  metadata?: Record<string, unknown>;
  /** For arrays (.npz): 'none' (default, fastest) or 'deflate'. */
  compression?: Compression;
}

export interface ValidationReport {
  ok: boolean;
  repaired: boolean;
  categories: Record<string, CategoryReport>;
  /** Milliseconds per named step, as cacache's verify reports them. */
  timings: Record<string, number>;
}

export interface CacheManagerOptions {
  categories?: Record<string, CategorySpec>;
  /** How often batched access bookkeeping is written while the cache is open (ms); default 5000. */
  flushIntervalMs?: number;
}

/** What each platform gives the cache: its fastest SHA-256 (hex) and, where it has one, a native CRC-32. */
export interface CachePlatform {
  checksum: (bytes: Uint8Array) => string;
  crc32?: Crc32;
}

// Reads retried while concurrent saves keep replacing the file under a reader.
const MAX_READ_PASSES = 64;

export class CacheManagerCore {
  /** Where the cache lives (a folder path in Node, a description in browsers). */
  readonly root: string;
  readonly categories: Readonly<Record<string, CategorySpec>>;
  private readonly files: Files;
  private readonly checksum: CachePlatform['checksum'];
  private readonly crc32: Crc32 | undefined;
  private readonly indexes = new Map<string, CategoryIndex>();
  private opening: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly flushIntervalMs: number;
  private closed = false;

  constructor(files: Files, platform: CachePlatform, options: CacheManagerOptions) {
    const opts = optionsObject('CacheManager', options);
    knownKeys('CacheManager', opts, ['root', 'categories', 'flushIntervalMs']);
    this.files = files;
    this.checksum = platform.checksum;
    this.crc32 = platform.crc32;
    this.root = files.root;
    this.categories = Object.freeze(resolveCategories(opts.categories));
    this.flushIntervalMs = (opts.flushIntervalMs as number | undefined) ?? 5000;
    if (typeof this.flushIntervalMs !== 'number' || !(this.flushIntervalMs > 0)) {
      throw new RangeError(`CacheManager: expected flushIntervalMs to be a positive number, got ${describe(opts.flushIntervalMs)}`);
    }
    for (const name of Object.keys(this.categories)) this.indexes.set(name, new CategoryIndex(files, name));
  }

  /** Creates the root, each category's folder and its index.json, once, on first use. */
  private ready(): Promise<void> {
    if (this.closed) return Promise.reject(new CacheError('ECLOSED', `CacheManager: the cache at ${this.root} was closed`));
    this.opening ??= (async () => {
      try {
        await this.files.makeDir('');
        for (const index of this.indexes.values()) await index.open();
      } catch (error) {
        this.opening = undefined;
        if (error instanceof CacheError) throw error;
        throw new CacheError((error as { code?: string }).code ?? 'EIO',
          `CacheManager: cannot open the cache root ${this.root} for writing (${(error as Error).message})`, { path: this.root }, { cause: error });
      }
    })();
    return this.opening;
  }

  private index(where: string, category: unknown): CategoryIndex {
    const index = typeof category === 'string' ? this.indexes.get(category) : undefined;
    if (!index) {
      throw new CacheError('EUNKNOWNCATEGORY', `${where}: Unknown cache category ${describe(category)} `
        + `(known: ${[...this.indexes.keys()].join(', ')})`, { category: String(category) });
    }
    return index;
  }

  private startTimer(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => { void this.flush().catch(() => undefined); }, this.flushIntervalMs);
    (this.timer as { unref?: () => void }).unref?.(); // never keep a process alive for bookkeeping
  }

  /**
   * Stores a value; `load` returns the same kind and content.
   * @param category - a known category.
   * @param key - matches /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.
   * @param value - typed array, `{ data, shape }`, a record of those, a CsrMatrix, plain JSON; bytes in a
   *   bytes category; tensor records or checkpoints in a tensors category.
   * @returns the path of the stored file.
   * @throws {TypeError|RangeError} for a bad key or a value the category cannot hold, before any write.
   * @example
   * await cache.save('fractional_kernels', 'kernel_0.5_0.01_1000', glWeights(0.5, 1000), { metadata: { alpha: 0.5 } });
   */
  async save(category: string, key: string, value: unknown, options: SaveOptions = {}): Promise<string> {
    const where = 'save';
    const index = this.index(where, category);
    checkKey(where, key);
    const opts = optionsObject(where, options);
    knownKeys(where, opts, ['metadata', 'compression']);
    const encoded = encodeValue(where, this.categories[category], value, opts as SaveOptions, this.crc32);
    await this.ready();
    const now = nowIso();
    const file = `${key}.${encoded.ext}`;
    const entry: IndexEntry = {
      key, created_at: now, size_bytes: encoded.bytes.length, access_count: 0, last_accessed: now,
      checksum: this.entryChecksum(encoded.bytes), file, value: encoded.description,
      ...(encoded.metadata ? { metadata: encoded.metadata } : {}),
    };
    const temp = await this.files.writeTemp(category, encoded.bytes);
    try {
      await index.locked(async () => {
        const before = index.get(key);
        await index.append({ op: 'put', entry });
        await this.files.rename(temp, `${category}/${file}`);
        await index.append({ op: 'commit', key, checksum: entry.checksum });
        if (before && before.file !== file) await this.files.remove(`${category}/${before.file}`);
        if (index.wantsCompaction()) await index.compact((e) => this.fileHolds(category, e));
      });
    } catch (error) {
      await this.files.remove(temp).catch(() => false);
      throw error;
    }
    this.startTimer();
    return `${this.root}/${category}/${file}`;
  }

  /** Whether the file of `entry` holds exactly the bytes its checksum names. */
  private async fileHolds(category: string, entry: IndexEntry): Promise<boolean> {
    const bytes = await this.files.read(`${category}/${entry.file}`);
    return bytes !== undefined && this.entryChecksum(bytes) === entry.checksum;
  }

  /**
   * The value saved under the key, verified against its checksum.
   * @throws {CacheMissError} (code 'ENOENT') when there is no such entry.
   * @throws {IntegrityError} (code 'EINTEGRITY') when the file does not match its checksum.
   * @example
   * const w = await cache.load('fractional_kernels', 'kernel_0.5_0.01_1000');
   */
  async load(category: string, key: string): Promise<unknown> {
    return (await this.loadEntry(category, key, { where: 'load' })).value;
  }

  /**
   * The value saved under the key together with the index entry it was verified against (so its metadata
   * describes exactly these bytes, even while other processes save the key again).
   * @param options - `touch: false` leaves the access count and time alone (for tools that only look);
   *   `where` names the caller in error messages.
   * @throws {CacheMissError} (code 'ENOENT') when there is no such entry.
   * @throws {IntegrityError} (code 'EINTEGRITY') when the file does not match its checksum.
   */
  async loadEntry(category: string, key: string, options: { touch?: boolean; where?: string } = {}): Promise<{ value: unknown; entry: IndexEntry }> {
    const where = options.where ?? 'loadEntry';
    const index = this.index(where, category);
    checkKey(where, key);
    await this.ready();
    let mismatch: { path: string; expected: string; found: string } | undefined;
    let lastLook: string | undefined;
    for (let pass = 0; pass < MAX_READ_PASSES; pass++) {
      await index.refresh();
      const entry = index.get(key);
      const pending = index.getPending(key);
      if (!entry && !pending) throw new CacheMissError(category, key);
      // A save in progress (or one whose writer died before its rename): the file holds either version.
      const candidates = [pending, entry].filter((e): e is IndexEntry => e !== undefined);
      // Every rename into place is journalled before it happens: if the index has not changed since a read
      // that matched nothing, no save raced with that read, and the file is what it is.
      const look = candidates.map((c) => `${c.file}:${c.checksum}`).join('|');
      if (look === lastLook) break;
      lastLook = look;
      for (const file of new Set(candidates.map((c) => c.file))) {
        const path = `${category}/${file}`;
        const bytes = await this.files.read(path);
        if (bytes === undefined) continue;
        const found = this.entryChecksum(bytes);
        const match = candidates.find((c) => c.file === file && c.checksum === found);
        if (match) {
          const value = decodeValue(bytes, match.value, `${category}/${key}`);
          if (match === entry && options.touch !== false) index.touch(key);
          this.startTimer();
          return { value, entry: structuredClone(match) };
        }
        mismatch = { path: `${this.root}/${path}`, expected: candidates.find((c) => c.file === file)!.checksum, found };
      }
      // Changed under us (a concurrent save or delete)? Look at the index again before calling anything damaged.
    }
    if (mismatch) throw new IntegrityError(category, key, mismatch.path, mismatch.expected, mismatch.found);
    throw new CacheMissError(category, key, `${this.root}/${category}/${(index.get(key) ?? index.getPending(key))?.file}`);
  }

  /**
   * Checks, without writing anything, that `save` would accept the value in this category.
   * @throws {TypeError} for a value the category cannot hold; Error with 'Unknown cache category'.
   */
  checkStorable(category: string, value: unknown, where = 'checkStorable'): void {
    this.index(where, category);
    classifyValue(where, this.categories[category], value);
  }

  /** The index's checksum field for the bytes: 'sha256:' and the hex digest. */
  private readonly entryChecksum = (bytes: Uint8Array): string => `sha256:${this.checksum(bytes)}`;

  /** SHA-256 (hex) of the bytes by the platform's fastest engine, the one the index's checksums use. */
  digest(bytes: Uint8Array): string {
    return this.checksum(bytes);
  }

  /**
   * Takes a lock named after a key, shared with every process on this root: for a caller that computes
   * the key's value, so that others wait for it instead of computing it too. A lock left by a process
   * that died is taken over.
   * @returns its release, or undefined when another live process held it for longer than `timeoutMs`.
   */
  async claim(category: string, key: string, { timeoutMs }: { timeoutMs: number }): Promise<(() => Promise<void>) | undefined> {
    this.index('claim', category);
    checkKey('claim', key);
    await this.ready();
    try {
      // '@' cannot occur in a key, so no key's lock name is a prefix of another's held token.
      return await this.files.lock(`${category}/.locks/${key}@`, { timeoutMs, transient: true });
    } catch (error) {
      if (error instanceof LockTimeoutError) return undefined;
      throw error;
    }
  }

  /** Whether the key has an entry. @example await cache.exists('stencils', 'laplacian_2d_64_64_dirichlet') */
  async exists(category: string, key: string): Promise<boolean> {
    const index = this.index('exists', category);
    checkKey('exists', key);
    await this.ready();
    await index.refresh();
    return index.get(key) !== undefined;
  }

  /**
   * Removes an entry and its file.
   * @returns false when there was no such entry.
   */
  async delete(category: string, key: string): Promise<boolean> {
    const index = this.index('delete', category);
    checkKey('delete', key);
    await this.ready();
    return index.locked(async () => {
      const entry = index.get(key) ?? index.getPending(key);
      if (!entry) return false;
      await index.append({ op: 'del', key });
      await this.files.remove(`${category}/${entry.file}`);
      return true;
    });
  }

  /** The category's keys, sorted. */
  async listKeys(category: string): Promise<string[]> {
    const index = this.index('listKeys', category);
    await this.ready();
    await index.refresh();
    return index.keys();
  }

  /**
   * Bytes on disk of the entry's file.
   * @throws {CacheMissError} when there is no such entry.
   */
  async getSize(category: string, key: string): Promise<number> {
    return (await this.entry('getSize', category, key)).size_bytes;
  }

  /** The metadata given to save, or undefined when none was. @throws {CacheMissError} */
  async loadMetadata(category: string, key: string): Promise<Record<string, unknown> | undefined> {
    const entry = await this.entry('loadMetadata', category, key);
    return entry.metadata === undefined ? undefined : structuredClone(entry.metadata);
  }

  /** The index entry of a key (a copy): sizes, times, access count, checksum, value description. */
  async entry(where: string, category: string, key: string): Promise<IndexEntry> {
    const index = this.index(where, category);
    checkKey(where, key);
    await this.ready();
    await index.refresh();
    const entry = index.get(key);
    if (!entry) throw new CacheMissError(category, key);
    return structuredClone(entry);
  }

  /** One category's index (with this process's unflushed access counts), or all categories' totals. */
  async getStats(): Promise<CacheStats>;
  async getStats(category: string): Promise<CategoryStats>;
  async getStats(category?: string): Promise<CategoryStats | CacheStats> {
    if (category !== undefined) {
      const index = this.index('getStats', category);
      await this.ready();
      await index.refresh();
      return index.snapshot();
    }
    await this.ready();
    const categories: Record<string, CategoryStats> = {};
    let bytes = 0;
    for (const [name, index] of this.indexes) {
      await index.refresh();
      categories[name] = index.snapshot();
      bytes += index.totalBytes();
    }
    return { total_categories: this.indexes.size, total_size_mb: roundMb(bytes), categories };
  }

  /** Removes every entry of a category. @returns the number of entries removed. */
  async clearCategory(category: string): Promise<number> {
    const index = this.index('clearCategory', category);
    await this.ready();
    return index.locked(async () => {
      const gone = index.all().map((e) => e.file);
      await index.replaceAll(new Map());
      for (const file of gone) await this.files.remove(`${category}/${file}`);
      return gone.length;
    });
  }

  /** Removes every entry of every category. @returns entries removed per category. */
  async clearAll(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const name of this.indexes.keys()) removed[name] = await this.clearCategory(name);
    return removed;
  }

  /**
   * Checks every entry against its file and checksum, and every file against the index. With repair, removes
   * damaged entries and leftover temporary files and rebuilds each index from the files that are sound.
   * `onProgress(done, total)` is called as entries are checked (total: the entries of every category).
   */
  async validate(options: { repair?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<ValidationReport> {
    const opts = optionsObject('validate', options);
    knownKeys('validate', opts, ['repair', 'onProgress']);
    const repair = opts.repair === true;
    const onProgress = opts.onProgress as ((done: number, total: number) => void) | undefined;
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      throw new TypeError(`validate: expected options.onProgress to be a function, got ${describe(onProgress)}`);
    }
    await this.ready();
    await this.flush();
    let total = 0;
    let done = 0;
    if (onProgress) {
      for (const index of this.indexes.values()) {
        await index.refresh();
        total += index.all().length;
      }
    }
    // Entries saved meanwhile may make `done` pass the first count: the total grows with it.
    const onEntryChecked = onProgress && (() => { done++; onProgress(done, Math.max(total, done)); });
    const categories: Record<string, CategoryReport> = {};
    const timings: Record<string, number> = {};
    for (const [name, index] of this.indexes) {
      const started = Date.now();
      categories[name] = await validateCategory({
        files: this.files, index, category: name, spec: this.categories[name], entryChecksum: this.entryChecksum, repair, onEntryChecked,
      });
      timings[name] = Date.now() - started;
    }
    const ok = Object.values(categories).every((c) => c.problems.length === 0 || (repair && c.repaired));
    return { ok, repaired: repair, categories, timings };
  }

  /** Writes the batched access bookkeeping of every category now. */
  async flush(): Promise<void> {
    for (const index of this.indexes.values()) {
      await index.flushTouches();
    }
  }

  /** Synchronous last flush for process exit (Node); see the Node entry point. */
  flushAtExit(): void {
    for (const index of this.indexes.values()) index.flushTouchesAtExit();
  }

  /** Flushes the bookkeeping, folds each journal into its index.json and stops the timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.opening) {
      await this.opening;
      await this.flush();
      for (const [name, index] of this.indexes) {
        await index.refresh();
        if (index.hasJournal()) await index.locked(() => index.compact((e) => this.fileHolds(name, e)));
      }
    }
    this.closed = true;
  }
}
