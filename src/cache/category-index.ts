// One category's index: index.json (a compacted snapshot in the Python cache's schema) plus an
// append-only journal of what happened since, so that a save costs the same at 10 or 10,000 entries.
//
// Every change is made under the category's lock: a save appends `put`, renames its data file into place,
// then appends `commit` (or `abort`, when the rename failed); a process killed between the two leaves a put
// without commit, and readers accept the file under either checksum until compaction settles it. Journal lines carry a hash of themselves,
// so a torn last line (a writer killed mid-append) is skipped. Compaction writes a new index.json that
// names a fresh journal generation, so a reader can always tell whether its snapshot and journal match.

import type { Files } from './files.js';
import { DAMAGED_INDEX_PREFIX, INDEX_FILE } from './layout.js';
import { isStoredKey } from './keys.js';
import { completePythonEntries } from './python-entries.js';

/** An entry as index.json stores it: the Python cache's fields, then ours. */
export interface IndexEntry {
  /** The key the entry was saved under. */
  key: string;
  /** When it was saved (ISO 8601). */
  created_at: string;
  /** Bytes of its file. */
  size_bytes: number;
  /** Loads of it so far, by every process (each writes its counts in batches, every `flushIntervalMs`). */
  access_count: number;
  /** Null in entries the Python cache wrote, until the first load. */
  last_accessed: string | null;
  /** "sha256:<hex of the stored file's bytes>"; null in entries the Python cache wrote with checksums off. */
  checksum: string | null;
  /** File name in the category folder: `<key>.<ext>`. */
  file: string;
  /** How to turn the file back into the value that was saved (see values.ts). */
  value: Record<string, unknown>;
  /** What `save` was given as `options.metadata` (plain JSON). */
  metadata?: Record<string, unknown>;
}

/** A category's index, as its index.json holds it (the Python cache's shape, plus the journal's bookkeeping). */
export interface IndexFile {
  /** The format of index.json (`'1.0'`). */
  version: string;
  /** When the category was created (ISO 8601). */
  created_at: string;
  /** When index.json was last written (ISO 8601); absent in `getStats()`. */
  updated_at?: string;
  /** Entries in the category. */
  total_entries: number;
  /** Bytes the entries' files take, in MiB (2^20 bytes), to four decimals. */
  total_size_mb: number;
  /** The journal file that continues this snapshot. */
  journal?: string;
  /** Files that saves and deletes replaced but could not remove (an I/O error), removed at a later checkpoint. */
  leftover_files?: string[];
  /** The entries, by key. */
  entries: Record<string, IndexEntry>;
}

type JournalRecord =
  | { op: 'put'; entry: IndexEntry }
  | { op: 'commit'; key: string; checksum: string | null }
  | { op: 'del'; key: string }
  | { op: 'abort'; key: string; checksum: string | null }
  | { op: 'leftover'; files: string[] }
  | { op: 'touch'; t: Record<string, [number, string]> };

const INDEX_VERSION = '1.0';
const LOCK_FILE = '.lock';
const LOCK_TIMEOUT_MS = 15_000;
// How often a read of index.json that does not parse is tried again (10, 20, 30 ms apart) before it counts as damaged.
const TORN_READ_RETRIES = 3;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A cheap, stable hash of a journal line (FNV-1a, 32 bits twice): enough to spot a torn write. */
function lineHash(text: string): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

function encodeRecord(record: JournalRecord): Uint8Array {
  const json = JSON.stringify(record);
  return encoder.encode(`${lineHash(json)} ${json}\n`);
}

export function nowIso(): string {
  return new Date().toISOString();
}

export class CategoryIndex {
  readonly category: string;
  private readonly files: Files;
  private entries = new Map<string, IndexEntry>();
  // The bytes of `entries`, kept as they change: a budget reads it after every save.
  private bytes = 0;
  /** Puts whose commit has not been seen: the file may hold either version. */
  private pending = new Map<string, IndexEntry>();
  private createdAt = nowIso();
  private snapshotVersion: string | undefined = 'none';
  private journal = '.journal-0';
  private journalOffset = 0;
  private journalLines = 0;
  /**
   * index.json entries under keys no operation accepts (another program's): never read, reported by validate,
   * and written back as they were, so that nothing of another writer's index is dropped.
   */
  readonly unsafe = new Map<string, IndexEntry>();
  /** Files replaced but not yet removed (see IndexFile.leftover_files). */
  readonly leftovers = new Set<string>();
  /** Whether this process journalled changes (not access counts) since the snapshot it last read or wrote. */
  private appended = false;
  /** index.json could not be parsed: its entries are unknown until validate({ repair }) rebuilds them. */
  damaged = false;
  /** Access bookkeeping not yet written: count and last access per key. */
  private touches = new Map<string, [number, string]>();
  private refreshing: Promise<void> | undefined;
  private nextRefresh: Promise<void> | undefined;

