// Coordinating refreshes from the hit path, before the miss path is loaded. When a cold node
// starts many pulls at once, all but one invocation per registry only wait for a result; they
// need neither the cloud SDKs nor the lock library, which cost ~0.2 s of CPU per process to
// load, and on a busy node that CPU is what delays the one process doing the real work.
//
// Two markers next to each other, both directories whose mtime their owner keeps fresh:
// - `<path>.claim`: taken with an atomic mkdir here, by the first invocation that misses, before
//   it loads the miss path (so that the others see someone is on it at once);
// - `<path>.lock`: proper-lockfile's lock, taken by the miss path's single flight.
// A marker untouched for LOCK_STALE_MS belongs to a dead process and is ignored.
import { rmSync, utimesSync } from 'node:fs';
import { isDirLockFresh, takeDirLock } from './dir-lock.ts';

/** A lock untouched this long belongs to a dead process and may be taken over. */
export const LOCK_STALE_MS = 5000;
/** Waiters give a refreshing process this long before refreshing on their own. */
export const MAX_REFRESH_WAIT_MS = 20_000;
/** Time kept back from the deadline for a waiter's own refresh after a fruitless wait. */
export const RESERVE_FOR_OWN_REFRESH_MS = 8000;
const TOUCH_EVERY_MS = 1000;

export type RefreshTurn<T> =
  | { kind: 'shared'; value: T } // another process refreshed: use its result
  | { kind: 'claimed'; release: () => void } // our turn to refresh
  | { kind: 'timeout' }; // waited long enough: refresh regardless

/**
 * Waits while another process is refreshing `lockPath` (polling `readFresh`), and claims the
 * refresh when nobody is. Returns as soon as a fresh value appears.
 */
export async function awaitOrClaimRefresh<T>(lockPath: string, readFresh: () => Promise<T | undefined>, maxWaitMs: number, pollMs = 100): Promise<RefreshTurn<T>> {
  const until = Date.now() + maxWaitMs;
  for (;;) {
    if (!isDirLockFresh(`${lockPath}.claim`, LOCK_STALE_MS) && !isDirLockFresh(`${lockPath}.lock`, LOCK_STALE_MS)) {
      // The last refresher may have finished between our read and now.
      const value = await readFresh();
      if (value !== undefined) return { kind: 'shared', value };
      const release = claim(`${lockPath}.claim`);
      if (release) return { kind: 'claimed', release };
    }
    if (Date.now() >= until) return { kind: 'timeout' };
    await new Promise((resolve) => setTimeout(resolve, pollMs / 2 + Math.random() * pollMs));
    const value = await readFresh();
    if (value !== undefined) return { kind: 'shared', value };
  }
}

/** Takes the claim (a stale one, left by a dead process, is taken over). The marker's directory
 *  is the cache's checked locks/ directory (store.ts), reached through its descriptor. */
function claim(marker: string): (() => void) | undefined {
  if (!takeDirLock(marker, LOCK_STALE_MS)) return undefined;
  // Keep the claim fresh while we work; unref'd so it never holds the process open.
  const timer = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(marker, now, now);
    } catch {
      // gone or unwritable: the claim simply goes stale
    }
  }, TOUCH_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    rmSync(marker, { recursive: true, force: true });
  };
}
