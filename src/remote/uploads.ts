// Uploads to the remote, in the background and bounded: a few at a time, and at most so many bytes waiting,
// beyond which new ones are dropped and counted (the local copy is there; `dase-cache remote push` publishes
// it later). A newer save of a key replaces its upload still waiting, so that a key's manifest ends up
// naming its last save. settled() is what close() and process exit wait for.

const CONCURRENCY = 2;
const MAX_WAITING_BYTES = 512 * 2 ** 20;

interface Job {
  id: string;
  bytes: number;
  /** The key's upload before this one, which must end first. */
  after: Promise<void> | undefined;
  run: () => Promise<void>;
  done: () => void;
  /** Called when a newer upload of the key replaces this one before it started. */
  superseded?: () => void;
}

export class UploadQueue {
  private readonly waiting: Job[] = [];
  private running = 0;
  private waitingBytes = 0;
  private readonly pending = new Map<string, Promise<void>>();
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  /** Uploads queued or running. */
  get size(): number {
    return this.waiting.length + this.running;
  }

  /**
   * Queues an upload under an id (category/key): `run` does it and handles its own failures. An upload of the
   * same id still waiting is replaced (its `superseded` is called): only the newest save is worth sending.
   * @returns false when the queue is full and the upload was dropped.
   */
  add(id: string, bytes: number, run: () => Promise<void>, superseded?: () => void): boolean {
    const queued = this.waiting.find((job) => job.id === id);
    if (queued) {
      this.waitingBytes += bytes - queued.bytes;
      const replaced = queued.superseded;
      Object.assign(queued, { bytes, run, superseded });
      replaced?.();
      return true;
    }
    if (this.waitingBytes + bytes > MAX_WAITING_BYTES && this.waiting.length > 0) return false;
    if (this.size === 0) this.idle = new Promise((resolve) => { this.markIdle = resolve; });
    const earlier = this.pending.get(id);
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    // A key's uploads go in order, so that its manifest ends up naming its last save.
    const chained = earlier ? earlier.then(() => finished) : finished;
    this.pending.set(id, chained);
    void chained.then(() => { if (this.pending.get(id) === chained) this.pending.delete(id); });
    this.waiting.push({ id, bytes, after: earlier, run, done, superseded });
    this.waitingBytes += bytes;
    this.pump();
    return true;
  }

  /** Resolves once the uploads of this id queued so far are done (at once when there are none). */
  uploadOf(id: string): Promise<void> {
    return this.pending.get(id) ?? Promise.resolve();
  }

  /** Resolves once every upload queued so far (and any queued meanwhile) is done. */
  async settled(): Promise<void> {
    while (this.size > 0) await this.idle;
  }

  private pump(): void {
    while (this.running < CONCURRENCY && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.waitingBytes -= job.bytes;
      this.running++;
      void (async () => { await job.after; await job.run(); })().catch(() => undefined).finally(() => {
        this.running--;
        job.done();
        if (this.size === 0) this.markIdle();
        else this.pump();
      });
    }
  }
}
