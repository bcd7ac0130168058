// A clock for tests against the emulators that can jump ahead: time is the wall clock plus an
// offset that advance() raises, and a sleep ends after its time on the wall clock or as soon as a
// jump passes its end, whichever comes first. Real work (HTTP to the emulators, files) takes its
// real, short time; minutes and hours of token life pass in jumps. Share it with the emulators
// (CloudState.useClock) so that the tokens they issue expire in the same time.
import type { Clock } from '../../src/resilience/clock.ts';

interface Sleeper {
  wakeAt: number;
  wake(): void;
}

export class JumpingClock implements Clock {
  #offsetMs: number;
  readonly #sleepers = new Set<Sleeper>();

  /** Starts `startOffsetMs` ahead of the wall clock. */
  constructor(startOffsetMs = 0) {
    this.#offsetMs = startOffsetMs;
  }

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = {
        wakeAt: this.now() + ms,
        wake: () => {
          clearTimeout(timer);
          this.#sleepers.delete(sleeper);
          signal?.removeEventListener('abort', sleeper.wake);
          resolve();
        },
      };
      const timer = setTimeout(sleeper.wake, Math.max(0, ms));
      this.#sleepers.add(sleeper);
      signal?.addEventListener('abort', sleeper.wake, { once: true });
    });
  }

  /** Jumps `ms` ahead, waking every sleep that ends by then. */
  advance(ms: number): void {
    this.#offsetMs += ms;
    const now = this.now();
    for (const sleeper of [...this.#sleepers]) if (sleeper.wakeAt <= now) sleeper.wake();
  }
}
