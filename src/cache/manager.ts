// CacheManager: entries in categories under one root, each file verified by the SHA-256 its index records,
// written atomically and safely shared between processes. Platform-neutral: the entry points give it
// their file system (Node's, or the browser's origin-private one).

import { describe, optionsObject, knownKeys } from '../_args.js';
import { resolveCategories, type CategorySpec } from './categories.js';
import { CategoryIndex, nowIso, roundMb, type IndexEntry, type IndexFile } from './category-index.js';
import { CacheError, CacheMissError, IntegrityError, LockTimeoutError, writeFailure } from './errors.js';
import type { Files } from './files.js';
import { checkKey, checkStoredKey } from './keys.js';
import { BackgroundWorkSet, type BackgroundWork, type PendingSave } from './background-work.js';
import { dataFileName, sidecarName } from './layout.js';
import { removeLeftovers } from './leftovers.js';
import { entryNeedsSidecar, sidecarBytes } from './self-description.js';
import { isUndescribed } from './python-entries.js';
import { classifyValue, decodeValue, encodeValue, entryDescription, type Compression, type EncodedValue } from './values.js';
import type { Crc32 } from './formats/zip.js';
import { validateCategory, type CategoryReport } from './validate.js';
import type { RemoteBackend } from '../remote/backend.js';
import { resolveRemoteOptions, type RemoteOptions, type ResolvedRemoteOptions } from '../remote/options.js';
import { RemoteTier, type Publication, type RemoteStats } from '../remote/tier.js';
import { appendRemoteCounts, readRemoteCounts, type RemoteTotals } from '../remote/counts-log.js';
import { CostModel, type CostReport } from '../cost/cost-model.js';
import { resolveBudget, type BudgetOptions } from '../budget/budget-options.js';
import { parseByteSize } from '../budget/byte-size.js';
import { RootBudget, type BudgetStats } from '../budget/root-budget.js';

/** A category's index, as index.json holds it. */
export type CategoryStats = IndexFile;

/** What `getStats()` reports for the whole cache. */
export interface CacheStats {
  /** Categories the cache has. */
  total_categories: number;
  /** Bytes every entry's file takes, in MiB (2^20 bytes), to four decimals. */
  total_size_mb: number;
  /** Each category's index, by name. */
  categories: Record<string, CategoryStats>;
  /** The remote tier's counts, when the cache has a remote. */
  remote?: RemoteStats;
  /** What loads cost here, as learnt from the loads measured on this root (see CostModel). */
  costs: CostReport;
  /** The budget the root keeps by itself (maxBytes null when it has none), its total and what it evicted. */
  budget: BudgetStats;
}

/** An entry eviction removed (or would remove). */
export interface EvictedEntry {
  /** Its category. */
  category: string;
  /** Its key. */
  key: string;
  /** Bytes of its file. */
  size_bytes: number;
  /** The compute time its metadata recorded (memoize's `compute_ms`), or null when it recorded none. */
  compute_ms: number | null;
  /** When it was last loaded (or saved), in epoch milliseconds. */
  last_accessed_ms: number;
}

/** Options of `save`. */
export interface SaveOptions {
  /** Stored in the index entry and returned by loadMetadata. Plain JSON. */
  metadata?: Record<string, unknown>;
  /** For arrays (.npz): 'none' (default, fastest) or 'deflate'. */
  compression?: Compression;
}

/** What `validate()` found, per category, and what repair did. */
export interface ValidationReport {
  /** True when no category has a problem (with repair: when every problem was repaired). */
  ok: boolean;
  /** Whether repair was asked for. */
  repaired: boolean;
  /** Each category's report, by name. */
  categories: Record<string, CategoryReport>;
  /** Milliseconds per named step, as cacache's verify reports them. */
  timings: Record<string, number>;
}

export interface CacheManagerOptions extends BudgetOptions {
  /** Categories besides `DEFAULT_CATEGORIES` (or redefining one of them), by name (`/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/`). */
  categories?: Record<string, CategorySpec>;
  /**
   * How often, while the cache is open, the journals are folded into each index.json and the batched access
   * counts written (ms); default 2000: outside readers of index.json see a change within about that long.
   */
  flushIntervalMs?: number;
  /**
   * A remote cache shared by many machines: a local miss asks it (every download verified by its SHA-256), and
   * saves are published to it in the background. `redis://`, `rediss://`, or `http(s)://` in the layout of
   * Bazel's remote cache (/cas/, /ac/); in Node, $DASE_CACHE_REMOTE when absent (false: none).
   */
  remote?: string | RemoteOptions | false;
}

/** What each platform gives the cache: its fastest SHA-256 (hex) and CRC-32 (Node's native one, browsers' WASM kernel). */
export interface CachePlatform {
  checksum: (bytes: Uint8Array) => string;
  crc32?: Crc32;
  /**
   * SHA-256 (hex) of a whole buffer, asynchronously, where that beats `checksum` (browsers: crypto.subtle on
   * large buffers); saves and loads use it, since they are asynchronous anyway.
   */
  digest?: (bytes: Uint8Array) => Promise<string>;
  /** Opens the backend of a remote option (Node: Redis and HTTP; browsers: HTTP). */
  openRemote?: (options: ResolvedRemoteOptions) => RemoteBackend;
  /** The budget of a root given none (browsers: a share of the origin's quota); undefined: unbounded. */
  defaultMaxBytes?: () => Promise<number | undefined>;
}

