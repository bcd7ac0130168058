// One overall deadline per invocation. The kubelet kills the plugin after a hard 60 s, so every
// network attempt, retry sleep and lock wait draws from this single budget, on the invocation's
// clock (the wall clock, or a virtual one in tests and the simulation).
import { systemClock, type Clock } from './clock.ts';

export class Deadline {
  readonly expiresAt: number;
  readonly clock: Clock;

  constructor(budgetMs: number, startedAt?: number, clock: Clock = systemClock) {
    this.clock = clock;
    this.expiresAt = (startedAt ?? clock.now()) + budgetMs;
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
