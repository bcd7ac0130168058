// One fleet run: N nodes x R registries in virtual time, driving the provider's own timing code
// (token-entry.ts refresh points and stale rule, answer.ts and refresh-lock.ts single flight,
// refresh-answer.ts, retry.ts backoff, the pre-warmer's loop, schedule and jitter) with in-memory
// caches (memory-cache.ts) and a simulated regional CR API (cr-api.ts).
//
// The scenario (times from the start of the run):
//   0-15m   the fleet boots: each node's pods pull from every registry (3 images each, at once)
//   hourly  5% of the nodes are replaced by new ones (an autoscaler): they boot with an empty cache
//           (none during the outage: a node with no token at all fails then whatever we do)
//   2h      the kubelet restarts on every node within 10 minutes (a node-pool-wide config change):
//           its in-memory answers are lost and the running pods' images are looked up again
//   3h30m   the region's CR API is down for 30 minutes (every attempt: 503)
//   6h      the end
//   always  pulls: each node pulls from each registry every 20 minutes on average (Poisson); the
//           kubelet calls the provider only when its own cache of our last answer has run out;
//           the API throttles beyond Q requests per second (Throttling.User)
// Nodes take their registry tokens with their ECS RAM role: STS sessions of 6 hours, a new one
// 30 minutes before the old one ends (the metadata service's rule), and a token never outlives
// the session that asked for it.
import { answerFromCache } from '../../src/provider/answer.ts';
import { refreshOrServeStale, type Fetched } from '../../src/provider/refresh-answer.ts';
import { isCachedAnswer, newTokenEntry } from '../../src/provider/token-entry.ts';
import { runPrewarm, type WarmTarget } from '../../src/prewarm/prewarmer.ts';
import { jitterFraction, type PrewarmPolicy } from '../../src/prewarm/schedule.ts';
import { isProviderError } from '../../src/errors.ts';
import { Deadline } from '../../src/resilience/deadline.ts';
import { withRetry } from '../../src/resilience/retry.ts';
import { SimulatedCrApi } from './cr-api.ts';
import { EventClock } from './event-clock.ts';
import { MemoryCache } from './memory-cache.ts';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

export interface FleetOptions {
  nodes: number;
  registries: number;
  tokenLifetimeMs: number;
  prewarm: PrewarmPolicy | undefined;
  throttlePerSecond: number;
  seed: number;
}

export const SCENARIO = {
  durationMs: 6 * HOUR,
  bootWindowMs: 15 * MIN,
  imagesPerRegistry: 3,
  churnPerHour: 0.05,
  kubeletRestartAt: 2 * HOUR,
  kubeletRestartWindowMs: 10 * MIN,
  outage: { from: 3.5 * HOUR, to: 4 * HOUR },
  pullMeanMs: 20 * MIN,
  thresholdMs: 15 * MIN,
  timeoutMs: 30 * S,
  stsLifetimeMs: 6 * HOUR,
  stsRotateBeforeMs: 30 * MIN,
  /** The pre-warmer's look at the cache for newly served registries (production: every minute; fewer events here). */
  rescanMs: 15 * MIN,
  servedWithinMs: 24 * HOUR,
} as const;

export interface FleetResult {
  options: FleetOptions;
  apiAttempts: number;
  apiPerHour: number;
  peakPerSecond: number;
  throttled: number;
  kubeletCalls: number;
  hits: number;
  /** Kubelet calls and hits on nodes past their first 5 minutes (a booting node has nothing cached). */
  callsAfterBoot: number;
  hitsAfterBoot: number;
  p99WaitMs: number;
  failed: number;
  failedDuringOutage: number;
  prewarmRefreshes: number;
  prewarmFailures: number;
  events: number;
  wallMs: number;
  /** Kubelet call outcomes by phase of the scenario (boot, restart, outage, steady). */
  outcomes: Map<string, number>;
}

function sum(counts: Map<string, number>, which: (key: string) => boolean): number {
  let total = 0;
  for (const [key, n] of counts) if (which(key)) total += n;
  return total;
}

/** A seeded PRNG (mulberry32): runs are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits in 10 ms buckets up to 60 s, for the p99. */
class WaitHistogram {
  readonly #buckets = new Uint32Array(6001);
  count = 0;
  add(ms: number): void {
    this.#buckets[Math.min(6000, Math.floor(ms / 10))]!++;
    this.count++;
  }
  percentile(p: number): number {
    let seen = 0;
    const want = Math.ceil(this.count * p);
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i]!;
      if (seen >= want) return i * 10;
    }
    return 60_000;
  }
}

