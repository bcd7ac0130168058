// When the pre-warmer refreshes a token. Pure: no I/O, all times in epoch ms.
//
// A token is fresh for the kubelet from obtainedAt to refreshAt (expiresAt minus the expiring
// threshold). The pre-warmer refreshes it inside that period, at a fraction between windowStart
// and windowEnd fixed per node and registry (jitter): the kubelet path never finds it due, a
// refresh that fails has the rest of the fresh period and the whole threshold to be retried
// before anything is served stale, and nodes that all got their tokens at once (a fleet boot,
// the end of an outage) spread their next refreshes over the window. A node keeps its fraction,
// so its refresh period differs from its neighbours' and the fleet drifts further apart each
// cycle. The defaults come from the fleet simulation (docs/fleet.md).
import { createHash } from 'node:crypto';
import { backoffDelayMs } from '../resilience/retry.ts';
import type { CachedAnswer } from '../provider/token-entry.ts';

export interface PrewarmPolicy {
  /** Earliest and latest pre-warm point, as fractions of the fresh period (obtainedAt to refreshAt). */
  windowStart: number;
  windowEnd: number;
  /** After a failed refresh: full-jitter backoff, retryBaseMs doubling per failure up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
}

/**
 * Sized with the fleet simulation (docs/fleet.md): the window's end leaves a 1-hour token 33 of
 * its 60 minutes, enough to ride out a 30-minute CR API outage that starts just before the
 * refresh (with the 1-minute stale safety); its width spreads a fleet whose tokens were all
 * fetched at once over 9 minutes at the next refresh. Retries back off to 10 minutes: during an
 * outage each registry costs the API one attempt per ~5 minutes, and after it the fleet's retries
 * spread over those 10 minutes instead of arriving together.
 */
export const DEFAULT_PREWARM_POLICY: PrewarmPolicy = {
  windowStart: 0.4,
  windowEnd: 0.6,
  retryBaseMs: 60_000,
  retryMaxMs: 10 * 60_000,
};

/** A node's fraction in [0, 1) for one token key: stable across restarts, different across nodes. */
export function jitterFraction(node: string, key: string): number {
  return createHash('sha256').update(`${node}\0${key}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** When this node pre-warms `entry`. */
export function prewarmAt(entry: Pick<CachedAnswer, 'obtainedAt' | 'refreshAt'>, jitter: number, policy: PrewarmPolicy): number {
  const fresh = Math.max(0, entry.refreshAt - entry.obtainedAt);
  const fraction = policy.windowStart + jitter * (policy.windowEnd - policy.windowStart);
  return entry.obtainedAt + Math.floor(fresh * fraction);
}

/**
 * The metadata service hands out the node's STS session until 30 minutes before it ends, and a
 * registry token never outlives the session that asked for it. So when a refresh brought no
 * later expiry, the token is capped by that session and another refresh helps only once the
 * session has been renewed.
 */
export const SESSION_RENEWAL_LEAD_MS = 30 * 60_000;
/** A refresh that moved the expiry by less than this changed nothing. */
export const MIN_USEFUL_GAIN_MS = 60_000;

/** When to refresh a token capped by its session: after the renewal, still ahead of the kubelet. */
export function afterSessionRenewal(entry: Pick<CachedAnswer, 'expiresAt' | 'refreshAt'>, jitter: number): number {
  const from = entry.expiresAt - SESSION_RENEWAL_LEAD_MS;
  const to = Math.max(from, entry.refreshAt - MIN_USEFUL_GAIN_MS);
  return Math.min(entry.refreshAt, Math.floor(from + jitter * (to - from)));
}

/** How long to wait before retrying after the `failures`-th failure in a row. */
export function retryDelayMs(failures: number, policy: PrewarmPolicy, random: () => number = Math.random): number {
  return Math.max(1000, backoffDelayMs(failures, { maxAttempts: Infinity, baseDelayMs: policy.retryBaseMs, maxDelayMs: policy.retryMaxMs }, random));
}
