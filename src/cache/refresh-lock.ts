// The one refresh lock: single flight across processes for the refresh of one cached token. The
// kubelet execs one process per image, concurrently, and the pre-warmer runs beside them; without
// it a cold node pulling twenty images from one registry would make twenty token calls.
//
// The lock is the directory `<path>.claim` in the cache's checked locks/ directory, taken with an
// atomic mkdir by the first invocation that misses, before it loads the miss path: the others see
// at once that someone is on it and only wait for the result, without loading the cloud SDKs
// (~0.2 s of CPU each, which on a busy node is what delays the one process doing the work). The
// holder keeps the directory's mtime fresh and names itself in it; one untouched for
// LOCK_STALE_MS whose holder is gone is taken over (dir-lock.ts holds that rule). The lock only saves token calls: a lost
// race costs one extra call, never a wrong answer, so waiters give up before their own deadline
// and refresh on their own.
import { rmSync, utimesSync } from 'node:fs';
import type { Clock } from '../resilience/clock.ts';
import { tryDirLock } from './dir-lock.ts';

/** A lock untouched this long, whose holder is not alive, is taken over. */
export const LOCK_STALE_MS = 5000;
/**
 * Time kept back from the deadline for a waiter's own refresh after a fruitless wait. Until then a
 * waiter waits for a live holder: one whose refresh is slow (a loaded node, a slow API) only gets
 * slower if every waiter gives up and refreshes too, and a live holder cannot hold the lock past
 * its own deadline.
 */
export const RESERVE_FOR_OWN_REFRESH_MS = 8000;
const TOUCH_EVERY_MS = 1000;
const POLL_MS = 100;

/** The refresh lock of one cache key. The pre-warmer, the kubelet path and the simulation share it. */
export interface RefreshLock {
  /** Takes the lock (taking over a stale one): its release, `held` by a live holder, or why it cannot be made. */
  tryTake(): (() => void) | 'held' | { unavailable: string };
}

/** The lock as a directory `<path>.claim`; `path` is inside the cache's checked locks/ directory. */
export function dirRefreshLock(path: string): RefreshLock {
  const marker = `${path}.claim`;
  return {
    tryTake() {
      const taken = tryDirLock(marker, LOCK_STALE_MS, true);
      if (taken === 'held') return 'held';
      if (taken !== 'taken') return { unavailable: taken.error };
      // Liveness is a matter of real processes, so the touch runs on the wall clock whatever the
      // caller's clock; unref'd so that it never holds the process open.
      const timer = setInterval(() => {
        const now = new Date();
        try {
          utimesSync(marker, now, now);
        } catch {
          // gone or unwritable: the lock simply goes stale
        }
      }, TOUCH_EVERY_MS);
      timer.unref();
      return () => {
        clearInterval(timer);
        rmSync(marker, { recursive: true, force: true });
      };
    },
  };
}

export type RefreshTurn<T> =
  | { kind: 'shared'; value: T } // another process refreshed: use its result
  | { kind: 'claimed'; release: () => void } // our turn to refresh
  | { kind: 'timeout' } // waited long enough: refresh regardless
  | { kind: 'unavailable'; reason: string }; // the lock cannot be made: refresh without it

export interface AwaitOptions {
  clock: Clock;
  maxWaitMs: number;
  pollMs?: number;
  random?: () => number;
}

/**
 * Waits while someone else holds the lock (polling `readFresh`), and takes it when nobody does.
 * Returns as soon as a fresh value appears, including one written just before we took the lock.
 */
export async function awaitOrClaimRefresh<T>(lock: RefreshLock, readFresh: () => Promise<T | undefined>, options: AwaitOptions): Promise<RefreshTurn<T>> {
  const { clock } = options;
  const pollMs = options.pollMs ?? POLL_MS;
  const random = options.random ?? Math.random;
  const until = clock.now() + options.maxWaitMs;
  for (;;) {
    const release = lock.tryTake();
    if (typeof release === 'object') return { kind: 'unavailable', reason: release.unavailable };
    if (release !== 'held') {
      // The last holder may have written and let go between our read and our take.
      const value = await readFresh();
      if (value === undefined) return { kind: 'claimed', release };
      release();
      return { kind: 'shared', value };
    }
    if (clock.now() >= until) return { kind: 'timeout' };
    await clock.sleep(pollMs / 2 + random() * pollMs);
    const value = await readFresh();
    if (value !== undefined) return { kind: 'shared', value };
  }
}
