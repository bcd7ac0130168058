// One overall deadline per invocation. The kubelet kills the plugin after a hard 60 s, so every
// network attempt, retry sleep and lock wait draws from this single budget, on the invocation's
// clock (the wall clock, or a virtual one in tests and the simulation). It may also say how its
// calls retry: the pre-warmer, which has its own backoff between tries, makes one attempt per try.
import { systemClock, type Clock } from './clock.ts';
import type { RetryPolicy } from './retry.ts';

export interface DeadlineOptions {
  /** When the budget started (default: now). */
  startedAt?: number;
  clock?: Clock;
  /** For every retried call under this deadline (default: retry.ts DEFAULT_RETRY_POLICY). */
  retryPolicy?: RetryPolicy;
}

export class Deadline {
  readonly expiresAt: number;
  readonly clock: Clock;
  readonly retryPolicy: RetryPolicy | undefined;

  constructor(budgetMs: number, options: DeadlineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.expiresAt = (options.startedAt ?? this.clock.now()) + budgetMs;
    this.retryPolicy = options.retryPolicy;
  }

  remainingMs(now: number = this.clock.now()): number {
    return Math.max(0, this.expiresAt - now);
  }

  expired(now: number = this.clock.now()): boolean {
    return this.remainingMs(now) === 0;
  }

  /** Timeout for one attempt: the per-attempt cap, but never past the deadline. */
  attemptTimeoutMs(capMs: number): number {
    return Math.max(1, Math.min(capMs, this.remainingMs()));
  }
}
