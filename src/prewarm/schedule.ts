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

export const DEFAULT_PREWARM_POLICY: PrewarmPolicy = {
  windowStart: 0.5,
  windowEnd: 0.8,
  retryBaseMs: 15_000,
  retryMaxMs: 5 * 60_000,
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

/** How long to wait before retrying after the `failures`-th failure in a row. */
export function retryDelayMs(failures: number, policy: PrewarmPolicy, random: () => number = Math.random): number {
  return Math.max(1000, backoffDelayMs(failures, { maxAttempts: Infinity, baseDelayMs: policy.retryBaseMs, maxDelayMs: policy.retryMaxMs }, random));
}
