// The pre-warm loop: keeps a node's registry tokens fresh in the shared cache ahead of the
// kubelet, so that its calls are hits. It knows nothing of the cloud or of files: each pass is
// given the cache and the registries to keep warm, each with its own fetch (the node's identity
// through the CR API in production, a simulated API in the fleet simulation), and it works under
// the same refresh lock as the kubelet path, so that the two never both make a token call.
import type { CacheStore } from '../cache/store.ts';
import type { Fetched } from '../provider/refresh-answer.ts';
import { fetchAndStore } from '../provider/refresh-answer.ts';
import { isCachedAnswer, isTokenEntry, type CachedAnswer, type TokenEntry } from '../provider/token-entry.ts';
import type { Clock } from '../resilience/clock.ts';
import { Deadline } from '../resilience/deadline.ts';
import type { RetryPolicy } from '../resilience/retry.ts';
import { afterSessionRenewal, MIN_USEFUL_GAIN_MS, prewarmAt, retryDelayMs, type PrewarmPolicy } from './schedule.ts';

/** Even with nothing due, a pass runs this often: new registries served, a changed config. */
export const RESCAN_MS = 60_000;
/** Someone else holds a token's refresh lock: look again this soon (they are writing it). */
const BUSY_RECHECK_MS = 5000;
/**
 * One attempt per call and try: the pre-warmer's own backoff between tries (schedule.ts) replaces
 * the clients' quick retries, which a waiting pull needs but a fleet in an outage would multiply.
 */
const ONE_ATTEMPT: RetryPolicy = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

/** One registry to keep warm: its cache key, and how to fetch a fresh credential for it. */
export interface WarmTarget {
  key: string;
  host: string;
  fetch(deadline: Deadline): Promise<Fetched>;
}

/** What one pass works on; undefined when there is nothing to do (pre-warm off, no usable cache). */
export interface PassSetup {
  cache: CacheStore;
  targets: readonly WarmTarget[];
  /** The node's jitter fraction for a key (schedule.ts). */
  jitter(key: string): number;
  /** Per refresh, as the kubelet's invocations have. */
  timeoutMs: number;
}

export type RefreshReport =
  | { kind: 'refreshed'; entry: TokenEntry; nextAt: number }
  | { kind: 'failed'; error: unknown; failures: number; retryAt: number; validUntil: number | undefined };

export interface PrewarmOptions {
  clock: Clock;
  signal: AbortSignal;
  policy: PrewarmPolicy;
  pass(): Promise<PassSetup | undefined>;
  /** Each refresh made (or failed): logs and counters. */
  onRefresh(target: WarmTarget, report: RefreshReport): void;
  /** The loop is going to sleep until `wakeAt` (tests wait for it). */
  onIdle?(wakeAt: number): void;
  random?: () => number;
  /** Default RESCAN_MS. */
  rescanMs?: number;
}

/** What the loop remembers about a key between passes. */
interface KeyState {
  /** Failed refreshes in a row. */
  failures: number;
  /** No refresh before this: a retry's backoff, or a session renewal awaited. */
  notBefore: number;
}

export async function runPrewarm(options: PrewarmOptions): Promise<void> {
  const { clock, signal } = options;
  const states = new Map<string, KeyState>();
  while (!signal.aborted) {
    const setup = await options.pass();
    let wakeAt = clock.now() + (options.rescanMs ?? RESCAN_MS);
    for (const target of setup?.targets ?? []) {
      if (signal.aborted || !setup) break;
      const next = await warmOne(setup, target, states.get(target.key), options);
      if (next.state) states.set(target.key, next.state);
      else states.delete(target.key);
      wakeAt = Math.min(wakeAt, next.wakeAt);
    }
    // Forget registries no longer kept warm.
    const keys = new Set((setup?.targets ?? []).map((t) => t.key));
    for (const key of states.keys()) if (!keys.has(key)) states.delete(key);
    options.onIdle?.(wakeAt);
    await clock.sleep(Math.max(0, wakeAt - clock.now()), signal);
  }
}

/** Refreshes one target if it is due; returns when to look at it again. */
async function warmOne(setup: PassSetup, target: WarmTarget, state: KeyState | undefined, options: PrewarmOptions): Promise<{ wakeAt: number; state?: KeyState }> {
  const { clock, policy } = options;
  const jitter = setup.jitter(target.key);
  const dueAt = (entry: TokenEntry | undefined): number => Math.max(entry ? prewarmAt(entry, jitter, policy) : 0, state?.notBefore ?? 0);
  const later = (wakeAt: number) => (state ? { wakeAt, state } : { wakeAt });
  const current = await setup.cache.get(target.key, isCachedAnswer);
  // "No credentials" (another account's instance) is the kubelet path's short-lived answer.
  if (current && !isTokenEntry(current)) return later(current.expiresAt);
  if (dueAt(current) > clock.now()) return later(dueAt(current));

  const taken = setup.cache.refreshLock(target.key)?.tryTake();
  // The kubelet path is refreshing it right now: it will be fresh when we look again.
  if (taken === 'held') return later(clock.now() + BUSY_RECHECK_MS);
  // No usable lock: refresh without it, as the kubelet path does.
  const release = typeof taken === 'function' ? taken : undefined;
  try {
    // Someone may have refreshed it between our read and our take.
    const latest = await setup.cache.get(target.key, isCachedAnswer);
    if (latest && isTokenEntry(latest) && dueAt(latest) > clock.now()) return later(dueAt(latest));
    const deadline = new Deadline(setup.timeoutMs, { clock, retryPolicy: ONE_ATTEMPT });
    let unwritten: string | undefined;
    const entry = await fetchAndStore({ cache: setup.cache, key: target.key, host: target.host, clock, warn: (message) => (unwritten = message) }, async () => {
      const fetched = await target.fetch(deadline);
      if (fetched.kind === 'none') throw new NoCredentialsError(fetched.reason);
      return fetched;
    });
    // A token nobody can read from the cache warms nothing.
    if (unwritten !== undefined) throw new Error(unwritten);
    if (!isTokenEntry(entry)) throw new NoCredentialsError('no credentials');
    const previous = latest && isTokenEntry(latest) ? latest : undefined;
    // No later expiry than before: the identity's session caps the token; wait for its renewal.
    const capped = previous !== undefined && entry.expiresAt - previous.expiresAt < MIN_USEFUL_GAIN_MS;
    const nextAt = capped ? Math.max(prewarmAt(entry, jitter, policy), afterSessionRenewal(entry, jitter)) : prewarmAt(entry, jitter, policy);
    options.onRefresh(target, { kind: 'refreshed', entry, nextAt });
    return capped ? { wakeAt: nextAt, state: { failures: 0, notBefore: nextAt } } : { wakeAt: nextAt };
  } catch (error) {
    const failures = (state?.failures ?? 0) + 1;
    const retryAt = clock.now() + retryDelayMs(failures, policy, options.random);
    options.onRefresh(target, { kind: 'failed', error, failures, retryAt, validUntil: current?.expiresAt });
    return { wakeAt: retryAt, state: { failures, notBefore: retryAt } };
  } finally {
    release?.();
  }
}

/** The registry answered "no credentials for this identity" (another account's instance). */
export class NoCredentialsError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NoCredentialsError';
  }
}
