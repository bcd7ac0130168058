// What the cache answers for one token key, and who refreshes it when it cannot: served as it is
// (a hit), shared from another process's refresh (the refresh lock), or refreshed by us. Used by
// the kubelet path (provide.ts) and, with in-memory stores and a virtual clock, by the fleet
// simulation (test/sim). No I/O of its own: the slot and the refresher bring it.
import { awaitOrClaimRefresh, RESERVE_FOR_OWN_REFRESH_MS, type RefreshLock } from '../cache/refresh-lock.ts';
import type { Deadline } from '../resilience/deadline.ts';
import type { CacheOutcome } from './summary.ts';
import { cacheDurationMs, isFresh, isTokenEntry, type CachedAnswer, type TokenEntry } from './token-entry.ts';

/** One token key of a cache: its entry, and its refresh lock (opened only on a miss; undefined: none usable). */
export interface TokenSlot {
  read(): Promise<CachedAnswer | undefined>;
  lock(): RefreshLock | undefined;
}

export interface Answer {
  /** A token, or "no credentials" for a host of another account. */
  entry: CachedAnswer;
  cacheDurationMs: number;
  outcome: Extract<CacheOutcome, 'hit' | 'refreshed' | 'shared' | 'unlocked' | 'stale'>;
}

/** Refreshes the slot: `previous` is what the cache held (past its refresh point, perhaps still usable). */
export type Refresher = (previous: TokenEntry | undefined, outcome: 'refreshed' | 'unlocked') => Promise<Answer>;

export async function answerFromCache(slot: TokenSlot, deadline: Deadline, refresh: Refresher, warn: (message: string) => void): Promise<Answer> {
  const { clock } = deadline;
  const cached = await slot.read();
  const now = clock.now();
  if (cached && isFresh(cached, now)) return { entry: cached, cacheDurationMs: cacheDurationMs(cached, now), outcome: 'hit' };
  const previous = cached && isTokenEntry(cached) ? cached : undefined;
  const lock = slot.lock();
  if (!lock) return refresh(previous, 'unlocked');
  // Someone else may be refreshing this very token: wait for it here, before paying for the
  // miss path; otherwise take the lock so that later arrivals wait for us.
  const readFresh = async (): Promise<CachedAnswer | undefined> => {
    const entry = await slot.read();
    return entry && isFresh(entry, clock.now()) ? entry : undefined;
  };
  const waitMs = Math.max(0, deadline.remainingMs() - RESERVE_FOR_OWN_REFRESH_MS);
  const turn = await awaitOrClaimRefresh(lock, readFresh, { clock, maxWaitMs: waitMs });
  switch (turn.kind) {
    case 'shared':
      return { entry: turn.value, cacheDurationMs: cacheDurationMs(turn.value, clock.now()), outcome: 'shared' };
    case 'claimed':
      try {
        return await refresh(previous, 'refreshed');
      } finally {
        turn.release();
      }
    case 'timeout':
      warn('another invocation has held the refresh lock too long; refreshing without it');
      return refresh(previous, 'unlocked');
    case 'unavailable':
      warn(`cannot take the refresh lock (${turn.reason}); refreshing without it`);
      return refresh(previous, 'unlocked');
  }
}
