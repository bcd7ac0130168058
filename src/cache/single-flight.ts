// Single-flight across processes. The kubelet execs one process per image, concurrently, so a
// cold node pulling twenty images from one registry would otherwise make twenty token calls.
// Exactly one process (the lock holder) refreshes; the others poll the cache until its result
// appears, for a bounded time, and only then refresh on their own.
import { sleep } from '../resilience/retry.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { tryLock } from './lock.ts';
import { RESERVE_FOR_OWN_REFRESH_MS } from './refresh-watch.ts';

export type FlightOutcome =
  | 'refreshed' // we held the lock and called the cloud
  | 'shared' // another process refreshed while we waited: no cloud call by us
  | 'unlocked'; // no usable lock (read-only cache, or waited too long): we called the cloud anyway

export interface SingleFlightOptions<T> {
  /** undefined when the cache directory is unusable: refresh straight away. */
  lockPath: string | undefined;
  readFresh: () => Promise<T | undefined>;
  refresh: () => Promise<T>;
  deadline: Deadline;
  maxWaitMs: number;
  onWarning: (message: string) => void;
  pollMs?: number;
}


export async function singleFlight<T>(options: SingleFlightOptions<T>): Promise<{ value: T; outcome: FlightOutcome }> {
  const { lockPath, readFresh, refresh, deadline } = options;
  if (lockPath === undefined) return { value: await refresh(), outcome: 'unlocked' };
  const waitBudget = Math.min(options.maxWaitMs, deadline.remainingMs() - RESERVE_FOR_OWN_REFRESH_MS);
  const waitUntil = Date.now() + Math.max(0, waitBudget);
  const pollMs = options.pollMs ?? 100;
  for (;;) {
    let release;
    try {
      release = await tryLock(lockPath, (reason) => options.onWarning(`refresh lock compromised: ${reason}`));
    } catch (error) {
      options.onWarning(`cannot take the refresh lock (${(error as NodeJS.ErrnoException).code ?? 'error'}); refreshing without it`);
      return { value: await refresh(), outcome: 'unlocked' };
    }
    if (release) {
      try {
        const shared = await readFresh();
        if (shared !== undefined) return { value: shared, outcome: 'shared' };
        return { value: await refresh(), outcome: 'refreshed' };
      } finally {
        await release();
      }
    }
    if (Date.now() >= waitUntil) {
      options.onWarning('another invocation has held the refresh lock too long; refreshing without it');
      return { value: await refresh(), outcome: 'unlocked' };
    }
    await sleep(pollMs / 2 + Math.random() * pollMs);
    const shared = await readFresh();
    if (shared !== undefined) return { value: shared, outcome: 'shared' };
  }
}