export async function runFleet(options: FleetOptions): Promise<FleetResult> {
  const wallStart = performance.now();
  const random = seededRandom(options.seed);
  // The lock's poll jitter (refresh-lock.ts) draws from Math.random: seed it too.
  const savedRandom = Math.random;
  Math.random = seededRandom(options.seed + 1);
  // Throttling and outage errors are thrown by the hundred thousand: no stack traces.
  const savedStackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const clock = new EventClock(0);
  const api = new SimulatedCrApi({ clock, random, throttlePerSecond: options.throttlePerSecond, outage: SCENARIO.outage, durationMs: SCENARIO.durationMs });
  const waits = new WaitHistogram();
  const stats = { hits: 0, failed: 0, failedDuringOutage: 0, prewarmRefreshes: 0, prewarmFailures: 0 };
  const outcomes = new Map<string, number>();
  const count = (what: string): void => void outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
  const stop = new AbortController();
  const exp = (mean: number): number => -Math.log(1 - random()) * mean;
  const retryable = (e: unknown): boolean => isProviderError(e) && e.retryable;

  class Node {
    readonly name: string;
    readonly cache = new MemoryCache(clock);
    readonly registries: Array<{ key: string; host: string; kubeletCacheUntil: number; nextCallAt: number }> = [];
    readonly jitter = new Map<string, number>();
    stsPhase = 0;
    bootedAt = 0;
    wake = new AbortController();

    constructor(index: number) {
      this.name = `node-${index}`;
      for (let r = 0; r < options.registries; r++) {
        const key = `token:node-role:ee:cn-hangzhou:registry-${r}`;
        this.registries.push({ key, host: `registry-${r}-registry.cn-hangzhou.cr.aliyuncs.com`, kubeletCacheUntil: 0, nextCallAt: Infinity });
        this.jitter.set(key, jitterFraction(this.name, key));
      }
    }

    /** A new node on this slot: empty disk, a new STS session, the kubelet pulls everything. */
    boot(): void {
      this.cache.wipe();
      this.bootedAt = clock.now();
      this.stsPhase = clock.now(); // its first session starts at boot
      this.kubeletRestart();
    }

    kubeletRestart(): void {
      for (const reg of this.registries) {
        reg.kubeletCacheUntil = 0;
        reg.nextCallAt = clock.now();
      }
      this.wake.abort();
      this.wake = new AbortController();
    }

    /** What a kubelet call at `t` belongs to, for the outcome breakdown. */
    phase(t: number): string {
      if (t < this.bootedAt + 5 * MIN) return 'boot';
      if (t >= SCENARIO.outage.from && t < SCENARIO.outage.to) return 'outage';
      if (t >= SCENARIO.kubeletRestartAt && t < SCENARIO.kubeletRestartAt + SCENARIO.kubeletRestartWindowMs + 5 * MIN) return 'restart';
      return 'steady';
    }

    sessionEnd(now: number): number {
      const every = SCENARIO.stsLifetimeMs - SCENARIO.stsRotateBeforeMs;
      const issued = this.stsPhase + Math.floor((now - this.stsPhase) / every) * every;
      return issued + SCENARIO.stsLifetimeMs;
    }

    async fetch(deadline: Deadline): Promise<Fetched> {
      // The CR client's retries (acr/openapi-call.ts): the deadline's policy, else the default.
      await withRetry(() => api.attempt(), { deadline, isRetryable: retryable, random });
      const now = clock.now();
      const expiresAt = Math.min(now + options.tokenLifetimeMs, this.sessionEnd(now));
      return { kind: 'token', entry: newTokenEntry('cr_temp_user', 'password', now, expiresAt, SCENARIO.thresholdMs) };
    }

    /** One exec of the provider by the kubelet: the kubelet path's own code. */
    async pluginCall(reg: Node['registries'][number]): Promise<void> {
      const started = clock.now();
      const deadline = new Deadline(SCENARIO.timeoutMs, { clock });
      const target = { cache: this.cache, key: reg.key, host: reg.host, clock, warn: () => undefined };
      try {
        const answer = await answerFromCache(
          { read: () => this.cache.get(reg.key, isCachedAnswer), lock: () => this.cache.refreshLock(reg.key) },
          deadline,
          (previous, outcome) => refreshOrServeStale(target, () => this.fetch(deadline), previous, outcome),
          () => undefined,
        );
        this.cache.markServed(reg.key);
        if (answer.outcome === 'hit') stats.hits++;
        count(`${this.phase(started)} ${answer.outcome}`);
        reg.kubeletCacheUntil = Math.max(reg.kubeletCacheUntil, clock.now() + answer.cacheDurationMs);
      } catch (error) {
        count(`${this.phase(started)} failed`);
        stats.failed++;
        if (started >= SCENARIO.outage.from && started < SCENARIO.outage.to) stats.failedDuringOutage++;
      }
      waits.add(clock.now() - started);
    }

    /** The kubelet's lookups of one registry: bursts after a (re)start, then a pull whenever its cache ran out. */
    async kubelet(reg: Node['registries'][number]): Promise<void> {
      while (!stop.signal.aborted) {
        await clock.sleep(Math.max(0, reg.nextCallAt - clock.now()), this.wake.signal);
        if (stop.signal.aborted) return;
        if (clock.now() < reg.nextCallAt) continue; // woken by a restart: nextCallAt was reset
        const burst = reg.kubeletCacheUntil === 0 ? SCENARIO.imagesPerRegistry : 1;
        const calls = Array.from({ length: burst }, () => this.pluginCall(reg));
        await Promise.all(calls);
        // The next pull after our answer has run out in the kubelet's cache (Poisson pulls).
        reg.nextCallAt = Math.max(clock.now(), reg.kubeletCacheUntil) + exp(SCENARIO.pullMeanMs);
      }
    }

    async prewarm(policy: PrewarmPolicy): Promise<void> {
      const targets = this.registries.map((reg): WarmTarget => ({ key: reg.key, host: reg.host, fetch: (deadline) => this.fetch(deadline) }));
      await runPrewarm({
        clock,
        signal: stop.signal,
        policy,
        random,
        rescanMs: SCENARIO.rescanMs,
        pass: async () => ({
          cache: this.cache,
          timeoutMs: SCENARIO.timeoutMs,
          jitter: (key) => this.jitter.get(key) ?? 0,
          targets: targets.filter((t) => {
            const served = this.cache.lastServed(t.key);
            return served !== undefined && clock.now() - served <= SCENARIO.servedWithinMs;
          }),
        }),
        onRefresh: (_target, report) => void (report.kind === 'refreshed' ? stats.prewarmRefreshes++ : stats.prewarmFailures++),
      });
    }
  }

  const nodes = Array.from({ length: options.nodes }, (_, i) => new Node(i));
  // Actors: each node's kubelet (one loop per registry) and pre-warmer, and the scenario's events.
  for (const node of nodes) {
    for (const reg of node.registries) clock.spawn(() => node.kubelet(reg));
    if (options.prewarm) {
      const policy = options.prewarm;
      clock.spawn(() => node.prewarm(policy));
    }
  }
  const at = async (time: number, action: () => void): Promise<void> => {
    await clock.sleep(time - clock.now(), stop.signal);
    if (!stop.signal.aborted) action();
  };
  for (const node of nodes) {
    clock.spawn(() => at(random() * SCENARIO.bootWindowMs, () => node.boot()));
    clock.spawn(() => at(SCENARIO.kubeletRestartAt + random() * SCENARIO.kubeletRestartWindowMs, () => node.kubeletRestart()));
  }
  // Replacements through the run, but none during the outage: a node that boots then has no
  // token to fall back on, with or without the pre-warmer, and its failures would hide the others.
  const replacements = Math.round(options.nodes * SCENARIO.churnPerHour * (SCENARIO.durationMs / HOUR));
  const outageMs = SCENARIO.outage.to - SCENARIO.outage.from;
  for (let i = 0; i < replacements; i++) {
    const node = nodes[Math.floor(random() * nodes.length)]!;
    let when = SCENARIO.bootWindowMs + random() * (SCENARIO.durationMs - SCENARIO.bootWindowMs - outageMs);
    if (when >= SCENARIO.outage.from) when += outageMs;
    clock.spawn(() => at(when, () => node.boot()));
  }

  await clock.runUntil(SCENARIO.durationMs);
  stop.abort();
  await clock.runUntil(SCENARIO.durationMs + 2 * MIN);
  Math.random = savedRandom;
  Error.stackTraceLimit = savedStackLimit;

  let peak = 0;
  for (const n of api.perSecond) peak = Math.max(peak, n);
  return {
    options,
    apiAttempts: api.attempts,
    apiPerHour: api.attempts / (SCENARIO.durationMs / HOUR),
    peakPerSecond: peak,
    throttled: api.throttled,
    kubeletCalls: waits.count,
    hits: stats.hits,
    callsAfterBoot: sum(outcomes, (k) => !k.startsWith('boot ')),
    hitsAfterBoot: sum(outcomes, (k) => !k.startsWith('boot ') && k.endsWith(' hit')),
    p99WaitMs: waits.percentile(0.99),
    failed: stats.failed,
    failedDuringOutage: stats.failedDuringOutage,
    prewarmRefreshes: stats.prewarmRefreshes,
    prewarmFailures: stats.prewarmFailures,
    events: clock.events,
    outcomes,
    wallMs: performance.now() - wallStart,
  };
}
