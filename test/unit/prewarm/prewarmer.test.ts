// runPrewarm in virtual time (the simulation's EventClock) with an in-memory cache and stub
// fetches: when it refreshes, what it leaves alone, and how it backs off.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProviderError } from '../../../src/errors.ts';
import { runPrewarm, type PassSetup, type RefreshReport, type WarmTarget } from '../../../src/prewarm/prewarmer.ts';
import { DEFAULT_PREWARM_POLICY, prewarmAt, SESSION_RENEWAL_LEAD_MS } from '../../../src/prewarm/schedule.ts';
import type { Fetched } from '../../../src/provider/refresh-answer.ts';
import { isTokenEntry, newTokenEntry, type TokenEntry } from '../../../src/provider/token-entry.ts';
import type { Deadline } from '../../../src/resilience/deadline.ts';
import { withRetry } from '../../../src/resilience/retry.ts';
import { EventClock } from '../../sim/event-clock.ts';
import { MemoryCache } from '../../sim/memory-cache.ts';

const MIN = 60_000;
const H = 60 * MIN;
const THRESHOLD = 15 * MIN;
const KEY = 'token:node:ee:cn-hangzhou:acme';

interface Run {
  clock: EventClock;
  cache: MemoryCache;
  reports: Array<{ at: number; report: RefreshReport }>;
  fetches: number[];
  stop(): Promise<void>;
}

/** A node with one registry whose fetch is `fetch` (default: a fresh 1-hour token). */
function start(fetch?: (clock: EventClock, deadline: Deadline) => Promise<Fetched>, setup: Partial<PassSetup> = {}): Run {
  const clock = new EventClock(0);
  const cache = new MemoryCache(clock);
  const reports: Run['reports'] = [];
  const fetches: number[] = [];
  const stop = new AbortController();
  const token = async (): Promise<Fetched> => ({ kind: 'token', entry: newTokenEntry('u', `pw-${clock.now()}`, clock.now(), clock.now() + H, THRESHOLD) });
  const target: WarmTarget = {
    key: KEY,
    host: 'acme-registry.cn-hangzhou.cr.aliyuncs.com',
    fetch: async (deadline) => {
      fetches.push(clock.now());
      return fetch ? fetch(clock, deadline) : token();
    },
  };
  clock.spawn(() =>
    runPrewarm({
      clock,
      signal: stop.signal,
      policy: DEFAULT_PREWARM_POLICY,
      random: () => 0.5,
      pass: async () => ({ cache, targets: [target], jitter: () => 0.5, timeoutMs: 30_000, ...setup }),
      onRefresh: (_t, report) => reports.push({ at: clock.now(), report }),
    }),
  );
  return {
    clock,
    cache,
    reports,
    fetches,
    async stop() {
      stop.abort();
      await clock.runUntil(clock.now() + 1);
    },
  };
}

const stored = (run: Run): Promise<TokenEntry | undefined> => run.cache.get(KEY, isTokenEntry);

