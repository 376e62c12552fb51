// The file operations the cache needs, so that one cache runs on Node's file system and (later) on the
// browser's origin-private file system. Paths are '/'-separated and relative to the cache root.

export interface FileStat {
  size: number;
  /** Changes whenever the file is replaced (Node: inode and mtime). */
  version: string;
  mtimeMs: number;
}

export interface Files {
  /** Where the root is, for messages. */
  readonly root: string;
  /** What the files are on: the storage whose load costs the cache learns. */
  readonly kind: 'disk' | 'opfs' | 'memory';
  /** Creates the folder (and parents) if missing. */
  makeDir(path: string): Promise<void>;
  /** The whole file, or undefined when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** The bytes from `offset` to the end, or undefined when the file does not exist. */
  readFrom(path: string, offset: number): Promise<Uint8Array | undefined>;
  /** Writes to a temporary file in the same folder, then renames it over `path`: readers see old or new. */
  writeAtomic(path: string, data: Uint8Array): Promise<void>;
  /** Writes a new temporary file in `folder` and returns its path, for a later `rename` into place. */
  writeTemp(folder: string, data: Uint8Array): Promise<string>;
  /** Atomically replaces `to` by `from` (both in one folder). */
  rename(from: string, to: string): Promise<void>;
  /** Appends with one write call, so concurrent appenders never interleave inside a line. */
  append(path: string, data: Uint8Array): Promise<void>;
  stat(path: string): Promise<FileStat | undefined>;
  /** False when there was nothing to remove. */
  remove(path: string): Promise<boolean>;
  /** Names in the folder (files and folders), or [] when it does not exist. */
  list(path: string): Promise<string[]>;
  /**
   * Takes the named lock (exclusive across processes); resolves to its release. A lock whose holder died
   * is taken over. `transient`: the lock leaves nothing on disk once released (for locks named after keys).
   * @throws {LockTimeoutError} when a live holder keeps it longer than `timeoutMs`.
   */
  lock(path: string, options: { timeoutMs: number; transient?: boolean }): Promise<() => Promise<void>>;
  /**
   * Whether the writer of a temporary file is provably gone (its process id is in the name, on this host,
   * and no longer runs), so the file can go at once. Without it, temporary files go after a grace period.
   */
  writerGone?(tempPath: string): boolean;
}
