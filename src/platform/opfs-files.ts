// The cache's file operations on the browser's origin-private file system (OPFS), with the layout they
// have on disk in Node: one folder for the root, one per category, the same file names.
//
// This class is the path of pages (the main thread); in dedicated workers, opfs-sah-files.ts writes the same
// files through sync access handles and inherits the rest from here.
//
// - Atomic replace: data goes to a `.tmp-*` file written through createWritable() (which itself writes a
//   swap file and swaps it in on close()), then FileSystemFileHandle.move() puts it in place over the old
//   file in one step. Readers see the old file or the new one, never a partial one.
// - Append (the journals): createWritable({ keepExistingData: true }), a write at the end, close(), whose
//   swap makes the longer file appear at once. It copies the file, which the journal's compaction keeps
//   small (in Chromium ~3-5 ms per append). Appends to one file are serialized by a Web Lock, as closes of
//   two writables would otherwise drop one another; a worker's appender takes the same lock. A line left
//   unfinished (a worker killed mid-write) is ended before the next one, which it would otherwise swallow.
// - A file held open by a sync access handle (a worker reading it, or appending) cannot be moved over or
//   removed (NoModificationAllowedError) until it is closed, a few ms later: move() and remove() wait.
// - stat().version is lastModified and size. A moved file keeps its own lastModified (its temp file's), so
//   rename() makes sure the new file is strictly newer than the one it replaces, else a replacement in the
//   same millisecond, at the same size, would go unnoticed by other tabs' index views.
// - Handles are looked up once and kept (a handle names a path, not a file: Chromium's follows whatever is
//   moved there); one that fails with NotFoundError is looked up again.
// - Locks are Web Locks (see web-locks.ts): shared by the origin's tabs and workers, gone with their holder.
// - A write refused by the quota (QuotaExceededError, or Chromium's AbortError for a large write) becomes a
//   CacheError 'EQUOTA' once the temporary file is removed.

import { CacheError } from '../cache/errors.js';
import type { FileStat, Files } from '../cache/files.js';
import { TEMP_PREFIX } from '../cache/layout.js';
import { quotaError, refusedByQuota } from './quota-error.js';
import { acquireLock, type Release } from './web-locks.js';

/** move() of OPFS files is in Chromium 110+ and Firefox 111+, not yet in TypeScript's DOM types; rename() copies where it is missing. */
interface MovableFileHandle extends FileSystemFileHandle {
  move?(parent: FileSystemDirectoryHandle, name: string): Promise<void>;
}

/** The async iteration of folders is in lib.dom.asynciterable, which this package does not compile against. */
interface ListableDirectoryHandle extends FileSystemDirectoryHandle {
  keys(): AsyncIterable<string>;
}

const READ_ATTEMPTS = 5;
// Large data goes to a writable in pieces of this size: Chromium then reports a write past the quota as
// QuotaExceededError, where one 8 MB write fails 3 times in 4 as "AbortError: Failed to write data to data pipe".
const WRITE_CHUNK = 1 << 20;
const APPEND_LOCK_MS = 30_000;
// How long move() and remove() wait for another context's sync access handle on the file to close: a
// worker's read of 8 MB holds one ~5 ms, of 1 GB under a second.
const BUSY_WAIT_MS = 2_000;
// Kept file handles (a lookup is an IPC round trip): the index, the journal and recent data files.
const KEPT_HANDLES = 256;
// How long rename() waits for the clock to pass the replaced file's time.
const NEWER_WAIT_MS = 200;
const NEWLINE = 0x0a;

/** Whether `error` is the DOMException of that name. */
export function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string } | null)?.name === name;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Runs `op` again while it fails with NoModificationAllowedError (another context holds the file open
 * through a sync access handle, or a writable), waiting 1, 2, 4 … 16 ms in between, for at most `waitMs`.
 * @throws the last error when the file stayed busy, or at once any other error.
 */
export async function whileBusy<T>(op: () => Promise<T>, waitMs: number): Promise<T> {
  const giveUp = Date.now() + waitMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 16)) {
    try {
      return await op();
    } catch (error) {
      if (!isNamed(error, 'NoModificationAllowedError') || Date.now() >= giveUp) throw error;
    }
    await sleep(pause);
  }
}

/** `data` with a newline in front: it ends a line that a killed writer left unfinished. */
export function afterNewline(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out[0] = NEWLINE;
  out.set(data, 1);
  return out;
}

