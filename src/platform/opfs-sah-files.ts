// The cache's files on OPFS in a dedicated worker, through sync access handles: the same files, layout and
// promises as OpfsFiles (which keeps the folders, handles, stat, list, remove, locks and quota mapping), with
// the writes and large reads done by the worker's synchronous I/O instead of writables' swap files.
//
// - Atomic replace: a `.tmp-*` file is written through a sync access handle (write, flush, close), then
//   moved over the old file, as on the main thread. Readers see the old file or the new one.
// - Append (the journals): under the same Web Lock as the main thread's appends, a sync access handle writes
//   the line at the end in one write(), then flush and close. Readers in other contexts read the journal
//   through getFile(), which a sync handle does not block: mid-write they may see the start of the line
//   without its end, and the journal's reader takes only lines ended by a newline (and checks their hash),
//   so a partly written line is read again later, whole.
// - Whole files from 64 KiB are read through a shared read-only handle (in Chromium 2-5x faster than
//   getFile() from 256 KiB: 8 MB in ~4.5 ms against ~11). It blocks moves over the file and its removal in
//   every context while it is open, a few ms: OpfsFiles' move() and remove() wait for it. Smaller files, and
//   journal tails (readFrom), are read through getFile(), which locks nothing, so a reader never holds up an
//   appender. A browser whose handle ignores { mode: 'read-only' } is read through getFile() too.
// - A handle is closed in `finally`; one that cannot be opened (another context holds the file: NoModification-
//   AllowedError) is tried again briefly, then the write goes through OpfsFiles' writable instead. The append
//   lock is released in `finally` whatever happens.
// - Quota: Chromium lends a sync handle at least 1 MiB of quota for any write, so near the quota a small
//   write it refuses is made again through a writable, which needs only its own bytes; refused there too, it
//   is a CacheError 'EQUOTA', with the temporary file removed.

import { OpfsFiles, isNamed, whileBusy, afterNewline } from './opfs-files.js';

/** FileSystemSyncAccessHandle, which TypeScript's DOM library (pages, not workers) does not declare. */
interface SyncAccessHandle {
  readonly mode?: string;
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

interface SyncFileHandle extends FileSystemFileHandle {
  createSyncAccessHandle(options?: { mode: 'readwrite' | 'read-only' }): Promise<SyncAccessHandle>;
}

// Below this size getFile() reads as fast as a read-only handle, and locks nothing.
const SYNC_READ_MIN = 64 << 10;
// How long opening a handle waits for another context's handle on the file before the writable path.
const OPEN_WAIT_MS = 250;
const NEWLINE = 0x0a;

/**
 * Whether this context can use OpfsSahFiles: a dedicated worker whose OPFS file handles have
 * createSyncAccessHandle.
 * @returns false on the main thread, in shared and service workers, and where OPFS is missing.
 * @example
 * const files = syncAccessHandlesAvailable() ? new OpfsSahFiles('dase-cache') : new OpfsFiles('dase-cache');
 */
export function syncAccessHandlesAvailable(): boolean {
  const scope = (globalThis as { DedicatedWorkerGlobalScope?: abstract new () => unknown }).DedicatedWorkerGlobalScope;
  const fileHandle = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
  return typeof scope === 'function' && globalThis instanceof scope
    && typeof (fileHandle?.prototype as Partial<SyncFileHandle> | undefined)?.createSyncAccessHandle === 'function';
}

/** Writes all of `data` at `at`. */
function writeAll(access: SyncAccessHandle, data: Uint8Array, at: number): void {
  for (let done = 0; done < data.length;) {
    const n = access.write(data.subarray(done), { at: at + done });
    if (!(n > 0)) throw new Error(`a sync access handle wrote ${n} of ${data.length - done} bytes`);
    done += n;
  }
}

/**
 * The cache's files in a folder of the origin-private file system, for a dedicated worker: OpfsFiles with
 * data files, journals and index.json written through sync access handles, and large files read through
 * read-only ones. Tabs and workers on either class share one cache safely.
 * @example
 * const files = new OpfsSahFiles('dase-cache');        // in a dedicated worker
 * await files.writeAtomic('stencils/index.json', bytes); // temp file, sync write, move
 */
export class OpfsSahFiles extends OpfsFiles {
  // Until a browser's handle turns out to ignore { mode: 'read-only' } (it would lock others out).
  private readOnlyHandles = true;

