// `prewarm`: the DaemonSet's pre-warmer. Until SIGTERM, keeps the node's registry tokens fresh in
// the shared cache directory (runPrewarm), re-reading the node's provider config every pass, with
// the node's own identity, logging each refresh and counting it in the cache's counters journal.
import { hostname } from 'node:os';
import { prepareOwnCacheDir } from '../cache/cache-dir.ts';
import { openCacheStore, type CacheStore } from '../cache/store.ts';
import { loadConfig } from '../config/load.ts';
import type { FlagValues, ProviderConfig } from '../config/resolve.ts';
import { describeError, isProviderError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { appendToJournal, prewarmJournalLine } from '../metrics/journal.ts';
import { CloudSession } from '../provider/cloud-session.ts';
import { fetchToken } from '../provider/fetch-token.ts';
import { newSummary, type InvocationSummary } from '../provider/summary.ts';
import type { Clock } from '../resilience/clock.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { nodeWarmSpecs, type WarmSpec } from './node-targets.ts';
import { runPrewarm, type PassSetup, type RefreshReport, type WarmTarget } from './prewarmer.ts';
import { DEFAULT_PREWARM_POLICY, jitterFraction, type PrewarmPolicy } from './schedule.ts';

export interface PrewarmCommandOptions {
  flags: FlagValues;
  /** The node's name (NODE_NAME in the DaemonSet): seeds the per-node jitter. */
  nodeName?: string;
  clock: Clock;
  signal: AbortSignal;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  policy?: PrewarmPolicy;
  onIdle?: (wakeAt: number) => void;
}

export async function runPrewarmCommand(options: PrewarmCommandOptions): Promise<void> {
  const { clock, logger, env } = options;
  const node = options.nodeName || hostname();
  const said = new Set<string>();
  /** Says a line once until the condition it reports changes. */
  const once = (topic: string, level: 'info' | 'warn' | 'error', message: string): void => {
    const key = `${topic}\0${message}`;
    if (said.has(key)) return;
    for (const k of said) if (k.startsWith(`${topic}\0`)) said.delete(k);
    said.add(key);
    logger[level](message);
  };
  const calls = new Map<string, InvocationSummary>();
  let config: ProviderConfig | undefined;
  let journalDir: ReturnType<typeof prepareOwnCacheDir> | undefined;
  let openStore: CacheStore | undefined;
  /** Each pass opens the cache afresh (its path, mode or owner may have changed): close the last one. */
  const closeCache = (): void => {
    openStore?.close();
    openStore = undefined;
    if (journalDir?.usable) journalDir.dir.close();
    journalDir = undefined;
  };

  const pass = async (): Promise<PassSetup | undefined> => {
    try {
      config = await loadConfig(options.flags, env);
      once('config', 'info', `pre-warming with ${options.flags.config ?? 'the default config'} (node ${node})`);
    } catch (error) {
      once('config', 'error', `${describeError(error)}; ${config ? 'keeping the last good config' : 'not pre-warming until it loads'}`);
      if (!config) return undefined;
    }
    closeCache();
    // Even with pre-warm off: the DaemonSet's cache volume is created 0755, which the kubelet
    // path would refuse; this process is what makes it the provider's.
    journalDir = prepareOwnCacheDir(config.cacheDir);
    if (journalDir.usable && journalDir.tightenedFrom !== undefined) logger.info(`cache directory ${config.cacheDir} had mode ${journalDir.tightenedFrom.toString(8)} (ours, writable by nobody else): made it 700`);
    if (!config.prewarm.enabled) {
      once('state', 'info', 'pre-warm is off in the config (prewarm.enabled: false): the kubelet path refreshes tokens itself');
      return undefined;
    }
    if (!journalDir.usable) {
      once('state', 'error', `cache directory ${config.cacheDir} ${journalDir.reason}; nothing to pre-warm into (check the DaemonSet's cache volume)`);
      return undefined;
    }
    const cache = openCacheStore(journalDir.dir, (reason) => logger.warn(reason), clock);
    openStore = cache;
    const specs = await nodeWarmSpecs(config, cache, env, clock.now());
    const configured = specs.filter((s) => s.configured).length;
    once('state', 'info', `keeping ${specs.length} ${specs.length === 1 ? 'registry' : 'registries'} warm (${configured} from the config, ${specs.length - configured} served within ${Math.round(config.prewarm.servedWithinMs / 3600_000)}h): ${specs.map((s) => s.host).join(', ') || 'none yet'}`);
    const current = config;
    return {
      cache,
      timeoutMs: current.timeoutMs,
      jitter: (key) => jitterFraction(node, key),
      targets: specs.map((spec) => cloudTarget(spec, current, cache, logger, calls)),
    };
  };

  const onRefresh = (target: WarmTarget, report: RefreshReport): void => {
    const summary = calls.get(target.key);
    calls.delete(target.key);
    const callText = summary?.calls.map((c) => `${c.action}:${c.outcome}:${Math.round(c.ms)}ms`).join(',');
    if (report.kind === 'refreshed') {
      logger.info('prewarmed', { host: target.host, calls: callText, validFor: minutes(report.entry.expiresAt - clock.now()), next: `in ${minutes(report.nextAt - clock.now())}` });
    } else {
      const left = report.validUntil === undefined ? 'there is no cached token' : report.validUntil > clock.now() ? `the cached token stays in use for another ${minutes(report.validUntil - clock.now())}` : 'the cached token has expired';
      logger.warn(`pre-warm of ${target.host} failed (${describeError(report.error)}); ${left}; retrying in ${seconds(report.retryAt - clock.now())} (${report.failures} ${report.failures === 1 ? 'failure' : 'failures in a row'})`);
    }
    if (journalDir?.usable) {
      const errorClass = report.kind === 'failed' ? (isProviderError(report.error) ? report.error.errorClass : 'internal') : undefined;
      appendToJournal(journalDir.dir, prewarmJournalLine(summary?.calls ?? [], errorClass));
    }
  };

  try {
    await runPrewarm({ clock, signal: options.signal, policy: options.policy ?? DEFAULT_PREWARM_POLICY, pass, onRefresh, ...(options.onIdle ? { onIdle: options.onIdle } : {}) });
  } finally {
    closeCache();
  }
}

/** A registry fetched with the node's identity through the CR API, as the kubelet's miss path does. */
function cloudTarget(spec: WarmSpec, config: ProviderConfig, cache: CacheStore, logger: Logger, calls: Map<string, InvocationSummary>): WarmTarget {
  return {
    key: spec.key,
    host: spec.host,
    fetch: async (deadline: Deadline) => {
      const summary = newSummary();
      calls.set(spec.key, summary);
      const session = new CloudSession({ config, plan: spec.plan, deadline, logger, summary, cache });
      return fetchToken(spec.target, session);
    },
  };
}

function minutes(ms: number): string {
  return `${Math.max(0, Math.round(ms / 60_000))}m`;
}

function seconds(ms: number): string {
  return ms >= 120_000 ? minutes(ms) : `${Math.max(0, Math.round(ms / 1000))}s`;
}
