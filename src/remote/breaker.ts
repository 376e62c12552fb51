// When to stop asking a remote that fails: after repeated failures (or one timeout) the remote is skipped for a
// cooldown that doubles while it keeps failing, so that a down or slow server costs a computation nothing;
// refused credentials switch it off for good (they will not get better by retrying).

import type { RemoteError } from './backend.js';

const FAILURES_TO_OPEN = 2;
const FIRST_COOLDOWN_MS = 1000;
const MAX_COOLDOWN_MS = 30_000;

export class Breaker {
  private failures = 0;
  private openUntil = 0;
  private cooldownMs = FIRST_COOLDOWN_MS;
  /** Set when the remote refused the credentials: local-only from then on. */
  disabledBy: RemoteError | undefined;

  /** Whether an operation may go to the remote now. */
  allow(): boolean {
    return this.disabledBy === undefined && Date.now() >= this.openUntil;
  }

  /** Whether the remote is being skipped (after failures, or for good). */
  get open(): boolean {
    return !this.allow();
  }

  success(): void {
    this.failures = 0;
    this.cooldownMs = FIRST_COOLDOWN_MS;
  }

  failure(error: RemoteError): void {
    if (error.code === 'EREMOTEAUTH') {
      this.disabledBy = error;
      return;
    }
    this.failures++;
    if (this.failures >= FAILURES_TO_OPEN || error.code === 'ETIMEDOUT') {
      this.openUntil = Date.now() + this.cooldownMs;
      this.cooldownMs = Math.min(this.cooldownMs * 2, MAX_COOLDOWN_MS);
      this.failures = 0;
    }
  }
}