const now = () => globalThis.performance.now();

// Reads retried while concurrent saves keep replacing the file under a reader.
const MAX_READ_PASSES = 64;

/**
 * What every `CacheManager` does, in Node and in browsers: entries in categories under one root, each file
 * verified by the SHA-256 its index records, written atomically and shared safely between processes. Create
 * one with the entry point's `CacheManager`, which gives it its storage.
 * @example
 * const cache = new CacheManager({ root: './cache' });
 * await cache.save('fractional_kernels', 'kernel_0.5_0.01_1000', glWeights(0.5, 1000));
 * const w = await cache.load('fractional_kernels', 'kernel_0.5_0.01_1000');
 * await cache.close();
 */
export class CacheManagerCore {
  /** Where the cache lives (a folder path in Node, a description in browsers). */
  readonly root: string;
  /** The categories this cache holds, by name: the default ones and those of `options.categories`. */
  readonly categories: Readonly<Record<string, CategorySpec>>;
  private readonly files: Files;
  private readonly checksum: CachePlatform['checksum'];
  private readonly asyncDigest: CachePlatform['digest'];
  private readonly crc32: Crc32 | undefined;
  private readonly indexes = new Map<string, CategoryIndex>();
  private opening: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly flushIntervalMs: number;
  private readonly background = new BackgroundWorkSet();
  private closed = false;
  /**
   * The shared remote cache, when there is one (for memoize and the `remote` commands).
   * @internal
   */
  readonly remote: RemoteTier | undefined;
  /** What loads from this root (and its remote) cost, learnt from every verified load: memoize's 'auto' decides by it. */
  readonly costs: CostModel;
  private readonly budget: RootBudget;
  private readonly defaultMaxBytes: CachePlatform['defaultMaxBytes'];

  /**
   * Each platform's CacheManager gives the core its files and its checksums; callers construct that one.
   * @param files - the root's file system (Node's folder, the origin-private file system, or memory).
   * @param platform - the platform's SHA-256, CRC-32, remote backends and default budget.
   * @param options - the options every platform accepts.
   * @throws {TypeError|RangeError} for bad options (unknown keys, a bad flushIntervalMs, category or budget).
   * @internal
   */
  constructor(files: Files, platform: CachePlatform, options: CacheManagerOptions) {
    const opts = optionsObject('CacheManager', options);
    knownKeys('CacheManager', opts, ['root', 'categories', 'flushIntervalMs', 'remote', 'maxBytes', 'budgets', 'eviction']);
    this.files = files;
    this.checksum = platform.checksum;
    this.asyncDigest = platform.digest;
    this.crc32 = platform.crc32;
    this.root = files.root;
    this.categories = Object.freeze(resolveCategories(opts.categories));
    this.flushIntervalMs = (opts.flushIntervalMs as number | undefined) ?? 2000;
    if (typeof this.flushIntervalMs !== 'number' || !(this.flushIntervalMs > 0)) {
      throw new RangeError(`CacheManager: expected flushIntervalMs to be a positive number, got ${describe(opts.flushIntervalMs)}`);
    }
    for (const name of Object.keys(this.categories)) this.indexes.set(name, new CategoryIndex(files, name));
    this.costs = new CostModel(files, files.kind);
    this.defaultMaxBytes = platform.defaultMaxBytes;
    const indexes = this.indexes;
    this.budget = new RootBudget(files, resolveBudget(opts as BudgetOptions, Object.keys(this.categories)), {
      categoryNames: Object.keys(this.categories),
      refresh: (category) => indexes.get(category)!.refresh(),
      entries: (category) => indexes.get(category)!.allWithTouches(),
      bytes: (category) => indexes.get(category)!.totalBytes,
      evict: (category, entry) => this.remove('evict', category, entry.key, (current) => current.checksum === entry.checksum),
      fallbackCost: (bytes) => this.costs.predictLoad(bytes),
    });
    const remote = resolveRemoteOptions(opts.remote);
    if (remote) {
      if (!platform.openRemote) throw new RangeError('CacheManager: this platform cannot open a remote cache');
      this.remote = new RemoteTier(platform.openRemote(remote), remote, this.checksum);
    }
  }

