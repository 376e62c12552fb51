// The cache's file operations on the browser's origin-private file system (OPFS), with the layout they
// have on disk in Node: one folder for the root, one per category, the same file names.
//
// - Atomic replace: data goes to a `.tmp-*` file written through createWritable() (which itself writes a
//   swap file and swaps it in on close()), then FileSystemFileHandle.move() puts it in place over the old
//   file in one step. Readers see the old file or the new one, never a partial one.
// - Append (the journals): createWritable({ keepExistingData: true }), a write at the end, close(), whose
//   swap makes the longer file appear at once, so a reader never sees a torn line. It copies the file,
//   which the journal's compaction keeps small (in Chromium ~5 ms per append, ~7 ms at 1 MiB); a sync access handle
//   would not copy but exists only in workers and locks the file against readers in other tabs. Appends to
//   one file are serialized by a Web Lock, as closes of two writables would otherwise drop one another.
// - stat().version is lastModified and size. A moved file keeps its own lastModified (its temp file's), so
//   rename() makes sure the new file is strictly newer than the one it replaces, else a replacement in the
//   same millisecond, at the same size, would go unnoticed by other tabs' index views.
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

function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string } | null)?.name === name;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

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
  private readonly rootSegments: string[];
  private readonly lockPrefix: string;
  private base: Promise<FileSystemDirectoryHandle> | undefined;
  // Folder handles by path: looking one up walks from the OPFS root, one call per level.
  private readonly folders = new Map<string, FileSystemDirectoryHandle>();

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
  private async folder(path: string, create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
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
  private async fresh<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!isNamed(error, 'NotFoundError')) throw error;
      this.folders.clear();
      this.base = undefined;
      return write();
    }
  }

  private async fileHandle(path: string): Promise<FileSystemFileHandle | undefined> {
    const { folder, name } = splitPath(path);
    const dir = await this.folder(folder, false);
    if (!dir) return undefined;
    try {
      return await dir.getFileHandle(name);
    } catch (error) {
      if (isNamed(error, 'NotFoundError')) return undefined;
      throw error;
    }
  }

  async makeDir(path: string): Promise<void> {
    await this.fresh(() => this.folder(path, true));
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    return this.readBytes(path, 0);
  }

  async readFrom(path: string, offset: number): Promise<Uint8Array | undefined> {
    return this.readBytes(path, offset);
  }

  private async readBytes(path: string, offset: number): Promise<Uint8Array | undefined> {
    for (let attempt = 1; ; attempt++) {
      const handle = await this.fileHandle(path);
      if (!handle) return undefined;
      try {
        const file = await handle.getFile();
        return new Uint8Array(await (offset > 0 ? file.slice(offset) : file).arrayBuffer());
      } catch (error) {
        if (isNamed(error, 'NotFoundError')) return undefined;
        // A File is a snapshot: replaced between getFile() and the read, it refuses to be read. Read the new one.
        if (isNamed(error, 'NotReadableError') && attempt < READ_ATTEMPTS) continue;
        throw error;
      }
    }
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
      await this.writeWhole(await dir.getFileHandle(name, { create: true }), data, path, () => dir.removeEntry(name));
    });
    return path;
  }

  /**
   * Writes the whole file through a writable (its close() swaps the content in); on failure the file keeps
   * its earlier content, and `discard` (removing a temporary file) runs before the error is thrown.
   */
  private async writeWhole(handle: FileSystemFileHandle, data: Uint8Array, path: string, discard?: () => Promise<unknown>): Promise<void> {
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
    const source = await this.fileHandle(from) as MovableFileHandle | undefined;
    if (!source) throw new CacheError('ENOENT', `rename: ${this.root}/${from} does not exist`, { path: `${this.root}/${from}` });
    const target = splitPath(to);
    const dir = (await this.fresh(() => this.folder(target.folder, true)))!;
    await this.makeNewerThan(source, from, to);
    if (typeof source.move === 'function') {
      await source.move(dir, target.name);
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
    const replaced = await this.stat(to);
    if (replaced === undefined) return;
    const file = await source.getFile();
    if (file.lastModified > replaced.mtimeMs) return;
    // Wait for the clock to pass it (bounded, in case the file's time is ahead of this clock).
    const giveUp = Date.now() + 100;
    while (Date.now() <= replaced.mtimeMs && Date.now() < giveUp) await sleep(1);
    await this.writeWhole(source, new Uint8Array(await file.arrayBuffer()), from, () => this.remove(from));
  }

  async append(path: string, data: Uint8Array): Promise<void> {
    const release = await acquireLock(`${this.lockPrefix}${path}#append`, APPEND_LOCK_MS, 'origin');
    try {
      await this.fresh(async () => {
        const { folder, name } = splitPath(path);
        const handle = await (await this.folder(folder, true))!.getFileHandle(name, { create: true });
        let writable: FileSystemWritableFileStream | undefined;
        try {
          writable = await handle.createWritable({ keepExistingData: true });
          const { size } = await handle.getFile();
          await writable.write({ type: 'write', position: size, data: data as Uint8Array<ArrayBuffer> });
          await writable.close();
        } catch (error) {
          await writable?.abort().catch(() => undefined); // the file keeps its earlier lines
          if (await refusedByQuota(error, data.length)) throw quotaError(`${this.root}/${path}`, data.length, error);
          throw error;
        }
      });
    } finally {
      await release();
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const handle = await this.fileHandle(path);
    if (!handle) return undefined;
    try {
      const file = await handle.getFile();
      return { size: file.size, mtimeMs: file.lastModified, version: `${file.lastModified}:${file.size}` };
    } catch (error) {
      if (isNamed(error, 'NotFoundError')) return undefined;
      throw error;
    }
  }

  async remove(path: string): Promise<boolean> {
    const { folder, name } = splitPath(path);
    if (name === '') throw new TypeError(`remove: expected a path inside the cache root, got ${JSON.stringify(path)}`);
    const dir = await this.folder(folder, false);
    if (!dir) return false;
    try {
      await dir.removeEntry(name, { recursive: true });
    } catch (error) {
      if (isNamed(error, 'NotFoundError')) return false;
      throw error;
    }
    for (const known of [...this.folders.keys()]) {
      if (known === path || known.startsWith(`${path}/`)) this.folders.delete(known);
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
