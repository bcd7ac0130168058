// One overall deadline per invocation. The kubelet kills the plugin after a hard 60 s, so every
// network attempt, retry sleep and lock wait draws from this single budget.

export class Deadline {
  readonly expiresAt: number;

  constructor(budgetMs: number, now: number = Date.now()) {
    this.expiresAt = now + budgetMs;
  }

  remainingMs(now: number = Date.now()): number {
    return Math.max(0, this.expiresAt - now);
  }

  expired(now: number = Date.now()): boolean {
    return this.remainingMs(now) === 0;
  }

  /** Timeout for one attempt: the per-attempt cap, but never past the deadline. */
  attemptTimeoutMs(capMs: number): number {
    return Math.max(1, Math.min(capMs, this.remainingMs()));
  }
}
