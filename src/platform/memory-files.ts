// The cache's file operations in memory: the explicit fallback for browsers without an origin-private file
// system, and a quick storage for tests. The files of one root are shared by every MemoryFiles of that
// root in this JavaScript realm (a page or a worker) and last as long as it does.

import { CacheError } from '../cache/errors.js';
import type { FileStat, Files } from '../cache/files.js';
import { TEMP_PREFIX } from '../cache/layout.js';
import { quotaError } from './quota-error.js';
import { acquireLock, type Release } from './web-locks.js';

interface MemoryFile { data: Uint8Array; mtimeMs: number; version: number }
interface Store { files: Map<string, MemoryFile>; folders: Set<string>; bytes: number }

const stores = new Map<string, Store>();
let versions = 0;
let temps = 0;

export interface MemoryFilesOptions {
  /** Refuse writes that would take the root's files past this many bytes, as a browser's quota does. */
  quotaBytes?: number;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** The cache's files in memory, under a root name. */
export class MemoryFiles implements Files {
  /** `memory:/<folder>`, for messages and the paths save() returns. */
  readonly root: string;
  readonly kind = 'memory';
  private readonly store: Store;
  private readonly quotaBytes: number;

  /**
   * @param folder - the root's name; MemoryFiles of the same name share their files.
   * @param options - `quotaBytes` to simulate a storage quota.
   */
  constructor(folder: string, options: MemoryFilesOptions = {}) {
    this.root = `memory:/${folder.split('/').filter((s) => s !== '').join('/')}`;
    let store = stores.get(this.root);
    if (!store) stores.set(this.root, (store = { files: new Map(), folders: new Set(['']), bytes: 0 }));
    this.store = store;
    this.quotaBytes = options.quotaBytes ?? Infinity;
  }

  private put(path: string, data: Uint8Array): void {
    const replaced = this.store.files.get(path)?.data.length ?? 0;
    if (this.store.bytes - replaced + data.length > this.quotaBytes) {
      const refused = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      throw quotaError(`${this.root}/${path}`, data.length, refused);
    }
    this.makeFolders(parentOf(path));
    this.drop(path);
    this.store.files.set(path, { data, mtimeMs: Date.now(), version: ++versions });
    this.store.bytes += data.length;
  }

  private drop(path: string): boolean {
    const file = this.store.files.get(path);
    if (!file) return false;
    this.store.files.delete(path);
    this.store.bytes -= file.data.length;
    return true;
  }

  private makeFolders(path: string): void {
    for (let folder = path; folder !== '' && !this.store.folders.has(folder); folder = parentOf(folder)) this.store.folders.add(folder);
  }

  async makeDir(path: string): Promise<void> {
    this.makeFolders(path);
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    // A copy: loads may return views of the bytes read, which must not alias the stored file.
    return this.store.files.get(path)?.data.slice();
  }

  async readFrom(path: string, offset: number): Promise<Uint8Array | undefined> {
    return this.store.files.get(path)?.data.slice(offset);
  }

  async writeAtomic(path: string, data: Uint8Array): Promise<void> {
    this.put(path, data.slice());
  }

  async writeTemp(folder: string, data: Uint8Array): Promise<string> {
    const name = `${TEMP_PREFIX}${++temps}-${Math.random().toString(16).slice(2, 10)}`;
    const path = folder === '' ? name : `${folder}/${name}`;
    this.put(path, data.slice());
    return path;
  }

  async rename(from: string, to: string): Promise<void> {
    const file = this.store.files.get(from);
    if (!file) throw new CacheError('ENOENT', `rename: ${this.root}/${from} does not exist`, { path: `${this.root}/${from}` });
    this.drop(from);
    this.drop(to);
    this.makeFolders(parentOf(to));
    this.store.files.set(to, { data: file.data, mtimeMs: Date.now(), version: ++versions });
    this.store.bytes += file.data.length;
  }

  async append(path: string, data: Uint8Array): Promise<void> {
    const before = this.store.files.get(path)?.data ?? new Uint8Array(0);
    const after = new Uint8Array(before.length + data.length);
    after.set(before);
    after.set(data, before.length);
    this.put(path, after);
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const file = this.store.files.get(path);
    return file && { size: file.data.length, mtimeMs: file.mtimeMs, version: String(file.version) };
  }

  async remove(path: string): Promise<boolean> {
    if (this.drop(path)) return true;
    if (!this.store.folders.has(path) || path === '') return false;
    for (const p of [...this.store.files.keys()]) if (p.startsWith(`${path}/`)) this.drop(p);
    for (const f of [...this.store.folders]) if (f === path || f.startsWith(`${path}/`)) this.store.folders.delete(f);
    return true;
  }

  async list(path: string): Promise<string[]> {
    if (!this.store.folders.has(path)) return [];
    const prefix = path === '' ? '' : `${path}/`;
    const names = new Set<string>();
    for (const p of [...this.store.files.keys(), ...this.store.folders]) {
      if (p === path || !p.startsWith(prefix)) continue;
      names.add(p.slice(prefix.length).split('/')[0]);
    }
    return [...names];
  }

  /** An in-page lock: the memory is this realm's alone, so nothing beyond it can contend. */
  lock(path: string, { timeoutMs }: { timeoutMs: number; transient?: boolean }): Promise<Release> {
    return acquireLock(`dase-cache:${this.root}/${path}`, timeoutMs, 'page');
  }
}
