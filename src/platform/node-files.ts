// The cache's file operations on Node's file system: atomic replace by rename, O_APPEND journals, and a
// lock that a crashed holder cannot keep.
//
// All calls are the synchronous ones, inside async methods: a stat or an append costs ~10 µs as a syscall
// but ~100 µs as a round trip through libuv's thread pool, and reading 8 MB with fs.promises.readFile
// (in 512 KiB pieces) took 4 ms more than one readFileSync. The event loop is blocked for about as long
// as the data takes to copy (~1 ms for 8 MB from the page cache), the cost of a compute-and-cache library.

import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync,
  renameSync, rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LockTimeoutError } from '../cache/errors.js';
import type { FileStat, Files } from '../cache/files.js';
import { TEMP_PREFIX } from '../cache/layout.js';

const RENAME_RETRIES = 8; // Windows: a rename over a file that is open elsewhere fails for a moment
// A lock held this long is broken even if its holder's pid looks alive (the pid may have been reused).
const STALE_LOCK_MS = 10 * 60_000;
// A lock token nobody has seen for this long (while its folder's marker says one was made) was deleted.
const LOST_TOKEN_MS = 2_000;

function isCode(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes((error as { code?: string }).code ?? '');
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

/** Creates an empty file unless one exists; true when this call made it. */
function createIfAbsent(file: string): boolean {
  try {
    writeFileSync(file, '', { flag: 'wx' });
    return true;
  } catch (error) {
    if (isCode(error, 'EEXIST')) return false;
    throw error;
  }
}

const NEWLINE = new Uint8Array([0x0a]);

let hostTagMemo: string | undefined;

/** A short tag of this host in temporary files' names: a pid says whether its writer lives only on its own host. */
function hostTag(): string {
  return (hostTagMemo ??= createHash('sha256').update(hostname()).digest('hex').slice(0, 8));
}

/** Writes all of `data` at the end of the open file. */
function writeAll(fd: number, data: Uint8Array): void {
  for (let at = 0; at < data.length;) at += writeSync(fd, data, at, data.length - at);
}

function renameWithRetries(from: string, to: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(from, to);
      return;
    } catch (error) {
      if (attempt >= RENAME_RETRIES || !isCode(error, 'EPERM', 'EBUSY', 'EACCES')) throw error;
      const until = Date.now() + 5 * 2 ** attempt;
      while (Date.now() < until) { /* Windows sharing violations clear within milliseconds */ }
    }
  }
}

export class NodeFiles implements Files {
  readonly root: string;
  readonly kind = 'disk';

  constructor(root: string) {
    this.root = resolve(root);
  }

  private abs(path: string): string {
    return join(this.root, path);
  }

