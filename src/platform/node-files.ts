// The cache's file operations on Node's file system: atomic replace by rename, O_APPEND journals, and a
// lock folder that a crashed holder cannot leave behind for good.

import { randomBytes } from 'node:crypto';
import { appendFileSync, promises as fs, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { LockTimeoutError } from '../cache/errors.js';
import { TEMP_PREFIX, type FileStat, type Files } from '../cache/files.js';

const RENAME_RETRIES = 8; // Windows: a rename over a file that is open elsewhere fails for a moment
const STALE_LOCK_MS = 30_000; // a lock this old is broken even when its holder's pid looks alive (pid reuse)

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

export class NodeFiles implements Files {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private abs(path: string): string {
    return join(this.root, path);
  }

  async makeDir(path: string): Promise<void> {
    await fs.mkdir(this.abs(path), { recursive: true });
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    try {
      const buffer = await fs.readFile(this.abs(path));
      // A plain Uint8Array view: a Buffer's slice() shares memory, which decoders must not have to know.
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async readFrom(path: string, offset: number): Promise<Uint8Array | undefined> {
    let handle;
    try {
      handle = await fs.open(this.abs(path), 'r');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size <= offset) return new Uint8Array(0);
      const out = Buffer.allocUnsafe(size - offset);
      let at = 0;
      while (at < out.length) {
        const { bytesRead } = await handle.read(out, at, out.length - at, offset + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return new Uint8Array(out.buffer, out.byteOffset, at);
    } finally {
      await handle.close();
    }
  }

  async writeAtomic(path: string, data: Uint8Array): Promise<void> {
    const temp = await this.writeTemp(dirname(path), data);
    try {
      await this.rename(temp, path);
    } catch (error) {
      await fs.rm(this.abs(temp), { force: true });
      throw error;
    }
  }

  async writeTemp(folder: string, data: Uint8Array): Promise<string> {
    const temp = `${folder}/${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`;
    await fs.writeFile(this.abs(temp), data, { flag: 'wx' });
    return temp;
  }

  async rename(from: string, to: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.rename(this.abs(from), this.abs(to));
        return;
      } catch (error) {
        if (attempt >= RENAME_RETRIES || !isCode(error, 'EPERM', 'EBUSY', 'EACCES')) throw error;
        await sleep(5 * 2 ** attempt);
      }
    }
  }

  async append(path: string, data: Uint8Array): Promise<void> {
    await fs.appendFile(this.abs(path), data);
  }

  appendSyncAtExit(path: string, data: Uint8Array): boolean {
    appendFileSync(this.abs(path), data);
    return true;
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = await fs.stat(this.abs(path));
      return { size: s.size, mtimeMs: s.mtimeMs, version: `${s.ino}:${s.mtimeMs}:${s.size}` };
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async remove(path: string): Promise<boolean> {
    try {
      await fs.rm(this.abs(path), { recursive: true });
      return true;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async list(path: string): Promise<string[]> {
    try {
      return await fs.readdir(this.abs(path));
    } catch (error) {
      if (isCode(error, 'ENOENT')) return [];
      throw error;
    }
  }

  /**
   * Creating a file with O_EXCL is atomic: whoever creates it holds the lock. The holder's pid is its
   * content, so a waiter can tell a crashed holder (pid gone) from a busy one and break the lock by
   * renaming it away (only one of several waiters can win that rename).
   */
  async lock(path: string, { timeoutMs }: { timeoutMs: number }): Promise<() => Promise<void>> {
    const file = this.abs(path);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(file, `${process.pid}`, { flag: 'wx' });
        return async () => { rmSync(file, { force: true }); };
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error;
      }
      if (this.lockIsStale(file)) {
        const graveyard = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
        try {
          renameSync(file, graveyard);
          rmSync(graveyard, { force: true });
        } catch (error) {
          if (!isCode(error, 'ENOENT')) throw error;
        }
        continue;
      }
      const waited = Date.now() - started;
      if (waited > timeoutMs) throw new LockTimeoutError(file, waited);
      await sleep(Math.min(20, 1 + attempt));
    }
  }

  private lockIsStale(file: string): boolean {
    try {
      const owner = readFileSync(file, 'utf8');
      const age = Date.now() - statSync(file).mtimeMs;
      const pid = Number(owner);
      // An empty file: the holder is between creating and writing it (microseconds), or died there.
      if (owner === '') return age > 2_000;
      return !Number.isInteger(pid) || !alive(pid) || age > STALE_LOCK_MS;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false; // released meanwhile: just try again
      throw error;
    }
  }
}