  /** Creates the root, each category's folder and its index.json, once, on first use. */
  private ready(): Promise<void> {
    if (this.closed) return Promise.reject(new CacheError('ECLOSED', `CacheManager: the cache at ${this.root} was closed`));
    this.opening ??= (async () => {
      try {
        await this.files.makeDir('');
        for (const index of this.indexes.values()) await index.open();
        await this.costs.open();
        if (!this.budget.budget && this.defaultMaxBytes) {
          const bytes = await this.defaultMaxBytes().catch(() => undefined);
          if (bytes !== undefined) this.budget.adoptDefault(bytes);
        }
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
    // A failed checkpoint (a full disk) keeps the journal, which holds everything: the next one tries again.
    this.timer = setInterval(() => { void this.checkpoint().catch(() => undefined); }, this.flushIntervalMs);
    (this.timer as { unref?: () => void }).unref?.(); // never keep a process alive for bookkeeping
  }

  /**
   * Stores a value; `load` returns the same kind and content.
   * @param category - a known category.
   * @param key - matches /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.
   * @param value - typed array, `{ data, shape }`, a record of those, a CsrMatrix, plain JSON; bytes in a
   *   bytes category; tensor records or checkpoints in a tensors category.
   * @param options - `metadata` to store with the entry; `compression` for arrays.
   * @returns the path of the stored file.
   * @throws {TypeError|RangeError} for a bad key or a value the category cannot hold, before any write.
   * @throws {CacheError} with the file system's code (e.g. 'ENOSPC') when the file cannot be written; earlier
   *   entries are unchanged.
   * @example
   * await cache.save('fractional_kernels', 'kernel_0.5_0.01_1000', glWeights(0.5, 1000), { metadata: { alpha: 0.5 } });
   */
  async save(category: string, key: string, value: unknown, options: SaveOptions = {}): Promise<string> {
    const where = 'save';
    this.index(where, category);
    checkKey(where, key);
    const opts = optionsObject(where, options) as SaveOptions;
    knownKeys(where, opts, ['metadata', 'compression']);
    const encoded = encodeValue(where, this.categories[category], value, opts, this.crc32);
    // The remote's blob is encoded now, with the file: a caller may change the value once save returns.
    const blob = this.remote?.publishes(0) ? this.blobOf(where, category, value, encoded, opts.compression) : undefined;
    const entry = (await this.store(where, category, key, encoded))!;
    if (blob) void this.publish(category, entry, blob);
    return `${this.root}/${category}/${entry.file}`;
  }

  /**
   * Writes an encoded value's file and its journal lines (save's work, without publishing to the remote).
   * @param ifAbsent - write only if the key has no entry, not even one being saved (a download must not
   *   replace what a process saved meanwhile).
   * @returns its entry, or undefined when `ifAbsent` found one.
   */
  private async store(where: string, category: string, key: string, encoded: EncodedValue, { ifAbsent = false } = {}): Promise<IndexEntry | undefined> {
    const index = this.index(where, category);
    await this.ready();
    const now = nowIso();
    const file = dataFileName(key, encoded.ext);
    const checksum = await this.entryChecksumOf(encoded.bytes);
    const entry: IndexEntry = {
      key, created_at: now, size_bytes: encoded.bytes.length, access_count: 0, last_accessed: now,
      checksum, file, value: encoded.description, ...(encoded.metadata ? { metadata: encoded.metadata } : {}),
    };
    let dataTemp: string | undefined;
    let sidecarTemp: string | undefined;
    try {
      dataTemp = await this.files.writeTemp(category, encoded.bytes);
      if (encoded.sidecar) sidecarTemp = await this.files.writeTemp(category, sidecarBytes(checksum, encoded.sidecar));
      const written = await index.locked(async () => {
        await this.settleEarlierPut(category, index, key);
        if (ifAbsent && (index.get(key) || index.getPending(key))) return false;
        // The key's files before this save that it may replace (the same name is simply overwritten).
        const previous = index.get(key);
        const before = previous ? [previous.file, ...(entryNeedsSidecar(previous) ? [sidecarName(previous.file)] : [])] : [];
        const replaced = before.filter((name) => name !== file && !(encoded.sidecar && name === sidecarName(file)));
        await index.append({ op: 'put', entry });
        // From here the put is journalled: whichever file a reader finds, it holds one of the two versions.
        try {
          if (sidecarTemp) await this.files.rename(sidecarTemp, `${category}/${sidecarName(file)}`);
          sidecarTemp = undefined;
          await this.files.rename(dataTemp!, `${category}/${file}`);
          dataTemp = undefined;
        } catch (error) {
          // Not in place: the put is withdrawn (if even that cannot be written, settling drops it, as its file does not hold it).
          await index.append({ op: 'abort', key, checksum }).catch(() => undefined);
          throw error;
        }
        await this.finishSave(category, index, entry, replaced);
        return true;
      });
      if (!written) {
        for (const temp of [dataTemp, sidecarTemp]) if (temp) await this.files.remove(temp).catch(() => false);
        return undefined;
      }
    } catch (error) {
      for (const temp of [dataTemp, sidecarTemp]) if (temp) await this.files.remove(temp).catch(() => false);
      throw writeFailure(`${where} ${category}/${key}`, error, { category, key, path: `${this.root}/${category}/${file}` });
    }
    this.startTimer();
    await this.budget.afterSave(category, key);
    return entry;
  }

  /** The remote's blob of a value: its file without the metadata (the manifest carries it), so that equal results make one blob. */
  private blobOf(where: string, category: string, value: unknown, encoded: EncodedValue, compression?: Compression): EncodedValue {
    return encoded.metadata === undefined ? encoded : encodeValue(where, this.categories[category], value, { compression }, this.crc32);
  }

  /**
   * Publishes a saved entry to the remote in the background.
   * @returns whether it was published (false without a writable remote, or when it was not uploaded).
   */
  private publish(category: string, entry: IndexEntry, blob: EncodedValue): Promise<boolean> {
    if (!this.remote) return Promise.resolve(false);
    const publication: Publication = {
      bytes: blob.bytes, ext: blob.ext, value: blob.description, created_at: entry.created_at,
      ...(entry.metadata ? { metadata: entry.metadata } : {}),
    };
    return this.remote.publish(category, entry.key, publication);
  }

  /**
   * Publishes the local entry of a key to the remote (for `dase-cache remote push`), its file verified first.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns whether it was published.
   * @example
   * await cache.publishEntry('stencils', 'laplacian_2d_64_64_dirichlet'); // false without a writable remote
   * @throws {CacheMissError|IntegrityError} as load does.
   */
  async publishEntry(category: string, key: string): Promise<boolean> {
    const where = 'publishEntry';
    const { value, entry } = await this.loadEntry(category, key, { touch: false, where, remote: false });
    if (!this.remote?.publishes(0)) return false;
    const spec = this.categories[category];
    return this.publish(category, entry, encodeValue(where, spec, value, {}, this.crc32));
  }

  /**
   * What the remote did for this root, summed over every process that closed a CacheManager on it.
   * @returns the totals per remote URL (credentials redacted); empty when no process used a remote.
   * @example
   * for (const [url, t] of Object.entries(await cache.remoteHistory())) console.log(url, t.hits, t.misses);
   */
  async remoteHistory(): Promise<Record<string, RemoteTotals>> {
    return readRemoteCounts(this.files);
  }

  /**
   * The key's entry from the remote: its blob verified by SHA-256, decoded, and written to the local cache
   * like a save (but not published back).
   * @param category - a known category.
   * @param key - the entry's key.
   * @param options - `where` names the caller in messages; `poll: true` for a caller that looks again and again
   *   while another machine computes the key (its misses are not counted).
   * @returns the value and its local index entry; undefined for a remote miss (or no remote). A value that
   *   cannot be stored locally (a full disk) is still returned.
   */
  async fetchRemote(category: string, key: string, options: { where?: string; poll?: boolean } = {}): Promise<{
    /** The value, decoded from the verified blob. */
    value: unknown;
    /** Its local index entry (or, when it could not be stored, the entry it would have had). */
    entry: IndexEntry;
  } | undefined> {
    const where = options.where ?? 'fetchRemote';
    this.index(where, category);
    checkStoredKey(where, key);
    const started = now();
    const got = await this.remote?.fetch(category, key, { countMiss: options.poll !== true });
    if (!got) return undefined;
    const { manifest, bytes } = got;
    let value: unknown;
    try {
      value = decodeValue(bytes, manifest.value, `${category}/${key}`);
      this.checkStorable(category, value, where);
    } catch {
      return this.remote!.reject(category, key, 'its blob is not a value this category holds');
    }
    this.costs.observeLoad(bytes.length, now() - started, 'remote');
    const metadata = manifest.metadata;
    try {
      const encoded = encodeValue(where, this.categories[category], value, metadata ? { metadata } : {}, this.crc32);
      const stored = await this.store(where, category, key, encoded, { ifAbsent: true });
      if (stored) return { value, entry: stored };
    } catch {
      // The local copy could not be written (a full disk): the verified value is good all the same.
      return {
        value, entry: {
          key, created_at: manifest.created_at, size_bytes: bytes.length, access_count: 0, last_accessed: null,
          checksum: `sha256:${manifest.blob.sha256}`, file: dataFileName(key, manifest.blob.ext), value: manifest.value,
          ...(metadata ? { metadata } : {}),
        },
      };
    }
    // Saved here while it downloaded: the local entry is the newer one.
    return this.loadEntry(category, key, { where, remote: false });
  }

  /**
   * The rest of a save once its file is in place (under the lock). None of it can undo the save: without its
   * commit line, the journalled put and the file are settled as committed by the next compaction or repair
   * (and readers already count it, see `current`), so a failure here (a full disk) is left for them to finish.
   */
  private async finishSave(category: string, index: CategoryIndex, entry: IndexEntry, replaced: string[]): Promise<void> {
    await index.append({ op: 'commit', key: entry.key, checksum: entry.checksum }).catch(() => undefined);
    await removeLeftovers(this.files, category, index, replaced);
    if (index.wantsCompaction()) await index.compact((e) => this.fileHolds(category, e)).catch(() => undefined);
  }

  /**
   * Settles a put of the key left without its commit (this process's own whose commit line could not be
   * written, or a dead writer's; call under the lock), so that a key has one put in flight at a time.
   */
  private async settleEarlierPut(category: string, index: CategoryIndex, key: string): Promise<void> {
    const earlier = index.getPending(key);
    if (!earlier) return;
    const { checksum } = earlier;
    await index.append(await this.fileHolds(category, earlier) ? { op: 'commit', key, checksum } : { op: 'abort', key, checksum });
    await index.refresh();
  }

  /** Whether the file of `entry` holds exactly the bytes its checksum names. */
  private async fileHolds(category: string, entry: IndexEntry): Promise<boolean> {
    const bytes = await this.files.read(`${category}/${entry.file}`);
    return bytes !== undefined && await this.entryChecksumOf(bytes) === entry.checksum;
  }

  /**
   * The value saved under the key, verified against its checksum.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns the value, of the kind that was saved.
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
   *   `where` names the caller in error messages; `remote: false` does not ask the remote on a local miss.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns the value and the entry it was verified against.
   * @throws {CacheMissError} (code 'ENOENT') when there is no such entry.
   * @throws {IntegrityError} (code 'EINTEGRITY') when the file does not match its checksum.
   * @example
   * const { value, entry } = await cache.loadEntry('stencils', 'laplacian_2d_64_64_dirichlet');
   * console.log(entry.metadata, entry.created_at);
   */
  async loadEntry(category: string, key: string, options: { touch?: boolean; where?: string; remote?: boolean } = {}): Promise<{
    /** The value, of the kind that was saved. */
    value: unknown;
    /** A copy of the index entry whose checksum the file matched. */
    entry: IndexEntry;
  }> {
    const where = options.where ?? 'loadEntry';
    const index = this.index(where, category);
    checkStoredKey(where, key);
    const started = now();
    await this.ready();
    let mismatch: { path: string; expected: string; found: string } | undefined;
    let lastLook: string | undefined;
    for (let pass = 0; pass < MAX_READ_PASSES; pass++) {
      await index.refresh();
      const entry = index.get(key);
      const pending = index.getPending(key);
      if (!entry && !pending) {
        const fetched = options.remote === false ? undefined : await this.fetchRemote(category, key, { where });
        if (fetched) return fetched;
        throw new CacheMissError(category, key);
      }
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
        const found = await this.entryChecksumOf(bytes);
        // An entry written with checksums turned off (by the Python cache) cannot be verified: it is read as it is.
        const match = candidates.find((c) => c.file === file && (c.checksum === found || c.checksum === null));
        if (match) {
          const value = decodeValue(bytes, this.describe(category, match, bytes), `${category}/${key}`);
          if (match === entry && options.touch !== false) index.touch(key);
          this.costs.observeLoad(bytes.length, now() - started);
          this.startTimer();
          return { value, entry: structuredClone(match) };
        }
        mismatch = { path: `${this.root}/${path}`, expected: String(candidates.find((c) => c.file === file)!.checksum), found };
      }
      // Changed under us (a concurrent save or delete)? Look at the index again before calling anything damaged.
    }
    if (mismatch) throw new IntegrityError(category, key, mismatch.path, mismatch.expected, mismatch.found);
    throw new CacheMissError(category, key, `${this.root}/${category}/${(index.get(key) ?? index.getPending(key))?.file}`);
  }

  /**
   * How to read an entry's file: its description, or for an entry another writer made without one (the Python
   * cache), what the file's own content says.
   * @throws {CacheError} (code 'EFORMAT') when the file is not a value this cache can read.
   */
  private describe(category: string, entry: IndexEntry, bytes: Uint8Array): Record<string, unknown> {
    const found = entryDescription(entry, bytes, this.categories[category]);
    if (found) return found;
    throw new CacheError('EFORMAT', `${category}/${entry.key}: ${entry.file} is not a value this cache can read `
      + '(a format or dtype it does not know); the file is left as it is', { category, key: entry.key, path: `${this.root}/${category}/${entry.file}` });
  }

  /**
   * What an entry's file holds: the entry's own description, or for an entry another writer made without one
   * (the Python cache), what the file says (read for the purpose).
   * @param category - a known category.
   * @param entry - one of the category's index entries (from `getStats(category)` or `loadEntry`).
   * @returns the description (its `kind`: 'array', 'json', ...), or undefined when the file cannot be read back.
   * @throws {CacheError} (code 'EUNKNOWNCATEGORY') for a category the cache does not have.
   * @example (await cache.describeEntry('fractional_kernels', entry))?.kind // 'array'
   */
  async describeEntry(category: string, entry: IndexEntry): Promise<Record<string, unknown> | undefined> {
    this.index('describeEntry', category);
    if (!isUndescribed(entry)) return entry.value; // no need to read the file
    const bytes = await this.files.read(`${category}/${entry.file}`);
    return bytes === undefined ? undefined : entryDescription(entry, bytes, this.categories[category]);
  }

  /**
   * Checks, without writing anything, that `save` would accept the value in this category.
   * @param category - a known category.
   * @param value - what would be saved.
   * @param where - the caller's name, for messages.
   * @throws {TypeError} for a value the category cannot hold.
   * @throws {CacheError} (code 'EUNKNOWNCATEGORY') for a category the cache does not have.
   * @example
   * cache.checkStorable('fftw_wisdom', new Uint8Array(16)); // a bytes category: fine
   */
  checkStorable(category: string, value: unknown, where = 'checkStorable'): void {
    this.index(where, category);
    classifyValue(where, this.categories[category], value);
  }

  /** The index's checksum field for the bytes: 'sha256:' and the hex digest. */
  private readonly entryChecksum = (bytes: Uint8Array): string => `sha256:${this.checksum(bytes)}`;

  /** entryChecksum by the platform's asynchronous digest where it has one (faster on large buffers). */
  private async entryChecksumOf(bytes: Uint8Array): Promise<string> {
    return this.asyncDigest ? `sha256:${await this.asyncDigest(bytes)}` : this.entryChecksum(bytes);
  }

  /**
   * SHA-256 (hex) of the bytes by the platform's fastest engine, the one the index's checksums use.
   * @param bytes - what to hash.
   * @returns 64 lowercase hex characters.
   * @example
   * cache.digest(new TextEncoder().encode('abc')); // 'ba7816bf…'
   */
  digest(bytes: Uint8Array): string {
    return this.checksum(bytes);
  }

  /**
   * Takes a lock named after a key, shared with every process on this root: for a caller that computes
   * the key's value, so that others wait for it instead of computing it too. A lock left by a process
   * that died is taken over.
   * @param category - a known category.
   * @param key - the key whose value the caller computes.
   * @param options - `timeoutMs`: how long to wait for another process's claim.
   * @returns its release (undefined when another live process held it for longer than `timeoutMs`), and
   *   whether another live process held it when asked (so this caller waited).
   * @example
   * const { release } = await cache.claim('stencils', key, { timeoutMs: 60_000 });
   * try {
   *   if (!(await cache.exists('stencils', key))) await cache.save('stencils', key, compute());
   * } finally {
   *   await release?.();
   * }
   */
  async claim(category: string, key: string, { timeoutMs }: { timeoutMs: number }): Promise<{
    /** Gives the lock up; undefined when it was not taken. */
    release?: () => Promise<void>;
    /** Whether another live process held the lock when asked. */
    waited: boolean;
  }> {
    this.index('claim', category);
    checkKey('claim', key);
    await this.ready();
    // '@' cannot occur in a key, so no key's lock name is a prefix of another's held token.
    const name = `${category}/.locks/${key}@`;
    const attempt = async (ms: number) => {
      try {
        return await this.files.lock(name, { timeoutMs: ms, transient: true });
      } catch (error) {
        if (error instanceof LockTimeoutError) return undefined;
        throw error;
      }
    };
    // A first try that does not wait tells whether a live process holds it, whatever the machine's load.
    const free = await attempt(0);
    return free ? { release: free, waited: false } : { release: await attempt(timeoutMs), waited: true };
  }

  /**
   * Whether the key has an entry.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns true when it has one.
   * @example await cache.exists('stencils', 'laplacian_2d_64_64_dirichlet')
   */
  async exists(category: string, key: string): Promise<boolean> {
    const index = this.index('exists', category);
    checkStoredKey('exists', key);
    await this.ready();
    await index.refresh();
    return (await this.current(category, index, key)) !== undefined;
  }

  /**
   * The entry a key has now: a put whose file is already in place (its rename decided that this version
   * wins, committed or not: compaction and repair settle it so), else the committed entry.
   */
  private async current(category: string, index: CategoryIndex, key: string): Promise<IndexEntry | undefined> {
    const pending = index.getPending(key);
    if (pending && await this.fileHolds(category, pending)) return pending;
    return index.get(key);
  }

  /** The puts without a commit whose files are in place (see `current`). */
  private async decidedPuts(category: string, index: CategoryIndex): Promise<IndexEntry[]> {
    const decided: IndexEntry[] = [];
    for (const key of index.pendingKeys()) {
      const pending = index.getPending(key)!;
      if (await this.fileHolds(category, pending)) decided.push(pending);
    }
    return decided;
  }

  /**
   * Removes an entry and its file.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns false when there was no such entry.
   * @throws {CacheError} with the file system's code when the index cannot be written.
   * @example
   * await cache.delete('stencils', 'laplacian_2d_64_64_dirichlet');
   */
  async delete(category: string, key: string): Promise<boolean> {
    return this.remove('delete', category, key);
  }

  /**
   * Keeps an entry out of eviction, by the root's budget or by `dase-cache gc`, until `unpin` (for every process
   * on the root; a later save under the key stays pinned).
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns false when it was pinned already.
   * @throws {CacheMissError} when the key has no entry.
   * @example
   * await cache.pin('surrogates', 'model_v3'); // trained for a week: never evicted
   */
  async pin(category: string, key: string): Promise<boolean> {
    await this.entry('pin', category, key);
    return this.budget.pin(category, key, true);
  }

  /**
   * Lets eviction take the entry again.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns false when it was not pinned.
   * @example
   * await cache.unpin('surrogates', 'model_v3');
   */
  async unpin(category: string, key: string): Promise<boolean> {
    this.index('unpin', category);
    checkStoredKey('unpin', key);
    await this.ready();
    return this.budget.pin(category, key, false);
  }

  /**
   * Evicts entries until the root (or one category) takes at most `maxBytes`, by the budget's policy (gdsf
   * unless `policy` says otherwise) and sparing pinned entries: what `dase-cache gc` does.
   * @param maxBytes - the size to fit in, in bytes.
   * @param options - `category` to fit one category; `policy` to evict by another; `dryRun` to only say what would go.
   * @returns the entries evicted (or that would be), in eviction order.
   * @example
   * const gone = await cache.evictToFit(500 * 2 ** 20, { dryRun: true });
   */
  async evictToFit(maxBytes: number, options: { category?: string; policy?: 'gdsf' | 'lru' | 'lfu'; dryRun?: boolean } = {}): Promise<EvictedEntry[]> {
    parseByteSize(maxBytes, 'evictToFit: maxBytes');
    if (options.category !== undefined) this.index('evictToFit', options.category);
    await this.ready();
    const victims = await this.budget.fit(maxBytes, options);
    return victims.map((v) => ({ category: v.category, key: v.key, size_bytes: v.sizeBytes, compute_ms: v.computeMs ?? null, last_accessed_ms: v.lastAccessedMs }));
  }

  /** Removes the key's entry, if it has one (and, with `onlyIf`, if that holds of it). */
  private async remove(where: string, category: string, key: string, onlyIf?: (entry: IndexEntry) => boolean): Promise<boolean> {
    const index = this.index(where, category);
    checkStoredKey(where, key);
    await this.ready();
    try {
      return await index.locked(async () => {
        // Under the lock, a put without its commit is a writer that died: its file goes too.
        const current = await this.current(category, index, key);
        if (current === undefined || (onlyIf && !onlyIf(current))) return false;
        const files = new Set([index.get(key)?.file, index.getPending(key)?.file].filter((f) => f !== undefined));
        await index.append({ op: 'del', key });
        await removeLeftovers(this.files, category, index, [...files].flatMap((file) => [file, sidecarName(file)]));
        return true;
      });
    } catch (error) {
      throw writeFailure(`${where} ${category}/${key}`, error, { category, key });
    }
  }

  /**
   * The category's keys.
   * @param category - a known category.
   * @returns the keys, sorted.
   * @example
   * const keys = await cache.listKeys('fractional_kernels');
   */
  async listKeys(category: string): Promise<string[]> {
    const index = this.index('listKeys', category);
    await this.ready();
    await index.refresh();
    const keys = new Set(index.keys());
    for (const entry of await this.decidedPuts(category, index)) keys.add(entry.key);
    return [...keys].sort();
  }

  /**
   * Bytes on disk of the entry's file.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns the file's size in bytes.
   * @throws {CacheMissError} when there is no such entry.
   * @example
   * await cache.getSize('stencils', 'laplacian_2d_64_64_dirichlet');
   */
  async getSize(category: string, key: string): Promise<number> {
    return (await this.entry('getSize', category, key)).size_bytes;
  }

  /**
   * The metadata given to save.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns a copy of it, or undefined when none was given.
   * @throws {CacheMissError} when there is no such entry.
   * @example
   * const { alpha } = (await cache.loadMetadata('fractional_kernels', 'kernel_0.5_0.01_1000')) ?? {};
   */
  async loadMetadata(category: string, key: string): Promise<Record<string, unknown> | undefined> {
    const entry = await this.entry('loadMetadata', category, key);
    return entry.metadata === undefined ? undefined : structuredClone(entry.metadata);
  }

  /**
   * The index entry of a key (a copy): sizes, times, access count, checksum, value description.
   * @param where - the caller's name, for messages.
   * @param category - a known category.
   * @param key - the entry's key.
   * @returns a copy of the entry.
   * @throws {CacheMissError} when there is no such entry.
   * @example
   * const { size_bytes, access_count } = await cache.entry('stats', 'stencils', 'laplacian_2d_64_64_dirichlet');
   */
  async entry(where: string, category: string, key: string): Promise<IndexEntry> {
    const index = this.index(where, category);
    checkStoredKey(where, key);
    await this.ready();
    await index.refresh();
    const entry = await this.current(category, index, key);
    if (!entry) throw new CacheMissError(category, key);
    return structuredClone(entry);
  }

  /**
   * Every category's index (with this process's unflushed access counts) and the cache's totals, with the
   * remote's counts, the cost model and the budget.
   * @returns the whole cache's statistics.
   * @example
   * const { total_size_mb, budget } = await cache.getStats();
   */
  async getStats(): Promise<CacheStats>;
  /**
   * One category's index, with this process's unflushed access counts.
   * @param category - a known category.
   * @returns the category's index, entries included.
   * @example
   * const { total_entries, entries } = await cache.getStats('stencils');
   */
  async getStats(category: string): Promise<CategoryStats>;
  async getStats(category?: string): Promise<CategoryStats | CacheStats> {
    if (category !== undefined) {
      const index = this.index('getStats', category);
      await this.ready();
      await index.refresh();
      return index.snapshot(await this.decidedPuts(category, index));
    }
    await this.ready();
    const categories: Record<string, CategoryStats> = {};
    let bytes = 0;
    for (const [name, index] of this.indexes) {
      await index.refresh();
      categories[name] = index.snapshot(await this.decidedPuts(name, index));
      for (const entry of Object.values(categories[name].entries)) bytes += entry.size_bytes;
    }
    return {
      total_categories: this.indexes.size, total_size_mb: roundMb(bytes), categories,
      ...(this.remote ? { remote: this.remote.stats() } : {}), costs: this.costs.report(), budget: await this.budget.stats(),
    };
  }

  /**
   * Removes every entry of a category.
   * @param category - a known category.
   * @returns the number of entries removed.
   * @example
   * await cache.clearCategory('stencils');
   */
  async clearCategory(category: string): Promise<number> {
    const index = this.index('clearCategory', category);
    await this.ready();
    try {
      return await index.locked(async () => {
        const keys = new Set([...index.keys(), ...(await this.decidedPuts(category, index)).map((e) => e.key)]);
        const gone = new Set(index.all().map((e) => e.file));
        for (const key of index.pendingKeys()) gone.add(index.getPending(key)!.file);
        await index.replaceAll(new Map());
        await removeLeftovers(this.files, category, index, [...gone].flatMap((file) => [file, sidecarName(file)]));
        return keys.size;
      });
    } catch (error) {
      throw writeFailure(`clearCategory ${category}`, error, { category });
    }
  }

  /**
   * Removes every entry of every category.
   * @returns entries removed per category.
   * @example
   * await cache.clearAll();
   */
  async clearAll(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const name of this.indexes.keys()) removed[name] = await this.clearCategory(name);
    return removed;
  }

  /**
   * Checks every entry against its file and checksum, and every file against the index; each problem says
   * what repair will do about it. With repair: settles interrupted saves, moves damaged files to
   * `<root>/.quarantine/<category>/` (never deletes them), removes the cache's own leftovers (temporary files,
   * stale sidecars), adopts data files that lost their entry, and rebuilds each index. Files that are intact
   * but not ours or not understood are listed under `kept` and left alone.
   * @param options - `repair: true` to repair; `onProgress(done, total)` is called as entries are checked
   *   (total: the entries of every category).
   * @returns what was found, per category.
   * @throws {TypeError} for bad options.
   * @example
   * const report = await cache.validate({ repair: true });
   * if (!report.ok) console.warn(report.categories);
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
    await this.checkpoint();
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
        files: this.files, index, category: name, spec: this.categories[name], entryChecksum: this.entryChecksum,
        fileHolds: (e) => this.fileHolds(name, e), repair, onEntryChecked,
      });
      timings[name] = Date.now() - started;
    }
    const ok = Object.values(categories).every((c) => c.problems.length === 0 || (repair && c.repaired));
    return { ok, repaired: repair, categories, timings };
  }

  /**
   * Writes the batched access bookkeeping of every category now.
   * @example
   * await cache.flush();
   */
  async flush(): Promise<void> {
    for (const index of this.indexes.values()) {
      await index.flushTouches();
    }
  }

  /**
   * Brings every index.json up to date: writes the batched access counts and folds each journal into its
   * index.json (settling saves whose writer died), so that outside readers see every acknowledged change.
   * Runs every `flushIntervalMs` while the cache is in use, in `validate()` and in `close()`.
   * @throws {CacheError} with the file system's code (e.g. 'ENOSPC') when an index cannot be written; the
   *   journals keep every change, and the next checkpoint tries again.
   */
  async checkpoint(): Promise<void> {
    await this.ready();
    let failure: unknown;
    for (const [name, index] of this.indexes) {
      try {
        await index.flushTouches();
        await index.refresh();
        if (index.hasJournal() || index.leftovers.size > 0) {
          await index.locked(async () => {
            await index.settlePending((e) => this.fileHolds(name, e));
            await removeLeftovers(this.files, name, index, []);
            await index.compact((e) => this.fileHolds(name, e));
          });
        }
      } catch (error) {
        failure ??= writeFailure(`writing ${name}/index.json`, error, { category: name, path: `${this.root}/${name}/index.json` });
      }
    }
    await this.costs.persist(); // advice only: it never fails a checkpoint
    if (failure) throw failure;
  }

  /**
   * The saves that background work has not finished yet (for the Node exit hook).
   * @internal
   */
  unfinishedSaves(): PendingSave[] {
    return this.background.unfinishedSaves();
  }

  /**
   * Whether index.json (or the cost model) lags what this process did (access counts included), or background writes are still to come.
   * @internal
   */
  lagging(): boolean {
    return this.background.size > 0 || this.remote?.busy === true
      || (this.opening !== undefined && (this.costs.dirty || [...this.indexes.values()].some((i) => i.lagging())));
  }

  /**
   * Whether some index.json lacks saves or deletes this process made, or background writes are still to come.
   * @internal
   */
  lacksChanges(): boolean {
    return this.background.size > 0 || [...this.indexes.values()].some((i) => i.lacksOwnChanges());
  }

  /**
   * At process exit (Node): writes the batched access counts synchronously; see CategoryIndex.flushTouchesAtExit.
   * @internal
   */
  flushTouchesAtExit(): void {
    for (const index of this.indexes.values()) index.flushTouchesAtExit();
  }

  /**
   * Registers work that `close()` (and process exit) must wait for: memoize's background writes.
   * @example cache.trackBackground({ done: write, hurry: startNow });
   * @internal
   */
  trackBackground(work: BackgroundWork): void {
    this.background.add(work);
  }

  /**
   * Waits for the background work registered so far (memoize's writes, and any they start) and the uploads to
   * the remote, starting queued work at once.
   * @example
   * await cache.settleBackground(); // every memoized result so far is on disk
   */
  async settleBackground(): Promise<void> {
    await this.background.settle();
    await this.remote?.settled();
  }

  /**
   * Waits for memoize's background writes and the uploads to the remote, writes the bookkeeping and folds each
   * journal into its index.json, stops the timer and closes the remote's connections; later calls are refused
   * with code 'ECLOSED'.
   * @throws {CacheError} with the file system's code when an index cannot be written (a full disk): the cache
   *   is closed all the same, and its journals keep every acknowledged change for the next manager to fold in.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.settleBackground();
      // Also when this manager was never used: an earlier one may have left its journal for the next to fold
      // in (a failed close on a full disk). Only a root that holds nothing is not created.
      if (this.opening || (await this.files.list('')).length > 0) await this.checkpoint();
      if (this.remote && this.opening) await appendRemoteCounts(this.files, this.remote.stats()).catch(() => undefined);
    } finally {
      this.closed = true;
      await this.remote?.close();
    }
  }
}
