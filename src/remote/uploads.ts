// Uploads to the remote, in the background and bounded: a few at a time, and at most so many bytes waiting,
// beyond which new ones are dropped and counted (the local copy is there; `dase-cache remote push` publishes
// it later). settled() is what close() and process exit wait for.

const CONCURRENCY = 2;
const MAX_WAITING_BYTES = 512 * 2 ** 20;

interface Job {
  id: string;
  bytes: number;
  run: () => Promise<void>;
  done: () => void;
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
   * Queues an upload under an id (category/key): `run` does it and handles its own failures.
   * @returns false when the queue is full and the upload was dropped.
   */
  add(id: string, bytes: number, run: () => Promise<void>): boolean {
    if (this.waitingBytes + bytes > MAX_WAITING_BYTES && this.waiting.length > 0) return false;
    if (this.size === 0) this.idle = new Promise((resolve) => { this.markIdle = resolve; });
    const earlier = this.pending.get(id);
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    // A key's uploads go in order, so that its manifest ends up naming its last save.
    const chained = earlier ? earlier.then(() => finished) : finished;
    this.pending.set(id, chained);
    void chained.then(() => { if (this.pending.get(id) === chained) this.pending.delete(id); });
    this.waiting.push({ id, bytes, run: async () => { await earlier; await run(); }, done });
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
      void job.run().catch(() => undefined).finally(() => {
        this.running--;
        job.done();
        if (this.size === 0) this.markIdle();
        else this.pump();
      });
    }
  }
}