describe('runPrewarm', () => {
  it('refreshes a registry with no token at once, then each token at its point in the window, never past the kubelet refresh point', async () => {
    const run = start();
    await run.clock.runUntil(6 * H);
    await run.stop();
    assert.equal(run.fetches[0], 0, 'a registry without a token: at once');
    for (let i = 1; i < run.fetches.length; i++) {
      const previous = newTokenEntry('u', 'p', run.fetches[i - 1]!, run.fetches[i - 1]! + H, THRESHOLD);
      assert.equal(run.fetches[i], prewarmAt(previous, 0.5, DEFAULT_PREWARM_POLICY), `refresh ${i}`);
      assert.ok(run.fetches[i]! < previous.refreshAt);
    }
    // 45-minute fresh periods, refreshed half-way into the 0.4-0.6 window: every 22.5 minutes.
    assert.equal(run.fetches.length, 1 + Math.floor((6 * H) / (22.5 * MIN)));
    assert.ok(run.reports.every((r) => r.report.kind === 'refreshed'));
  });

  it('leaves a token alone while the kubelet path holds its refresh lock, and looks again soon', async () => {
    const run = start();
    await run.clock.runUntil(MIN);
    const release = run.cache.refreshLock(KEY).tryTake();
    assert.equal(typeof release, 'function');
    await run.clock.runUntil(30 * MIN);
    assert.deepEqual(run.fetches, [0], 'the due refresh waits for the lock');
    // The holder writes a token and lets go: the pre-warmer finds it not due.
    await run.cache.set(KEY, newTokenEntry('u', 'from-kubelet', run.clock.now(), run.clock.now() + H, THRESHOLD), H);
    if (typeof release === 'function') release();
    await run.clock.runUntil(31 * MIN);
    await run.stop();
    assert.deepEqual(run.fetches, [0]);
    assert.equal((await stored(run))?.password, 'from-kubelet');
  });

  it('a failed refresh keeps the cached token, is reported with the time left, and is retried with backoff', async () => {
    let down = false;
    const run = start(async (clock) => {
      if (down) throw new ProviderError('api', 'CR API down (503)', { retryable: true });
      return { kind: 'token', entry: newTokenEntry('u', `pw-${clock.now()}`, clock.now(), clock.now() + H, THRESHOLD) };
    });
    await run.clock.runUntil(MIN);
    const before = await stored(run);
    down = true;
    await run.clock.runUntil(50 * MIN);
    const failures = run.reports.filter((r) => r.report.kind === 'failed');
    assert.ok(failures.length >= 3, `retried: ${failures.length}`);
    assert.deepEqual(await stored(run), before, 'the still-valid token stays');
    const first = failures[0]!.report;
    assert.ok(first.kind === 'failed' && first.validUntil === before?.expiresAt && first.failures === 1);
    // Backoff: full jitter (0.5 here) under a ceiling doubling from 1 to 10 minutes.
    const gaps = failures.slice(1).map((f, i) => f.at - failures[i]!.at);
    assert.deepEqual(gaps.slice(0, 6), [30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
    down = false;
    await run.clock.runUntil(70 * MIN);
    await run.stop();
    assert.equal(run.reports.at(-1)?.report.kind, 'refreshed', 'recovered once the API is back');
  });

  it('one attempt per try: the client retries under its deadline are off', async () => {
    let attempts = 0;
    const run = start(async (clock, deadline) => {
      await withRetry(async () => {
        attempts++;
        throw new ProviderError('throttled', 'Throttling.User', { retryable: true });
      }, { deadline });
      return assert.fail('unreachable');
    });
    await run.clock.runUntil(MIN);
    await run.stop();
    assert.equal(attempts, run.fetches.length);
  });

  it('a refresh that brings no later expiry (the node STS session caps it) waits for the session renewal instead of repeating', async () => {
    const sessionEnd = 3 * H;
    const run = start(async (clock) => ({ kind: 'token', entry: newTokenEntry('u', `pw-${clock.now()}`, clock.now(), Math.min(clock.now() + H, clock.now() < sessionEnd - SESSION_RENEWAL_LEAD_MS ? sessionEnd : clock.now() + H), THRESHOLD) }));
    await run.clock.runUntil(sessionEnd);
    await run.stop();
    const capped = run.fetches.filter((t) => t > 2 * H && t < sessionEnd - SESSION_RENEWAL_LEAD_MS);
    assert.ok(capped.length <= 1, `refreshes inside the capped hour before the renewal: ${capped.map((t) => (t - 2 * H) / MIN).join(', ')} min`);
    assert.ok(run.fetches.some((t) => t >= sessionEnd - SESSION_RENEWAL_LEAD_MS && t < sessionEnd - THRESHOLD), 'refreshed after the renewal, before the kubelet refresh point');
  });

  it('"no credentials" (another account): reported as a failure, nothing cached', async () => {
    const run = start(async () => ({ kind: 'none', reason: 'no instance named acme is visible' }));
    await run.clock.runUntil(MIN);
    await run.stop();
    assert.equal(await run.cache.get(KEY, (v): v is unknown => true), undefined);
    const report = run.reports[0]?.report;
    assert.ok(report?.kind === 'failed' && /no instance named acme/.test(String(report.error)));
  });

  it('a token that cannot be written to the cache counts as a failed refresh', async () => {
    const run = start(undefined);
    run.cache.set = async () => Promise.reject(new Error('ENOSPC'));
    await run.clock.runUntil(MIN);
    await run.stop();
    const report = run.reports[0]?.report;
    assert.ok(report?.kind === 'failed' && /ENOSPC/.test(String(report.error)), JSON.stringify(report));
  });
});
