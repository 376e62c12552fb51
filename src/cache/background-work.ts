// Work that must finish before a cache closes or its process exits: memoize's background writes, registered
// with the cache they write to, so that close() and process exit can start queued ones at once and wait.

/** A save that background work is still to make, as process exit hands it on. */
export interface PendingSave {
  category: string;
  key: string;
  value: unknown;
  metadata?: Record<string, unknown>;
}

/**
 * Work that close() and process exit wait for (memoize's background writes): `hurry` starts it now if it is
 * queued; `unfinished` tells the save it makes while it has not finished (for process.exit(), where nothing
 * asynchronous runs any more).
 */
export interface BackgroundWork {
  done: Promise<unknown>;
  hurry?: () => void;
  unfinished?: () => PendingSave | undefined;
}

/** The background work registered with one cache. */
export class BackgroundWorkSet {
  private readonly works = new Set<BackgroundWork>();

  get size(): number {
    return this.works.size;
  }

  /** Registers work; it leaves the set once done (or failed). */
  add(work: BackgroundWork): void {
    this.works.add(work);
    void work.done.then(() => this.works.delete(work), () => this.works.delete(work));
  }

  /** Waits for the work registered so far (and any it starts), starting queued work at once. */
  async settle(): Promise<void> {
    while (this.works.size > 0) {
      const works = [...this.works];
      for (const work of works) work.hurry?.();
      await Promise.all(works.map((w) => w.done.catch(() => undefined)));
      for (const work of works) this.works.delete(work);
    }
  }

  /** The saves that the work has not finished yet. */
  unfinishedSaves(): PendingSave[] {
    return [...this.works].flatMap((work) => work.unfinished?.() ?? []);
  }
}