  async makeDir(path: string): Promise<void> {
    mkdirSync(this.abs(path), { recursive: true });
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const file = this.abs(path);
    try {
      const buffer = readFileSync(file);
      // A plain Uint8Array view: a Buffer's slice() shares memory, which decoders must not have to know.
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async readFrom(path: string, offset: number): Promise<Uint8Array | undefined> {
    let fd: number;
    try {
      fd = openSync(this.abs(path), 'r');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= offset) return new Uint8Array(0);
      const out = new Uint8Array(size - offset);
      let at = 0;
      while (at < out.length) {
        const n = readSync(fd, out, at, out.length - at, offset + at);
        if (n === 0) break;
        at += n;
      }
      return out.subarray(0, at);
    } finally {
      closeSync(fd);
    }
  }

  async writeAtomic(path: string, data: Uint8Array): Promise<void> {
    const temp = await this.writeTemp(dirname(path), data);
    try {
      await this.rename(temp, path);
    } catch (error) {
      rmSync(this.abs(temp), { force: true });
      throw error;
    }
  }

  async writeTemp(folder: string, data: Uint8Array): Promise<string> {
    const temp = `${folder}/${TEMP_PREFIX}${process.pid}-${hostTag()}-${randomBytes(6).toString('hex')}`;
    try {
      writeFileSync(this.abs(temp), data, { flag: 'wx' });
    } catch (error) {
      rmSync(this.abs(temp), { force: true }); // a full disk leaves a partial file: it goes with the write
      throw error;
    }
    return temp;
  }

  writerGone(tempPath: string): boolean {
    const name = tempPath.slice(tempPath.lastIndexOf('/') + 1);
    const match = /^\.tmp-(\d+)-([0-9a-f]{8})-/.exec(name);
    return match !== null && match[2] === hostTag() && !alive(Number(match[1]));
  }

  async rename(from: string, to: string): Promise<void> {
    renameWithRetries(this.abs(from), this.abs(to));
  }

  async append(path: string, data: Uint8Array): Promise<void> {
    const fd = openSync(this.abs(path), 'a+');
    const size = fstatSync(fd).size;
    try {
      // A line left unfinished by a writer that was killed would swallow this one: end it first.
      const last = new Uint8Array(1);
      if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) writeAll(fd, NEWLINE);
      writeAll(fd, data);
    } catch (error) {
      // A part of a line (on a full disk) would join the next append's line, and both would be skipped.
      try { ftruncateSync(fd, size); } catch { /* the torn line is then skipped by its hash, at worst */ }
      throw error;
    } finally {
      closeSync(fd);
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = statSync(this.abs(path));
      return { size: s.size, mtimeMs: s.mtimeMs, version: `${s.ino}:${s.mtimeMs}:${s.size}` };
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async remove(path: string): Promise<boolean> {
    try {
      rmSync(this.abs(path), { recursive: true });
      return true;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async list(path: string): Promise<string[]> {
    try {
      return readdirSync(this.abs(path));
    } catch (error) {
      if (isCode(error, 'ENOENT')) return [];
      throw error;
    }
  }

  /**
   * The lock is a token file that moves: free, it is named `<path>`; held, it is renamed to
   * `<path>.<pid>.<nonce>`. A rename is atomic, so only one process can take the free token, and it
   * costs two renames per hold where creating and deleting a lock file costs a create and an unlink (on
   * some file systems 20x more). A token held by a process that died is taken over by renaming it
   * directly, which again only one waiter can win; a missing token is created with O_EXCL. A transient
   * lock removes its token on release instead, so locks named after keys leave no files behind.
   */
  async lock(path: string, { timeoutMs, transient = false }: { timeoutMs: number; transient?: boolean }): Promise<() => Promise<void>> {
    const free = this.abs(path);
    const mine = `${free}.${process.pid}.${randomBytes(4).toString('hex')}`;
    if (transient) mkdirSync(dirname(free), { recursive: true });
    const release = async () => {
      try {
        if (transient) rmSync(mine);
        else renameWithRetries(mine, free);
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw error; // taken over as stale: no longer ours to give back
      }
    };
    // A transient token is made by whichever waiter finds none, so one waiter can make a second token just
    // after another took the first. Whoever sees another live holder after its own rename gives way (at most
    // one goes on, or neither: both try again after a random pause).
    const alone = async (): Promise<boolean> => {
      if (!transient || !this.heldByAnother(free, mine)) return true;
      rmSync(mine, { force: true });
      await sleep(1 + Math.floor(Math.random() * 4));
      return false;
    };
    const started = Date.now();
    let missingSince: number | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        renameSync(free, mine);
        if (await alone()) return release;
        continue;
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw error;
      }
      const holder = this.holder(free);
      if (holder === undefined) {
        if (transient) {
          // A transient token exists only while held: make one (O_EXCL: one process does).
          createIfAbsent(free);
        } else {
          // No token in sight. A directory listing can miss a file while it is being renamed, so this may
          // be a token changing hands: only the process that makes the marker (once per folder) makes the
          // token, so there is never a second one. A token missing for long was deleted behind the cache.
          missingSince ??= Date.now();
          if (createIfAbsent(`${free}-made`) || Date.now() - missingSince > LOST_TOKEN_MS) createIfAbsent(free);
          else await sleep(1);
        }
        continue;
      }
      missingSince = undefined;
      if (holder.stale) {
        try {
          renameSync(holder.file, mine);
          if (await alone()) return release;
        } catch (error) {
          if (!isCode(error, 'ENOENT')) throw error; // another waiter took it over first
        }
        continue;
      }
      const waited = Date.now() - started;
      if (waited > timeoutMs) throw new LockTimeoutError(holder.file, waited);
      await sleep(Math.min(20, 1 + attempt));
    }
  }

  /** Whether a live process other than this holder (`mine`) holds a token of the lock too. */
  private heldByAnother(free: string, mine: string): boolean {
    return this.holders(free).some((h) => h.file !== mine && !h.stale);
  }

  /** The held token of a lock, if any, and whether its holder is gone. */
  private holder(free: string): { file: string; stale: boolean } | undefined {
    return this.holders(free)[0];
  }

  /** Every held token of a lock (one, but for the moment a transient lock's waiters sort out two). */
  private holders(free: string): { file: string; stale: boolean }[] {
    const dir = dirname(free);
    const prefix = `${free.slice(dir.length + 1)}.`;
    const found: { file: string; stale: boolean }[] = [];
    for (const name of readdirSync(dir)) {
      // Tokens are `<lock>.<pid>.<8 hex>`: another file whose name starts the same (the lock's own data file
      // beside it, another lock's token) is not one, and is never taken over.
      const token = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]{8}$/.exec(name.slice(prefix.length)) : null;
      if (!token) continue;
      const pid = Number(token[1]);
      const file = join(dir, name);
      try {
        // A rename updates ctime: how long the token has been held.
        const heldFor = Date.now() - statSync(file).ctimeMs;
        found.push({ file, stale: !Number.isInteger(pid) || !alive(pid) || heldFor > STALE_LOCK_MS });
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw error; // released meanwhile
      }
    }
    return found;
  }
}