/** The file's bytes from `offset`, through a snapshot (getFile()), which takes no lock. */
async function readSnapshot(handle: FileSystemFileHandle, offset: number): Promise<Uint8Array> {
  const file = await handle.getFile();
  return new Uint8Array(await (offset > 0 ? file.slice(offset) : file).arrayBuffer());
}

/** Splits 'a/b/c' into its folder 'a/b' and its name 'c'. */
function splitPath(path: string): { folder: string; name: string } {
  const slash = path.lastIndexOf('/');
  return { folder: slash < 0 ? '' : path.slice(0, slash), name: path.slice(slash + 1) };
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The error for a browser without a usable origin-private file system, naming the alternative. */
export function opfsUnavailable(reason: string, cause?: unknown): CacheError {
  return new CacheError('ENOOPFS', `CacheManager: ${reason}. The cache needs the origin-private file system `
    + '(navigator.storage.getDirectory(), in a secure context: https or localhost); for a cache that lasts as long '
    + "as the page, use new CacheManager({ storage: 'memory' })", {}, cause === undefined ? undefined : { cause });
}

/** The cache's files in a folder of the origin-private file system. */
export class OpfsFiles implements Files {
  /** `opfs:/<folder>`, for messages and the paths save() returns. */
  readonly root: string;
  readonly kind = 'opfs';
  private readonly rootSegments: string[];
  private readonly lockPrefix: string;
  private base: Promise<FileSystemDirectoryHandle> | undefined;
  // Folder handles by path: looking one up walks from the OPFS root, one call per level.
  private readonly folders = new Map<string, FileSystemDirectoryHandle>();
  // File handles by path, oldest first.
  private readonly handles = new Map<string, FileSystemFileHandle>();
  // The handles of temporary files written and not yet renamed or removed.
  private readonly temps = new Map<string, FileSystemFileHandle>();

  /** @param folder - the cache's folder in the OPFS root, '/'-separated for nesting. */
  constructor(folder: string) {
    this.rootSegments = segments(folder);
    this.root = `opfs:/${this.rootSegments.join('/')}`;
    this.lockPrefix = `dase-cache:${this.root}/`;
  }

  private rootFolder(): Promise<FileSystemDirectoryHandle> {
    this.base ??= (async () => {
      let dir: FileSystemDirectoryHandle;
      try {
        dir = await navigator.storage.getDirectory();
      } catch (error) {
        this.base = undefined;
        throw opfsUnavailable(`the origin-private file system cannot be opened here (${(error as Error).name}: ${(error as Error).message})`, error);
      }
      for (const name of this.rootSegments) dir = await dir.getDirectoryHandle(name, { create: true });
      return dir;
    })();
    return this.base;
  }

  /** The folder's handle, or undefined when it does not exist and `create` is false. */
  protected async folder(path: string, create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
    const known = this.folders.get(path);
    if (known) return known;
    let dir = await this.rootFolder();
    for (const name of segments(path)) {
      try {
        dir = await dir.getDirectoryHandle(name, { create });
      } catch (error) {
        if (isNamed(error, 'NotFoundError')) return undefined;
        throw error;
      }
    }
    this.folders.set(path, dir);
    return dir;
  }

  /** Runs a write again on fresh handles if a kept folder handle went stale (its folder was removed). */
  protected async fresh<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!isNamed(error, 'NotFoundError')) throw error;
      this.folders.clear();
      this.handles.clear();
      this.base = undefined;
      return write();
    }
  }

  /** The file's handle, kept from an earlier lookup unless `lookUp`; undefined when there is no such file and not `create`. */
  private async fileHandle(path: string, { create = false, lookUp = false } = {}): Promise<FileSystemFileHandle | undefined> {
    const kept = lookUp ? undefined : this.handles.get(path);
    if (kept) return kept;
    const { folder, name } = splitPath(path);
    const dir = await this.folder(folder, create);
    if (!dir) return undefined;
    try {
      const handle = await dir.getFileHandle(name, { create });
      this.keep(path, handle);
      return handle;
    } catch (error) {
      if (isNamed(error, 'NotFoundError') && !create) return undefined;
      throw error;
    }
  }

  private keep(path: string, handle: FileSystemFileHandle): void {
    this.handles.delete(path);
    this.handles.set(path, handle);
    if (this.handles.size > KEPT_HANDLES) this.handles.delete(this.handles.keys().next().value!);
  }

  /**
   * Runs `use` on the file's handle; undefined when the file does not exist. A kept handle that fails with
   * NotFoundError (its file was removed, or a browser's handle named the file rather than the path) is
   * looked up once more.
   */
  private async withFile<T>(path: string, use: (handle: FileSystemFileHandle) => Promise<T>): Promise<T | undefined> {
    for (let lookUp = !this.handles.has(path); ; lookUp = true) {
      const handle = await this.fileHandle(path, { lookUp });
      if (!handle) return undefined;
      try {
        return await use(handle);
      } catch (error) {
        if (!isNamed(error, 'NotFoundError')) throw error;
        this.handles.delete(path);
        if (lookUp) return undefined;
      }
    }
  }

  async makeDir(path: string): Promise<void> {
    await this.fresh(() => this.folder(path, true));
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    return this.readBytes(path, (handle) => this.readWhole(handle));
  }

  /** Journal tails: always through a snapshot, so that a reader never holds up an appender. */
  async readFrom(path: string, offset: number): Promise<Uint8Array | undefined> {
    return this.readBytes(path, (handle) => readSnapshot(handle, offset));
  }

  private async readBytes(path: string, read: (handle: FileSystemFileHandle) => Promise<Uint8Array>): Promise<Uint8Array | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.withFile(path, read);
      } catch (error) {
        // A File is a snapshot: replaced between getFile() and the read, it refuses to be read. Read the new one.
        if (isNamed(error, 'NotReadableError') && attempt < READ_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  /** The whole file. */
  protected readWhole(handle: FileSystemFileHandle): Promise<Uint8Array> {
    return readSnapshot(handle, 0);
  }

  async writeAtomic(path: string, data: Uint8Array): Promise<void> {
    const temp = await this.writeTemp(splitPath(path).folder, data);
    try {
      await this.rename(temp, path);
    } catch (error) {
      await this.remove(temp).catch(() => false);
      throw error;
    }
  }

  async writeTemp(folder: string, data: Uint8Array): Promise<string> {
    const name = `${TEMP_PREFIX}${randomId()}`;
    const path = folder === '' ? name : `${folder}/${name}`;
    await this.fresh(async () => {
      const dir = (await this.folder(folder, true))!;
      const handle = await dir.getFileHandle(name, { create: true });
      await this.writeNew(handle, data, path, () => dir.removeEntry(name));
      this.temps.set(path, handle); // rename() moves it without looking it up again
    });
    return path;
  }

  /**
   * Writes a new temporary file's content; on failure `discard` (removing it) runs before the error, which
   * is a CacheError 'EQUOTA' for a refusal by the quota, is thrown.
   */
  protected writeNew(handle: FileSystemFileHandle, data: Uint8Array, path: string, discard: () => Promise<unknown>): Promise<void> {
    return this.writeWhole(handle, data, path, discard);
  }

  /**
   * Writes the whole file through a writable (its close() swaps the content in); on failure the file keeps
   * its earlier content, and `discard` (removing a temporary file) runs before the error is thrown.
   */
  protected async writeWhole(handle: FileSystemFileHandle, data: Uint8Array, path: string, discard?: () => Promise<unknown>): Promise<void> {
    let writable: FileSystemWritableFileStream | undefined;
    try {
      writable = await handle.createWritable();
      for (let at = 0; at < data.length; at += WRITE_CHUNK) {
        await writable.write(data.subarray(at, at + WRITE_CHUNK) as Uint8Array<ArrayBuffer>);
      }
      await writable.close();
    } catch (error) {
      await writable?.abort().catch(() => undefined);
      await discard?.().catch(() => undefined);
      if (await refusedByQuota(error, data.length)) throw quotaError(`${this.root}/${path}`, data.length, error);
      throw error;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const source = (this.temps.get(from) ?? await this.fileHandle(from, { lookUp: true })) as MovableFileHandle | undefined;
    this.temps.delete(from);
    this.handles.delete(from);
    if (!source) throw new CacheError('ENOENT', `rename: ${this.root}/${from} does not exist`, { path: `${this.root}/${from}` });
    const target = splitPath(to);
    const dir = (await this.fresh(() => this.folder(target.folder, true)))!;
    await this.makeNewerThan(source, from, to);
    if (typeof source.move === 'function') {
      // The target may be held open a moment by a worker reading it.
      await whileBusy(() => source.move!(dir, target.name), BUSY_WAIT_MS);
      this.keep(to, source); // a moved handle names its new path
      return;
    }
    // No move(): write the target through its own writable, whose close() swaps the new content in atomically.
    const bytes = new Uint8Array(await (await source.getFile()).arrayBuffer());
    await this.writeWhole(await dir.getFileHandle(target.name, { create: true }), bytes, to);
    await this.remove(from);
  }

  /**
   * Rewrites the file at `from` if it is not strictly newer than the one at `to`: a moved file keeps its
   * own lastModified, and stat().version must change when `to` is replaced.
   */
  private async makeNewerThan(source: FileSystemFileHandle, from: string, to: string): Promise<void> {
    const [replaced, file] = await Promise.all([this.stat(to), source.getFile()]);
    if (replaced === undefined || file.lastModified > replaced.mtimeMs) return;
    // Rewrite it once the clock has passed the replaced file's time, and again if the file system's clock,
    // coarser than Date.now() (a few ms on Linux), has not (bounded, in case that time is ahead of ours).
    const giveUp = Date.now() + NEWER_WAIT_MS;
    let rewritten = file;
    do {
      while (Date.now() <= replaced.mtimeMs && Date.now() < giveUp) await sleep(1);
      await this.rewrite(source, rewritten, from);
      rewritten = await source.getFile();
      if (rewritten.lastModified <= replaced.mtimeMs) await sleep(1);
    } while (rewritten.lastModified <= replaced.mtimeMs && Date.now() < giveUp);
  }

  /** Writes a temporary file's content again, so that its lastModified is now. */
  protected async rewrite(source: FileSystemFileHandle, file: File, from: string): Promise<void> {
    await this.writeWhole(source, new Uint8Array(await file.arrayBuffer()), from, () => this.remove(from));
  }

  async append(path: string, data: Uint8Array): Promise<void> {
    const release = await acquireLock(`${this.lockPrefix}${path}#append`, APPEND_LOCK_MS, 'origin');
    try {
      await this.fresh(async () => this.appendLocked((await this.fileHandle(path, { create: true }))!, path, data));
    } finally {
      await release();
    }
  }

  /** Appends `data` at the end of the file (under the append lock), after a newline if its last line is unfinished. */
  protected async appendLocked(handle: FileSystemFileHandle, path: string, data: Uint8Array): Promise<void> {
    let writable: FileSystemWritableFileStream | undefined;
    try {
      writable = await handle.createWritable({ keepExistingData: true });
      const file = await handle.getFile();
      const ended = file.size === 0 || new Uint8Array(await file.slice(file.size - 1).arrayBuffer())[0] === NEWLINE;
      const bytes = ended ? data : afterNewline(data);
      await writable.write({ type: 'write', position: file.size, data: bytes as Uint8Array<ArrayBuffer> });
      await writable.close();
    } catch (error) {
      await writable?.abort().catch(() => undefined); // the file keeps its earlier lines
      if (await refusedByQuota(error, data.length)) throw quotaError(`${this.root}/${path}`, data.length, error);
      throw error;
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    return this.withFile(path, async (handle) => {
      const file = await handle.getFile();
      return { size: file.size, mtimeMs: file.lastModified, version: `${file.lastModified}:${file.size}` };
    });
  }

  async remove(path: string): Promise<boolean> {
    const { folder, name } = splitPath(path);
    if (name === '') throw new TypeError(`remove: expected a path inside the cache root, got ${JSON.stringify(path)}`);
    for (const kept of [this.folders, this.handles, this.temps]) {
      for (const known of [...kept.keys()]) {
        if (known === path || known.startsWith(`${path}/`)) kept.delete(known);
      }
    }
    const dir = await this.folder(folder, false);
    if (!dir) return false;
    try {
      // A file in it may be held open a moment by a worker reading it.
      await whileBusy(() => dir.removeEntry(name, { recursive: true }), BUSY_WAIT_MS);
    } catch (error) {
      if (isNamed(error, 'NotFoundError')) return false;
      throw error;
    }
    return true;
  }

  async list(path: string): Promise<string[]> {
    const dir = await this.folder(path, false) as ListableDirectoryHandle | undefined;
    if (!dir) return [];
    const names: string[] = [];
    try {
      for await (const name of dir.keys()) names.push(name);
    } catch (error) {
      if (isNamed(error, 'NotFoundError')) return [];
      throw error;
    }
    return names;
  }

  /**
   * A Web Lock named after the root and the path: exclusive across the origin's tabs and workers,
   * released by the browser if its holder's tab or worker dies. Nothing is written, transient or not.
   */
  lock(path: string, { timeoutMs }: { timeoutMs: number; transient?: boolean }): Promise<Release> {
    return acquireLock(`${this.lockPrefix}${path}`, timeoutMs, 'origin');
  }
}
