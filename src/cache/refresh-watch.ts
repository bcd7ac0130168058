// Waiting for another process's refresh without loading the miss path. When a cold node starts
// many pulls at once, all but one invocation only wait for the lock holder's result; they need
// neither the cloud SDKs nor the lock library, which cost ~0.2 s of CPU per process to load.
// A lock is `<path>.lock`, a directory whose mtime the holder refreshes (proper-lockfile).
import { statSync } from 'node:fs';

/** A lock untouched this long belongs to a dead process and may be taken over. */
export const LOCK_STALE_MS = 5000;
/** Waiters give a refreshing lock holder this long before refreshing on their own. */
export const MAX_REFRESH_WAIT_MS = 20_000;
/** Time kept back from the deadline for a waiter's own refresh after a fruitless wait. */
export const RESERVE_FOR_OWN_REFRESH_MS = 8000;

/**
 * While a live refresh lock for `lockPath` exists, polls `readFresh` until it yields a value,
 * the lock goes away (one last read), the lock goes stale, or `maxWaitMs` passes.
 * Returns undefined when there was nothing (left) to wait for.
 */
export async function waitForRunningRefresh<T>(lockPath: string, readFresh: () => Promise<T | undefined>, maxWaitMs: number, pollMs = 100): Promise<T | undefined> {
  const until = Date.now() + maxWaitMs;
  while (Date.now() < until) {
    const lock = lockState(`${lockPath}.lock`);
    if (lock !== 'held') return lock === 'absent' ? readFresh() : undefined;
    await new Promise((resolve) => setTimeout(resolve, pollMs / 2 + Math.random() * pollMs));
    const value = await readFresh();
    if (value !== undefined) return value;
  }
  return undefined;
}

function lockState(lockDir: string): 'held' | 'stale' | 'absent' {
  try {
    return Date.now() - statSync(lockDir).mtimeMs > LOCK_STALE_MS ? 'stale' : 'held';
  } catch {
    return 'absent';
  }
}
