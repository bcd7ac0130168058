// Fetching a registry credential into the cache, and the static-stability rule when that fails:
// shared by the kubelet's miss path (refresh.ts), the pre-warmer (src/prewarm) and the fleet
// simulation, each bringing its own fetch (the cloud, or a simulated API).
import type { CacheStore } from '../cache/store.ts';
import { describeError } from '../errors.ts';
import type { Clock } from '../resilience/clock.ts';
import type { Answer } from './answer.ts';
import { canServeStale, cacheDurationMs, isCachedAnswer, isFresh, isTokenEntry, newNoCredentialsEntry, staleCacheDurationMs, type CachedAnswer, type TokenEntry } from './token-entry.ts';

export type Fetched = { kind: 'token'; entry: TokenEntry } | { kind: 'none'; reason: string };

export interface StoreTarget {
  /** undefined: no usable cache (the answer is still returned). */
  cache: CacheStore | undefined;
  key: string;
  /** The registry host, kept with the entry (the docker helper's `list`, the pre-warmer). */
  host: string;
  clock: Clock;
  warn: (message: string) => void;
}

/** Fetches a fresh answer and caches it (only what a later call would accept). */
export async function fetchAndStore(target: StoreTarget, fetch: () => Promise<Fetched>): Promise<CachedAnswer> {
  const fetched = await fetch();
  const { cache, key, clock } = target;
  const entry: CachedAnswer = { ...(fetched.kind === 'token' ? fetched.entry : newNoCredentialsEntry(fetched.reason, clock.now())), host: target.host };
  // Lifetimes are clamped in token-entry.ts; an entry a later call would refuse is not written.
  if (isCachedAnswer(entry)) {
    await cache?.set(key, entry, entry.expiresAt - clock.now()).catch((error: unknown) => {
      // The code says it all (ENOSPC, EACCES); the message would name a temp file.
      const code = (error as NodeJS.ErrnoException).code;
      target.warn(`cannot write the token cache (${code ?? describeError(error)}); continuing without caching`);
    });
  }
  return entry;
}

/**
 * The kubelet's refresh: a fresh answer, or, when the fetch fails, the newest cached token while it
 * is still valid (static stability), with a short cache duration so that the kubelet asks again soon.
 */
export async function refreshOrServeStale(target: StoreTarget, fetch: () => Promise<Fetched>, previous: TokenEntry | undefined, outcome: 'refreshed' | 'unlocked'): Promise<Answer> {
  const { clock } = target;
  try {
    const entry = await fetchAndStore(target, fetch);
    return { entry, cacheDurationMs: cacheDurationMs(entry, clock.now()), outcome };
  } catch (error) {
    // Another process (the pre-warmer) may have stored a newer token meanwhile.
    const latest = (await target.cache?.get(target.key, isTokenEntry)) ?? previous;
    const now = clock.now();
    if (latest && isFresh(latest, now)) return { entry: latest, cacheDurationMs: cacheDurationMs(latest, now), outcome: 'shared' };
    if (latest && canServeStale(latest, now)) {
      target.warn(`token refresh failed (${describeError(error)}); serving the cached token, valid for another ${Math.round((latest.expiresAt - now) / 1000)}s`);
      return { entry: latest, cacheDurationMs: staleCacheDurationMs(latest, now), outcome: 'stale' };
    }
    throw error;
  }
}