  constructor(files: Files, category: string) {
    this.files = files;
    this.category = category;
  }

  private path(name: string): string {
    return `${this.category}/${name}`;
  }

  /** Creates the folder and an empty index.json if there is none. */
  async open(): Promise<void> {
    await this.files.makeDir(this.category);
    if (await this.files.stat(this.path(INDEX_FILE))) return;
    await this.locked(async () => {
      if (await this.files.stat(this.path(INDEX_FILE))) return;
      await this.writeSnapshot(new Map(), '.journal-0');
    });
  }

  /**
   * Brings the in-memory view up to date with what any process wrote: O(new journal lines). One
   * refresh runs at a time (two replaying the same journal tail would apply it twice); callers that
   * come while one runs share the next, which starts after they asked and so sees what they need.
   */
  refresh(): Promise<void> {
    if (!this.refreshing) return this.startRefresh();
    this.nextRefresh ??= this.refreshing.catch(() => undefined).then(() => {
      this.nextRefresh = undefined;
      return this.startRefresh();
    });
    return this.nextRefresh;
  }

  private startRefresh(): Promise<void> {
    const run = this.readChanges().finally(() => {
      if (this.refreshing === run) this.refreshing = undefined;
    });
    this.refreshing = run;
    return run;
  }

  private async readChanges(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stat = await this.files.stat(this.path(INDEX_FILE));
      if (stat?.version !== this.snapshotVersion) {
        await this.loadSnapshot(stat?.version);
      }
      const tail = await this.files.readFrom(this.path(this.journal), this.journalOffset);
      const after = await this.files.stat(this.path(INDEX_FILE));
      if (after?.version !== this.snapshotVersion) continue; // compacted meanwhile: start again
      if (tail && tail.length > 0) this.replay(tail);
      return;
    }
  }

  private async loadSnapshot(version: string | undefined): Promise<void> {
    this.entries = new Map();
    this.bytes = 0;
    this.pending = new Map();
    this.journalOffset = 0;
    this.journalLines = 0;
    this.appended = false;
    this.leftovers.clear();
    this.unsafe.clear();
    this.snapshotVersion = version;
    this.damaged = false;
    const parsed = await this.readSnapshot();
    if (parsed === 'missing') {
      this.journal = '.journal-0';
      return;
    }
    if (parsed === undefined) {
      this.damaged = true; // the journal stays ours: what it holds is replayed, never lost
      return;
    }
    this.createdAt = typeof parsed.created_at === 'string' ? parsed.created_at : nowIso();
    // A snapshot another program wrote (the Python cache rewrites index.json itself) names no journal: ours
    // goes on, and what it holds that the snapshot lacks is replayed on top of it, so nothing is overwritten.
    if (typeof parsed.journal === 'string' && /^\.journal-\d+$/.test(parsed.journal)) this.journal = parsed.journal;
    if (Array.isArray(parsed.leftover_files)) for (const f of parsed.leftover_files) if (typeof f === 'string') this.leftovers.add(f);
    for (const [key, entry] of Object.entries(parsed.entries)) {
      if (!entry || typeof entry !== 'object' || !(typeof entry.checksum === 'string' || entry.checksum === null)) continue;
      // A key that would name a path outside the folder (another writer's) is never listed, only reported.
      if (isStoredKey(key)) this.entries.set(key, { ...entry, key });
      else this.unsafe.set(key, entry);
    }
    await completePythonEntries(this.files, this.category, this.entries.values());
    this.bytes = sumSizes(this.entries.values());
  }

  /**
   * index.json parsed; 'missing' when there is none; undefined when it is not an index. A program that
   * rewrites it in place (the Python cache) can be caught halfway: a read that does not parse is tried again.
   */
  private async readSnapshot(): Promise<IndexFile | 'missing' | undefined> {
    for (let attempt = 0; ; attempt++) {
      const bytes = await this.files.read(this.path(INDEX_FILE));
      if (bytes === undefined) return 'missing';
      try {
        const parsed = JSON.parse(decoder.decode(bytes)) as IndexFile;
        if (parsed !== null && typeof parsed === 'object' && typeof parsed.entries === 'object' && parsed.entries !== null) return parsed;
      } catch {
        // torn or damaged: see below
      }
      if (attempt >= TORN_READ_RETRIES) return undefined;
      await new Promise((done) => setTimeout(done, 10 * (attempt + 1)));
    }
  }

  private replay(bytes: Uint8Array): void {
    // Only whole lines: a line still being written (no newline yet) is read again next time.
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end === 0) return;
    const text = decoder.decode(bytes.subarray(0, end));
    this.journalOffset += end;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      this.journalLines++;
      const space = line.indexOf(' ');
      const json = line.slice(space + 1);
      if (space !== 16 || lineHash(json) !== line.slice(0, 16)) continue; // torn or damaged: skip
      let record: JournalRecord;
      try {
        record = JSON.parse(json) as JournalRecord;
      } catch {
        continue;
      }
      this.apply(record);
    }
  }

  private apply(record: JournalRecord): void {
    switch (record.op) {
      case 'put':
        this.pending.set(record.entry.key, record.entry);
        break;
      case 'commit': {
        const entry = this.pending.get(record.key);
        if (entry && entry.checksum === record.checksum) {
          this.pending.delete(record.key);
          const before = this.entries.get(record.key);
          // An overwrite keeps the key's history of use.
          if (before) {
            entry.access_count += before.access_count;
            entry.created_at = before.created_at;
          }
          this.entries.set(record.key, entry);
          this.bytes += entry.size_bytes - (before?.size_bytes ?? 0);
        }
        break;
      }
      case 'del':
        this.bytes -= this.entries.get(record.key)?.size_bytes ?? 0;
        this.entries.delete(record.key);
        this.pending.delete(record.key);
        break;
      case 'leftover':
        for (const file of record.files) this.leftovers.add(file);
        break;
      case 'abort': // a save that failed before its file was in place
        if (this.pending.get(record.key)?.checksum === record.checksum) this.pending.delete(record.key);
        break;
      case 'touch':
        for (const [key, [count, last]] of Object.entries(record.t)) {
          const entry = this.entries.get(key);
          if (!entry) continue;
          entry.access_count += count;
          if (entry.last_accessed === null || last > entry.last_accessed) entry.last_accessed = last;
        }
        break;
    }
  }

  get(key: string): IndexEntry | undefined {
    return this.entries.get(key);
  }

  /** A put not yet committed (a save in progress, or one whose writer died before its rename). */
  getPending(key: string): IndexEntry | undefined {
    return this.pending.get(key);
  }

  /** Keys with a put not yet committed. */
  pendingKeys(): string[] {
    return [...this.pending.keys()];
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  all(): IndexEntry[] {
    return [...this.entries.values()];
  }

  /** The entries with this process's reads not yet written counted in (what eviction ranks them by). */
  allWithTouches(): IndexEntry[] {
    return [...this.entries.values()].map((entry) => {
      const seen = this.touches.get(entry.key);
      if (!seen) return entry;
      const last = entry.last_accessed === null || seen[1] > entry.last_accessed ? seen[1] : entry.last_accessed;
      return { ...entry, access_count: entry.access_count + seen[0], last_accessed: last };
    });
  }

  /** The bytes of the category's entries. */
  get totalBytes(): number {
    return this.bytes;
  }

  /** Runs `body` holding the category lock, with the view refreshed first. */
  async locked<T>(body: () => Promise<T>): Promise<T> {
    const release = await this.files.lock(this.path(LOCK_FILE), { timeoutMs: LOCK_TIMEOUT_MS });
    try {
      await this.refresh();
      return await body();
    } finally {
      await release();
    }
  }

  /** Appends a record to the journal (call under the lock). */
  async append(record: JournalRecord): Promise<void> {
    await this.files.append(this.path(this.journal), encodeRecord(record));
    // Our own lines are replayed on the next refresh, like anyone else's; till then they are unfolded too.
    if (record.op !== 'touch') this.appended = true;
  }

  /** Records a read, to be written in the next flush. */
  touch(key: string): void {
    const now = nowIso();
    const seen = this.touches.get(key);
    if (seen) {
      seen[0]++;
      seen[1] = now;
    } else {
      this.touches.set(key, [1, now]);
    }
  }

  /** The batched access bookkeeping as one journal record, taken out of the batch; undefined if none. */
  private takeTouches(): JournalRecord | undefined {
    if (this.touches.size === 0) return undefined;
    const t = Object.fromEntries(this.touches);
    this.touches = new Map();
    return { op: 'touch', t };
  }

  /** Writes the batched access bookkeeping as one journal line (deltas, so processes' counts add up). */
  async flushTouches(): Promise<void> {
    const record = this.takeTouches();
    if (record) await this.locked(() => this.append(record));
  }

  /** Whether anything was journalled since the last snapshot. */
  hasJournal(): boolean {
    return this.journalLines > 0 || this.pending.size > 0 || this.appended;
  }

  /** Whether index.json lags what this process knows: journalled changes, or access counts not yet written. */
  lagging(): boolean {
    return this.hasJournal() || this.touches.size > 0;
  }

  /** Whether index.json lacks changes this process journalled (saves, deletes; not access counts). */
  lacksOwnChanges(): boolean {
    return this.appended;
  }

  /**
   * Writes the batched access counts at process exit, where nothing asynchronous runs: the append is not
   * awaited, which on a file system whose calls are synchronous (Node's) completes it all the same. Without
   * the lock, like any append a compaction may have made stale: the counts are bookkeeping, not data.
   */
  flushTouchesAtExit(): void {
    const record = this.takeTouches();
    if (record) void this.files.append(this.path(this.journal), encodeRecord(record)).catch(() => undefined);
  }

  /** Whether the journal has grown enough, relative to the index, that folding it in pays. */
  wantsCompaction(): boolean {
    return this.journalLines > Math.max(512, this.entries.size / 2);
  }

  /**
   * Folds the journal into a new index.json (call under the lock). Puts left without a commit by a
   * writer that died are settled by `settle`, which says which version the file on disk holds.
   */
  async compact(settle: (entry: IndexEntry) => Promise<boolean>): Promise<void> {
    await this.refresh(); // our own appends since the lock was taken are not in the view yet
    await this.settlePending(settle);
    if (this.damaged) {
      // Keep what could not be parsed, for the user to look at; validate({ repair }) re-adopts the files.
      const bytes = await this.files.read(this.path(INDEX_FILE));
      if (bytes) await this.files.writeAtomic(this.path(`${DAMAGED_INDEX_PREFIX}${Date.now()}`), bytes);
    }
    await this.replaceAll(this.entries);
  }

  /**
   * Settles the puts left without a commit by writers that died (call under the lock, where no save is in
   * progress): a put whose file holds its version (`holds`) is committed, any other is dropped, since its
   * file still holds the earlier version or none.
   */
  async settlePending(holds: (entry: IndexEntry) => Promise<boolean>): Promise<void> {
    for (const [key, entry] of [...this.pending]) {
      if (await holds(entry)) this.apply({ op: 'commit', key, checksum: entry.checksum });
      else this.pending.delete(key);
    }
  }

  /** Replaces every entry (validate's rebuild; call under the lock). */
  async replaceAll(entries: Map<string, IndexEntry>): Promise<void> {
    const old = this.journal;
    try {
      await this.writeSnapshot(entries, `.journal-${Number(old.slice(9)) + 1}`);
    } catch (error) {
      this.snapshotVersion = 'unknown'; // the view is read again from the files, which still hold everything
      throw error;
    }
    this.entries = entries;
    this.bytes = sumSizes(entries.values());
    this.pending.clear();
    await this.files.remove(this.path(old));
    await this.refresh();
  }

  private async writeSnapshot(entries: Map<string, IndexEntry>, journal: string): Promise<void> {
    const sorted = [...entries.keys()].sort();
    const snapshot: IndexFile = {
      version: INDEX_VERSION,
      created_at: this.createdAt,
      updated_at: nowIso(),
      total_entries: sorted.length + this.unsafe.size,
      total_size_mb: roundMb(sumSizes(entries.values())),
      journal,
      ...(this.leftovers.size > 0 ? { leftover_files: [...this.leftovers].sort() } : {}),
      entries: { ...Object.fromEntries(this.unsafe), ...Object.fromEntries(sorted.map((k) => [k, entries.get(k)!])) },
    };
    await this.files.writeAtomic(this.path(INDEX_FILE), encoder.encode(`${JSON.stringify(snapshot, null, 2)}\n`));
  }

  /** The category's statistics in index.json's own shape (entries included), with `decided` puts counted in. */
  snapshot(decided: IndexEntry[] = []): IndexFile {
    const entries = new Map(this.entries);
    for (const entry of decided) entries.set(entry.key, entry);
    const sorted = [...entries.keys()].sort();
    return {
      version: INDEX_VERSION,
      created_at: this.createdAt,
      total_entries: sorted.length,
      total_size_mb: roundMb(sumSizes(entries.values())),
      entries: Object.fromEntries(sorted.map((k) => [k, structuredClone(entries.get(k)!)])),
    };
  }
}

function sumSizes(entries: Iterable<IndexEntry>): number {
  let bytes = 0;
  for (const entry of entries) bytes += entry.size_bytes;
  return bytes;
}

export function roundMb(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 1e4) / 1e4;
}