  /** Opens a readwrite handle, waiting briefly for another context's to close; undefined if it does not. */
  private async openForWrite(handle: FileSystemFileHandle): Promise<SyncAccessHandle | undefined> {
    try {
      return await whileBusy(() => (handle as SyncFileHandle).createSyncAccessHandle(), OPEN_WAIT_MS);
    } catch (error) {
      if (isNamed(error, 'NotFoundError')) throw error; // its folder went: OpfsFiles' fresh() looks again
      return undefined;
    }
  }

  protected override async writeNew(handle: FileSystemFileHandle, data: Uint8Array, path: string, discard: () => Promise<unknown>): Promise<void> {
    const access = await this.openForWrite(handle);
    if (access) {
      try {
        writeAll(access, data, 0);
        access.flush();
        return;
      } catch {
        // Refused by the quota (or failed otherwise): the writable below says which, needing only these bytes.
      } finally {
        access.close();
      }
    }
    // A writable starts from an empty file, so whatever the handle wrote is dropped.
    await this.writeWhole(handle, data, path, discard);
  }

  protected override async rewrite(source: FileSystemFileHandle, file: File, from: string): Promise<void> {
    const access = file.size > 0 ? await this.openForWrite(source) : undefined;
    if (!access) return super.rewrite(source, file, from);
    try {
      // Its first byte written again: the file's time is now, its content the same.
      const first = new Uint8Array(1);
      access.read(first, { at: 0 });
      writeAll(access, first, 0);
      access.flush();
    } finally {
      access.close();
    }
  }

  protected override async appendLocked(handle: FileSystemFileHandle, path: string, data: Uint8Array): Promise<void> {
    const access = await this.openForWrite(handle);
    if (!access) return super.appendLocked(handle, path, data);
    let size = -1;
    try {
      size = access.getSize();
      const last = new Uint8Array(1);
      const ended = size === 0 || (access.read(last, { at: size - 1 }) === 1 && last[0] === NEWLINE);
      // One write: a reader sees a prefix of the line, and takes it only once its newline is there.
      writeAll(access, ended ? data : afterNewline(data), size);
      access.flush();
      return;
    } catch {
      // Part of a line would join the next append's and both would be skipped: cut it off, then let the
      // writable try (it needs only these bytes of quota, where a sync handle asks for 1 MiB) and say why.
      if (size >= 0) try { access.truncate(size); } catch { /* the torn line is then skipped by its hash */ }
    } finally {
      access.close();
    }
    return super.appendLocked(handle, path, data);
  }

  protected override async readWhole(handle: FileSystemFileHandle): Promise<Uint8Array> {
    if (!this.readOnlyHandles) return super.readWhole(handle);
    const file = await handle.getFile();
    if (file.size < SYNC_READ_MIN) return new Uint8Array(await file.arrayBuffer());
    return (await this.readShared(handle as SyncFileHandle)) ?? new Uint8Array(await file.arrayBuffer());
  }

  /** The whole file through a read-only handle; undefined when none can be had (another context writes it). */
  private async readShared(handle: SyncFileHandle): Promise<Uint8Array | undefined> {
    let access: SyncAccessHandle;
    try {
      access = await handle.createSyncAccessHandle({ mode: 'read-only' });
    } catch (error) {
      if (isNamed(error, 'NotFoundError')) throw error;
      return undefined;
    }
    try {
      if (access.mode !== 'read-only') {
        this.readOnlyHandles = false; // an exclusive handle: never again for a read
        return undefined;
      }
      // No one can change the file while the handle is open: its size and bytes are one version.
      const bytes = new Uint8Array(access.getSize());
      for (let at = 0; at < bytes.length;) {
        const n = access.read(bytes.subarray(at), { at });
        if (!(n > 0)) return undefined;
        at += n;
      }
      return bytes;
    } finally {
      access.close();
    }
  }
}
